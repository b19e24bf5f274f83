//! Transfer syntaxes: how a data set is encoded (VR explicit or implicit, byte order, deflate,
//! encapsulated pixel data), looked up in dicom-transfer-syntax-registry.

use dicom_encoding::transfer_syntax::{Codec, Endianness, TransferSyntaxIndex};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use std::fmt;

/// How elements are encoded: the two properties the parser and writer need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Encoding {
    /// Explicit VR (true) or Implicit VR (false).
    pub explicit_vr: bool,
    /// Big endian byte order (only Explicit VR Big Endian, retired but still found).
    pub big_endian: bool,
}

impl Encoding {
    /// Implicit VR Little Endian.
    pub const IMPLICIT_LE: Encoding = Encoding { explicit_vr: false, big_endian: false };
    /// Explicit VR Little Endian.
    pub const EXPLICIT_LE: Encoding = Encoding { explicit_vr: true, big_endian: false };
    /// Explicit VR Big Endian.
    pub const EXPLICIT_BE: Encoding = Encoding { explicit_vr: true, big_endian: true };
}

/// A transfer syntax kamei can read and write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferSyntax {
    /// The UID.
    pub uid: String,
    /// The element encoding of the data set.
    pub encoding: Encoding,
    /// Whether the data set (after the file meta) is deflated.
    pub deflated: bool,
    /// Whether pixel data is encapsulated (compressed).
    pub encapsulated: bool,
}

/// The transfer syntax UID is not one kamei knows how to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTransferSyntax {
    /// The UID (a transfer syntax UID is never patient data).
    pub uid: String,
}

impl fmt::Display for UnknownTransferSyntax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown transfer syntax {}", crate::shown::uid(&self.uid))
    }
}

impl std::error::Error for UnknownTransferSyntax {}

/// Prefix of the standard's compressed-pixel transfer syntaxes: PS3.5 §10 requires every one of
/// them to use Explicit VR Little Endian with encapsulated pixel data, so one the registry does not
/// list yet can still be read.
const COMPRESSED_PREFIX: &str = "1.2.840.10008.1.2.4.";

impl TransferSyntax {
    /// Implicit VR Little Endian (1.2.840.10008.1.2), the default transfer syntax.
    pub fn implicit_le() -> TransferSyntax {
        TransferSyntax::native("1.2.840.10008.1.2", Encoding::IMPLICIT_LE)
    }

    /// Explicit VR Little Endian (1.2.840.10008.1.2.1).
    pub fn explicit_le() -> TransferSyntax {
        TransferSyntax::native("1.2.840.10008.1.2.1", Encoding::EXPLICIT_LE)
    }

    /// Explicit VR Big Endian (1.2.840.10008.1.2.2, retired).
    pub fn explicit_be() -> TransferSyntax {
        TransferSyntax::native("1.2.840.10008.1.2.2", Encoding::EXPLICIT_BE)
    }

    fn native(uid: &str, encoding: Encoding) -> TransferSyntax {
        TransferSyntax { uid: uid.to_string(), encoding, deflated: false, encapsulated: false }
    }

    /// Look up a transfer syntax by UID (padding trimmed).
    ///
    /// # Errors
    /// [`UnknownTransferSyntax`] for a UID neither the registry nor PS3.5 §10 describes.
    pub fn from_uid(uid: &str) -> Result<TransferSyntax, UnknownTransferSyntax> {
        let uid = uid.trim_matches(|c| c == '\0' || c == ' ');
        if let Some(ts) = TransferSyntaxRegistry.get(uid) {
            let encoding = Encoding {
                // The registry has no accessor for it; Implicit VR Little Endian is the only
                // implicit-VR transfer syntax the standard defines (PS3.5 §10.1).
                explicit_vr: uid != "1.2.840.10008.1.2",
                big_endian: ts.endianness() == Endianness::Big,
            };
            let (deflated, encapsulated) = match ts.codec() {
                Codec::None => (false, false),
                Codec::Dataset(_) => (true, false),
                Codec::EncapsulatedPixelData(..) => (false, true),
            };
            return Ok(TransferSyntax { uid: uid.to_string(), encoding, deflated, encapsulated });
        }
        if uid.starts_with(COMPRESSED_PREFIX) && uid.len() > COMPRESSED_PREFIX.len() {
            return Ok(TransferSyntax {
                uid: uid.to_string(),
                encoding: Encoding::EXPLICIT_LE,
                deflated: false,
                encapsulated: true,
            });
        }
        Err(UnknownTransferSyntax { uid: uid.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_native_and_deflated_syntaxes() {
        assert_eq!(TransferSyntax::from_uid("1.2.840.10008.1.2").unwrap().encoding, Encoding::IMPLICIT_LE);
        assert_eq!(TransferSyntax::from_uid("1.2.840.10008.1.2.1\0").unwrap().encoding, Encoding::EXPLICIT_LE);
        assert_eq!(TransferSyntax::from_uid("1.2.840.10008.1.2.2").unwrap().encoding, Encoding::EXPLICIT_BE);
        assert!(TransferSyntax::from_uid("1.2.840.10008.1.2.1.99").unwrap().deflated);
    }

    #[test]
    fn compressed_syntaxes_are_encapsulated_explicit_le() {
        for uid in
            ["1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.999"]
        {
            let ts = TransferSyntax::from_uid(uid).unwrap();
            assert!(ts.encapsulated, "{uid}");
            assert_eq!(ts.encoding, Encoding::EXPLICIT_LE);
        }
    }

    #[test]
    fn private_transfer_syntax_is_an_error_naming_it() {
        let err = TransferSyntax::from_uid("1.3.46.670589.33.1.4.1").unwrap_err();
        assert_eq!(err.to_string(), "unknown transfer syntax 1.3.46.670589.33.1.4.1");
    }
}
