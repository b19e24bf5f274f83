//! Encapsulated documents a release keeps. The basic profile replaces Encapsulated Document
//! (0042,0011) by a dummy, but a user profile may keep it, and then the PDF report or CDA
//! document leaves as it is, with the patient's name, ID and dates in its text: `deid` neither
//! reads nor cleans documents (it notes that it kept one). Here the document's readable text
//! is searched for the identifiers verify knows (`--against`, `--linkage`): a CDA document is
//! XML (UTF-8, or UTF-16 with its byte order mark; numeric character references read too); a
//! PDF's uncompressed bytes, the strings of its content streams (`(YAMADA)Tj`, the pieces of a
//! `[(YAMA)-20(DA)]TJ` array joined, hex strings, UTF-16 text strings of its document
//! information), and the same of each FlateDecode stream once inflated. An identifier found is
//! a `residual-identifier`; a document where none is found is still a `kept-document`: text a
//! PDF writes in a font's own encoding (a subset Japanese font), an image of a scanned page,
//! or another compression cannot be read here, and nothing is known without the inputs.

use super::{Ctx, Finding, FindingKind, finding, residual, residual_date};
use crate::dataset::{DataSet, tag_str};
use dicom_dictionary_std::tags;
use std::io::Read;

/// The most bytes inflated from one document's streams: a document of a few MB inflates to
/// some tens of MB; a stream made to inflate without end (a zip bomb) stops here.
const MAX_INFLATED: u64 = 64 << 20;

/// What a `kept-document` finding says.
const KEPT: &str = "an Encapsulated Document (a PDF or CDA report) is released as it is: kamei neither reads nor cleans documents, and its text often holds the patient's name, ID and dates; no identifier verify knows of (--against, --linkage) was found in its readable text (text in a font's own encoding or in a scanned page is not readable here): review it, or release with a profile that replaces (0042,0011)";

/// Report the Encapsulated Document of `ds` (top level), unless it is absent, empty or the
/// dummy `deid` writes (zero bytes): each identifier found in its readable text, or else that
/// a document is kept.
pub(super) fn check(ctx: &Ctx<'_>, ds: &DataSet, rel: &str, out: &mut Vec<Finding>) {
    let Some(bytes) = ds.bytes(tags::ENCAPSULATED_DOCUMENT) else { return };
    if bytes.iter().all(|&b| b == 0 || b == b' ') {
        return;
    }
    let location = tag_str(tags::ENCAPSULATED_DOCUMENT);
    let before = out.len();
    for text in readable_texts(bytes) {
        for id in ctx.find(&text) {
            out.push(residual(rel, &location, id));
        }
        for id in ctx.find_exam_dates(&text) {
            out.push(residual_date(rel, &location, id));
        }
    }
    if out.len() == before {
        out.push(finding(rel, location, FindingKind::KeptDocument, KEPT));
    }
}

/// The texts of a document that can be read without rendering it: a PDF's ([`pdf_texts`]),
/// else the document as XML or plain text.
pub(super) fn readable_texts(bytes: &[u8]) -> Vec<String> {
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return pdf_texts(bytes, MAX_INFLATED);
    }
    let text = match bytes {
        [0xFF, 0xFE, rest @ ..] => encoding_rs::UTF_16LE.decode_without_bom_handling(rest).0.into_owned(),
        [0xFE, 0xFF, rest @ ..] => encoding_rs::UTF_16BE.decode_without_bom_handling(rest).0.into_owned(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    };
    let mut texts = Vec::new();
    if text.contains("&#") {
        texts.push(character_references(&text));
    }
    texts.push(text);
    texts
}

