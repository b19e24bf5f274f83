//! 12-bit JPEG (JPEG Extended, Process 2 and 4) through DCMTK's `dcmdjpeg`.
//!
//! No Rust JPEG decoder reads 12-bit samples (jpeg-decoder and zune-jpeg stop at 8 bits), and
//! the 12-bit build of libjpeg-turbo is not a Debian package; DCMTK is (`apt-get install
//! dcmtk`), and its `dcmdjpeg` carries IJG's 12-bit codec. When it is installed, kamei writes a
//! minimal DICOM file holding only the image attributes and the compressed fragments (no other
//! attribute of the input, so no header identifier) into a private temporary folder (mode 0700,
//! under `TMPDIR`, removed before returning), runs `dcmdjpeg` on it, and reads the uncompressed
//! result with its own reader. The pixels may show burned-in text: the folder is as private as
//! kamei's own memory, and nothing of it is kept. Without DCMTK the image fails with a reason
//! that says what to install.

use super::decode::{DecodeError, Frames};
use crate::dataset::{DataSet, Element, Fragments, Tag, VR, Value};
use crate::read::{DicomFile, Opened, ReadOptions};
use crate::transfer::TransferSyntax;
use dicom_dictionary_std::tags;
use std::process::Command;

/// JPEG Extended (Process 2 and 4), the transfer syntax of 12-bit lossy JPEG.
pub const JPEG_EXTENDED: &str = "1.2.840.10008.1.2.4.51";

/// The attributes that describe the pixels (Image Pixel module), copied into the minimal file.
const IMAGE_ATTRIBUTES: [Tag; 10] = [
    tags::SAMPLES_PER_PIXEL,
    tags::PHOTOMETRIC_INTERPRETATION,
    tags::PLANAR_CONFIGURATION,
    tags::NUMBER_OF_FRAMES,
    tags::ROWS,
    tags::COLUMNS,
    tags::BITS_ALLOCATED,
    tags::BITS_STORED,
    tags::HIGH_BIT,
    tags::PIXEL_REPRESENTATION,
];

/// Secondary Capture, the SOP class of the minimal file (dcmdjpeg only needs one to be there).
const SC_IMAGE: &str = "1.2.840.10008.5.1.4.1.1.7";

/// Write `bytes` to a new file readable by its owner only (0600 on Unix).
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// Decode 12-bit JPEG `fragments` described by the image attributes of `source` with DCMTK.
///
/// # Errors
/// DCMTK is not installed, it could not decode the stream (its first message is quoted: it
/// names the JPEG problem, not a value), or its output is not the image it should be.
pub fn decode(source: &DataSet, fragments: &Fragments) -> Result<Frames, DecodeError> {
    let err = |m: String| DecodeError(m);
    // Private whatever the umask (0700 on Unix): the image in it carries the burned-in
    // identifiers, and dcmdjpeg's decoded copy lands beside it.
    let mut builder = tempfile::Builder::new();
    builder.prefix("kamei-dcmdjpeg-");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    let dir = builder.tempdir().map_err(|e| err(format!("could not create a temporary folder for dcmdjpeg: {e}")))?;
    let (input, output) = (dir.path().join("in.dcm"), dir.path().join("out.dcm"));
    let bytes = crate::write::to_vec(&minimal_file(source, fragments), None)
        .map_err(|e| err(format!("could not prepare the image for dcmdjpeg: {e}")))?;
    write_private(&input, &bytes).map_err(|e| err(format!("could not prepare the image for dcmdjpeg: {e}")))?;
    let run = match Command::new("dcmdjpeg").arg(&input).arg(&output).output() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(err("12-bit JPEG Extended pixel data needs DCMTK's dcmdjpeg, which is not installed \
                 (Debian: apt-get install dcmtk)"
                .into()));
        }
        Err(e) => return Err(err(format!("could not run dcmdjpeg: {e}"))),
        Ok(run) => run,
    };
    if !run.status.success() {
        let stderr = String::from_utf8_lossy(&run.stderr);
        let first = stderr.lines().find(|l| l.starts_with("E:")).or(stderr.lines().next()).unwrap_or("");
        return Err(err(format!(
            "dcmdjpeg could not decode the 12-bit JPEG pixel data ({}): {}",
            run.status,
            first.chars().take(200).collect::<String>()
        )));
    }
    let file = match crate::read::open(&output, &ReadOptions::default()) {
        Ok(Opened::Dicom(file)) => file,
        _ => return Err(err("dcmdjpeg wrote something kamei cannot read".into())),
    };
    if file.transfer_syntax.uid == JPEG_EXTENDED {
        return Err(err("dcmdjpeg left the pixel data compressed".into()));
    }
    let mut frames = super::decode::decode(&file.dataset, &file.transfer_syntax, Some(&output))?;
    frames.lossy = true;
    frames.compressed_bytes = Some(fragments.fragments.iter().map(|f| f.len() as u64).sum());
    Ok(frames)
}

/// A Part 10 file with the image attributes of `source` and the compressed `fragments`, and
/// nothing else.
fn minimal_file(source: &DataSet, fragments: &Fragments) -> DicomFile {
    let ui = |tag: Tag, uid: &str| Element::new(tag, VR::UI, uid.as_bytes().to_vec());
    let mut dataset = DataSet::from_elements([ui(tags::SOP_CLASS_UID, SC_IMAGE), ui(tags::SOP_INSTANCE_UID, "1.2.3")]);
    for tag in IMAGE_ATTRIBUTES {
        if let Some(e) = source.get(tag) {
            dataset.put(e.clone());
        }
    }
    dataset.put(Element { tag: tags::PIXEL_DATA, vr: VR::OB, value: Value::Fragments(fragments.clone()) });
    let meta = DataSet::from_elements([
        Element::new(tags::FILE_META_INFORMATION_VERSION, VR::OB, vec![0, 1]),
        ui(tags::MEDIA_STORAGE_SOP_CLASS_UID, SC_IMAGE),
        ui(tags::MEDIA_STORAGE_SOP_INSTANCE_UID, "1.2.3"),
        ui(tags::TRANSFER_SYNTAX_UID, JPEG_EXTENDED),
    ]);
    let transfer_syntax = TransferSyntax::from_uid(JPEG_EXTENDED).expect("JPEG Extended is a known syntax");
    DicomFile::built(meta, dataset, transfer_syntax)
}
