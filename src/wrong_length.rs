//! Signs that a text value ran over the elements after it: a wrong length field.
//!
//! A length field that is too long (one flipped bit) makes the parser read the elements that
//! follow as part of one value: a kept Manufacturer or Modality then holds the Patient Name, ID
//! and Birth Date behind their element headers, and released as it is, it releases them. Text
//! VRs allow no C0 control byte but ESC, and LT, ST and UT also LF, CR, FF and TAB (PS3.5
//! 6.1.2, 6.2); NUL only as trailing padding. An element header almost always holds such a
//! byte (the zero high byte of a group below 0x0100, of an element number or of a short
//! length), so a text value holding one is damaged; when the bytes around it read as an element
//! header, it is a swallowed element. `deid` refuses a file whose written value swallowed
//! elements and replaces a kept value holding other such bytes by a dummy; `verify` lists both.

use crate::dataset::{Tag, VR};

/// What a text value holds that its VR does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// Bytes that read as the header of another element (a tag the standard defines followed
    /// by a VR code or by a length that fits in the rest of the value, or a private tag
    /// followed by a VR code): the value ran over the elements after it.
    SwallowedElements,
    /// A NUL before the end, or a control byte the VR's repertoire does not allow, not shaped
    /// as an element header.
    ForeignBytes,
}

/// The escape character of ISO 2022 code extensions (PS3.5 6.1.2.5.3).
const ESC: u8 = 0x1B;

/// Whether a value of `vr` is text whose repertoire PS3.5 6.2 defines (its bytes can be
/// checked against it).
pub fn is_text_vr(vr: VR) -> bool {
    matches!(
        vr,
        VR::AE
            | VR::AS
            | VR::CS
            | VR::DA
            | VR::DS
            | VR::DT
            | VR::IS
            | VR::LO
            | VR::LT
            | VR::PN
            | VR::SH
            | VR::ST
            | VR::TM
            | VR::UC
            | VR::UI
            | VR::UR
            | VR::UT
    )
}

/// What `bytes`, a value of `vr`, holds that the VR does not allow; `None` for a value that
/// holds nothing of the kind, or of a VR that is not text ([`is_text_vr`]). Trailing NULs and
/// spaces are padding.
pub fn damage(vr: VR, bytes: &[u8]) -> Option<Damage> {
    if !is_text_vr(vr) {
        return None;
    }
    let end = bytes.iter().rposition(|&b| b != 0 && b != b' ').map_or(0, |i| i + 1);
    let value = &bytes[..end];
    if value.iter().all(|&b| allowed(vr, b)) {
        return None;
    }
    Some(if holds_element_header(value) { Damage::SwallowedElements } else { Damage::ForeignBytes })
}

/// Whether byte `b` may appear in a value of the text VR `vr`.
fn allowed(vr: VR, b: u8) -> bool {
    match b {
        0x20.. => true,
        ESC => matches!(vr, VR::SH | VR::LO | VR::PN | VR::UC | VR::LT | VR::ST | VR::UT),
        b'\t' | b'\n' | 0x0C | b'\r' => matches!(vr, VR::LT | VR::ST | VR::UT),
        _ => false,
    }
}

/// Whether an element header (little or big endian, explicit or implicit VR) starts anywhere
/// in `bytes`.
fn holds_element_header(bytes: &[u8]) -> bool {
    (0..bytes.len()).any(|i| header_at(&bytes[i..], false) || header_at(&bytes[i..], true))
}

/// Whether `bytes` starts with an element header in the given byte order.
fn header_at(bytes: &[u8], big_endian: bool) -> bool {
    let Some(head) = bytes.get(..8) else { return false };
    let u16_at = |i: usize| {
        let pair = [head[i], head[i + 1]];
        if big_endian { u16::from_be_bytes(pair) } else { u16::from_le_bytes(pair) }
    };
    let tag = Tag(u16_at(0), u16_at(2));
    let vr_code = VR::from_binary([head[4], head[5]]).is_some();
    if crate::shown::is_standard_tag(tag) {
        let quad = [head[4], head[5], head[6], head[7]];
        let length = if big_endian { u32::from_be_bytes(quad) } else { u32::from_le_bytes(quad) };
        vr_code || (length as usize) <= bytes.len() - 8
    } else {
        tag.group() % 2 == 1 && tag.group() > 0x0008 && vr_code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(tag: Tag, vr: &[u8; 2], len: u16) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend(tag.0.to_le_bytes());
        h.extend(tag.1.to_le_bytes());
        h.extend(vr);
        h.extend(len.to_le_bytes());
        h
    }

    #[test]
    fn a_value_that_ran_over_explicit_vr_elements_swallowed_them() {
        let mut v = b"GE".to_vec();
        v.extend(header(Tag(0x0010, 0x0010), b"PN", 12));
        v.extend(b"YAMADA^TARO ");
        assert_eq!(damage(VR::LO, &v), Some(Damage::SwallowedElements));
    }

    #[test]
    fn a_value_that_ran_over_implicit_vr_elements_swallowed_them() {
        let mut v = b"OT".to_vec();
        v.extend([0x10, 0x00, 0x20, 0x00, 10, 0, 0, 0]);
        v.extend(b"PID5550123");
        assert_eq!(damage(VR::CS, &v), Some(Damage::SwallowedElements));
    }

    #[test]
    fn padding_and_allowed_control_bytes_are_no_damage() {
        assert_eq!(damage(VR::LO, b"GE MEDICAL\0\0 \0"), None);
        assert_eq!(damage(VR::UT, b"line one\r\n\tline two\x0C"), None);
        assert_eq!(damage(VR::PN, b"\x1b$BF|K\\\x1b(B"), None);
        assert_eq!(damage(VR::LO, b"\0\0\0\0"), None);
        assert_eq!(damage(VR::OB, b"\0\x01\x02"), None);
    }

    #[test]
    fn a_nul_inside_a_value_or_a_line_feed_in_a_short_string_is_foreign() {
        assert_eq!(damage(VR::LO, b"GE\0junk"), Some(Damage::ForeignBytes));
        assert_eq!(damage(VR::SH, b"A\nB"), Some(Damage::ForeignBytes));
        assert_eq!(damage(VR::CS, b"OT\x1b"), Some(Damage::ForeignBytes));
    }
}