/// The texts of a PDF: its bytes as written (Latin-1, so an uncompressed stream and the
/// document information are read as ASCII), the strings of its uncompressed parts, and the
/// same of each FlateDecode stream inflated (up to `budget` bytes in all, [`MAX_INFLATED`]).
fn pdf_texts(bytes: &[u8], mut budget: u64) -> Vec<String> {
    let mut texts = vec![latin1(bytes), pdf_strings(bytes)];
    for stream in flate_streams(bytes) {
        if budget == 0 {
            break;
        }
        let mut inflated = Vec::new();
        let read = flate2::read::ZlibDecoder::new(stream).take(budget).read_to_end(&mut inflated);
        // A stream cut or not zlib yields what was inflated before the error, if anything.
        if read.is_err() && inflated.is_empty() {
            continue;
        }
        budget = budget.saturating_sub(inflated.len() as u64);
        texts.push(latin1(&inflated));
        texts.push(pdf_strings(&inflated));
    }
    texts
}

/// Bytes read one character each (Latin-1): ASCII text stays, binary data reads as noise that
/// holds no identifier.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// The data of each stream of a PDF whose dictionary names the FlateDecode filter.
fn flate_streams(pdf: &[u8]) -> Vec<&[u8]> {
    let mut v = Vec::new();
    let mut at = 0;
    while let Some(k) = find(&pdf[at..], b"stream") {
        let keyword = at + k;
        at = keyword + 6;
        // `endstream` holds `stream` too.
        if pdf[..keyword].ends_with(b"end") {
            continue;
        }
        let data = match pdf[at..] {
            [b'\r', b'\n', ..] => at + 2,
            [b'\n' | b'\r', ..] => at + 1,
            _ => continue,
        };
        let Some(end) = find(&pdf[data..], b"endstream").map(|e| data + e) else { break };
        let dictionary = &pdf[pdf[..keyword].windows(2).rposition(|w| w == b"<<").unwrap_or(0)..keyword];
        if find(dictionary, b"/FlateDecode").is_some() {
            v.push(&pdf[data..end]);
        }
        at = end + 9;
    }
    v
}

/// Where `needle` first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The strings of PDF content (`(text)` with its escapes, `<hex>`), as text: those of one
/// array (`[(YAMA)-20(DA)]TJ`, the pieces of a kerned word) joined, others apart; a string
/// starting with the UTF-16 byte order mark (a text string of the document information,
/// `/Author (þÿ…)`) read as UTF-16.
fn pdf_strings(content: &[u8]) -> String {
    let mut text = String::new();
    let mut in_array = false;
    let mut i = 0;
    while i < content.len() {
        match content[i] {
            b'(' => {
                let (s, next) = literal_string(content, i + 1);
                text.push_str(&string_text(&s));
                if !in_array {
                    text.push(' ');
                }
                i = next;
                continue;
            }
            b'<' if content.get(i + 1) != Some(&b'<') => {
                let end = content[i..].iter().position(|&b| b == b'>').map_or(content.len(), |e| i + e);
                let digits: Vec<u8> = content[i + 1..end].iter().copied().filter(u8::is_ascii_hexdigit).collect();
                let mut digits = digits;
                if digits.len() % 2 == 1 {
                    digits.push(b'0');
                }
                if let Ok(s) = hex::decode(&digits) {
                    text.push_str(&string_text(&s));
                }
                if !in_array {
                    text.push(' ');
                }
                i = end + 1;
                continue;
            }
            b'<' => i += 1,
            b'[' => in_array = true,
            b']' => {
                in_array = false;
                text.push(' ');
            }
            _ => {}
        }
        i += 1;
    }
    text
}

/// A literal string's bytes from `start` (after its `(`) with its escapes resolved, and where
/// the content goes on after its `)`. Balanced parentheses belong to the string.
fn literal_string(content: &[u8], start: usize) -> (Vec<u8>, usize) {
    let mut s = Vec::new();
    let mut depth = 0;
    let mut i = start;
    while i < content.len() {
        let b = content[i];
        i += 1;
        match b {
            b'\\' => {
                let Some(&e) = content.get(i) else { break };
                i += 1;
                match e {
                    b'n' => s.push(b'\n'),
                    b'r' => s.push(b'\r'),
                    b't' => s.push(b'\t'),
                    b'b' => s.push(8),
                    b'f' => s.push(12),
                    b'0'..=b'7' => {
                        let mut n = u32::from(e - b'0');
                        for _ in 0..2 {
                            match content.get(i) {
                                Some(&d @ b'0'..=b'7') => {
                                    n = n * 8 + u32::from(d - b'0');
                                    i += 1;
                                }
                                _ => break,
                            }
                        }
                        s.push((n & 0xFF) as u8);
                    }
                    // A line break after `\` continues the string.
                    b'\r' | b'\n' => {}
                    other => s.push(other),
                }
            }
            b'(' => {
                depth += 1;
                s.push(b);
            }
            b')' if depth == 0 => return (s, i),
            b')' => {
                depth -= 1;
                s.push(b);
            }
            _ => s.push(b),
        }
    }
    (s, i)
}

