//! Reading a settings file the user names: a user profile (`--profile PATH`, `kamei profile
//! check PATH`) or a pixel rule file (`--pixel-rules DIR`).
//!
//! Only a regular file is read, and only up to [`MAX_SETTING_FILE`] bytes. A device or a FIFO
//! named by mistake (`/dev/zero`, a pipe nobody writes) would otherwise be read until memory
//! runs out or wait for ever, before any check could say what is wrong; `--key` refuses them the
//! same way ([`crate::pseudo::PseudonymKey::read`]). Settings files are a few kilobytes.

use std::io::Read;
use std::path::Path;

/// The largest settings file read (16 MiB): the built-in profile tables are about 200 KiB.
pub const MAX_SETTING_FILE: u64 = 16 << 20;

/// The bytes of the settings file at `path`.
///
/// # Errors
/// The I/O error; an [`std::io::ErrorKind::InvalidInput`] error saying so for a path that is
/// not a regular file (a folder, a device, a FIFO, a socket) or a file larger than
/// [`MAX_SETTING_FILE`]. The file is not opened in the first case.
pub fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    let invalid = |message: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, message);
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(invalid("it is not a regular file (a folder, device or FIFO?); give a TOML file".to_string()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(MAX_SETTING_FILE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SETTING_FILE {
        return Err(invalid(format!(
            "it is larger than {} MiB, more than any settings file holds",
            MAX_SETTING_FILE >> 20
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_or_a_folder_is_refused_without_being_read() {
        let e = read(Path::new("/dev/zero")).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let e = read(Path::new("/")).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }

    #[test]
    fn a_regular_file_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.toml");
        std::fs::write(&p, b"x = 1\n").unwrap();
        assert_eq!(read(&p).unwrap(), b"x = 1\n");
    }
}
