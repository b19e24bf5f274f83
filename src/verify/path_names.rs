//! How file and folder names read, on the input side and in a release.
//!
//! A name copied from a Windows share is often Shift_JIS (CP932) bytes, not UTF-8: read so, it
//! is the patient's name (`山田太郎`), where a lossy UTF-8 reading is noise. A `--layout mirror`
//! release writes such bytes as `%XX` ([`crate::layout::mirror_path`]), in its file and folder
//! names and in its audit log; `%8ER%93c%91%BE%98Y` is a reversible spelling of the same name,
//! so it is read back before it is searched.

use std::ffi::OsStr;

/// How a file or folder name reads: as it is when it is UTF-8, else its bytes read as
/// Shift_JIS (CP932, as Windows writes Japanese names), else with each invalid byte replaced.
pub fn name_text(name: &OsStr) -> String {
    if let Some(s) = name.to_str() {
        return s.to_string();
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        if let Some(text) = encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(name.as_bytes())
        {
            return text.into_owned();
        }
    }
    name.to_string_lossy().into_owned()
}

/// How a path reads, each component by [`name_text`], with `/` separators.
pub fn path_text(path: &std::path::Path) -> String {
    path.components().map(|c| name_text(c.as_os_str())).collect::<Vec<_>>().join("/")
}

/// The reading of a text with its `%XX` escapes decoded (the bytes of a name that was not
/// UTF-8, as a mirror release writes them), or `None` when it has none. The decoded bytes are
/// read piece by piece between ASCII bytes below `@` (`/`, `"`, spaces, digits: never part of a
/// Shift_JIS character), each piece as UTF-8 when it is, else as Shift_JIS (CP932), else with
/// each invalid byte replaced.
pub fn unescaped(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut raw = Vec::with_capacity(bytes.len());
    let mut any = false;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b)))
        {
            raw.push((h * 16 + l) as u8);
            any = true;
            i += 3;
            continue;
        }
        raw.push(bytes[i]);
        i += 1;
    }
    if !any {
        return None;
    }
    let mut out = String::with_capacity(raw.len());
    for piece in raw.split_inclusive(|&b| b < b'@') {
        out.push_str(&bytes_text(piece));
    }
    Some(out)
}

/// How bytes of unknown encoding read: as UTF-8 when they are, else as Shift_JIS (CP932, a
/// Windows export's), else with each invalid byte replaced.
pub fn bytes_text(piece: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(piece) {
        return s.to_string();
    }
    match encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(piece) {
        Some(text) => text.into_owned(),
        None => String::from_utf8_lossy(piece).into_owned(),
    }
}

/// The readings of a name or text to search: itself, and its `%XX`-decoded reading when it
/// has escapes ([`unescaped`]).
pub fn readings(text: &str) -> Vec<String> {
    std::iter::once(text.to_string()).chain(unescaped(text)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sjis(s: &str) -> Vec<u8> {
        encoding_rs::SHIFT_JIS.encode(s).0.into_owned()
    }

    #[cfg(unix)]
    #[test]
    fn a_shift_jis_name_reads_as_its_japanese_text() {
        use std::os::unix::ffi::OsStrExt;
        assert_eq!(name_text(OsStr::from_bytes(&sjis("山田太郎"))), "山田太郎");
        assert_eq!(name_text(OsStr::new("YAMADA")), "YAMADA");
    }

    #[cfg(unix)]
    #[test]
    fn a_mirror_release_escaped_name_reads_back_as_the_name() {
        use std::os::unix::ffi::OsStrExt;
        let mut input = sjis("山田太郎");
        input.extend_from_slice(b"/x.dcm");
        let escaped = crate::layout::mirror_path(std::path::Path::new(OsStr::from_bytes(&input)));
        let text = escaped.to_string_lossy().into_owned();
        assert_eq!(text, "%8ER%93c%91%BE%98Y/x.dcm");
        assert_eq!(readings(&text).last().unwrap(), "山田太郎/x.dcm");
        assert_eq!(unescaped(r#"{"output":"%8ER%93c%91%BE%98Y.dcm"}"#).unwrap(), r#"{"output":"山田太郎.dcm"}"#);
    }

    #[test]
    fn text_without_escapes_has_no_other_reading() {
        assert_eq!(unescaped("100% done, 50%"), None);
        assert_eq!(readings("plain"), vec!["plain".to_string()]);
    }
}