/// A PDF string's bytes as text: UTF-16 (big-endian) after its byte order mark, else one
/// character a byte.
fn string_text(s: &[u8]) -> String {
    match s {
        [0xFE, 0xFF, rest @ ..] => encoding_rs::UTF_16BE.decode_without_bom_handling(rest).0.into_owned(),
        _ => latin1(s),
    }
}

/// XML text with its numeric character references (`&#23665;`, `&#x5C71;`) resolved.
fn character_references(text: &str) -> String {
    static REFERENCE: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"&#(?:[xX]([0-9A-Fa-f]{1,6})|([0-9]{1,7}));").expect("valid"));
    REFERENCE
        .replace_all(text, |c: &regex::Captures| {
            let n = match (c.get(1), c.get(2)) {
                (Some(h), _) => u32::from_str_radix(h.as_str(), 16).ok(),
                (_, Some(d)) => d.as_str().parse().ok(),
                _ => None,
            };
            n.and_then(char::from_u32).map_or_else(|| c[0].to_string(), String::from)
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    fn pdf(content_stream: &[u8], flate: bool) -> Vec<u8> {
        let (data, filter): (Vec<u8>, &[u8]) =
            if flate { (zlib(content_stream), b" /Filter /FlateDecode") } else { (content_stream.to_vec(), b"") };
        let mut v = b"%PDF-1.4\n1 0 obj\n<< /Length ".to_vec();
        v.extend(data.len().to_string().as_bytes());
        v.extend(filter);
        v.extend(b" >>\nstream\r\n");
        v.extend(&data);
        v.extend(b"\nendstream\nendobj\n%%EOF\n");
        v
    }

    fn joined(bytes: &[u8]) -> String {
        readable_texts(bytes).join("\n")
    }

    #[test]
    fn the_text_of_a_flate_compressed_pdf_stream_is_read_with_its_kerned_pieces_joined() {
        let content = b"BT /F1 12 Tf [(KAWA)-20(GUCHI)] TJ (PID\\0608812345) Tj ET";
        let text = joined(&pdf(content, true));
        assert!(text.contains("KAWAGUCHI"), "{text}");
        assert!(text.contains("PID08812345"), "octal escape: {text}");
    }

    #[test]
    fn the_text_of_an_uncompressed_pdf_and_its_utf16_strings_are_read() {
        let text = joined(&pdf(b"BT <4B415741> Tj (\xFE\xFF\x00T\x00A\x00R\x00O) Tj ET", false));
        assert!(text.contains("KAWA") && text.contains("TARO"), "{text}");
    }

    #[test]
    fn a_cda_document_is_read_with_its_character_references() {
        let text = joined("<name><family>&#23665;&#x7530;</family></name>".as_bytes());
        assert!(text.contains("山田"), "{text}");
        let utf16: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain("<id>8812345</id>".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        assert!(joined(&utf16).contains("8812345"));
    }

    #[test]
    fn a_stream_that_inflates_without_end_stops_at_the_limit() {
        let bomb = zlib(&vec![b'A'; 1 << 20]);
        let mut v = b"%PDF-1.4\n<< /Filter /FlateDecode >>\nstream\n".to_vec();
        v.extend(&bomb);
        v.extend(b"\nendstream\n");
        let inflated: Vec<String> = pdf_texts(&v, 4096).into_iter().skip(2).collect();
        assert_eq!(inflated.first().map(String::len), Some(4096));
    }
}
