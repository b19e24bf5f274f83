//! HL7 v2 messages as bytes: segments, fields, repetitions, components and subcomponents, the
//! escape sequences `\F\ \S\ \T\ \R\ \E\` (and `\X..\`, `\.br\`, highlighting), and text in
//! ISO-2022-JP as SS-MIX2 writes it (MSH-18 `~ISO IR87` or `~ISOIR87`).
//!
//! Bytes stay bytes: a message is split into fields whose bytes are kept as read, and only a
//! field a rule changes is rebuilt; a kept field is written back byte for byte. Splitting follows
//! ISO 2022 escapes: delimiters and the escape character count only in ASCII, so a delimiter
//! byte inside a two-byte JIS code (JIS 0x2D7C, 0x5E5C...) or a half-width katakana after
//! `ESC ( I` (0x5E is ﾞ there) is not taken for one; a segment whose JIS text does not return to
//! ASCII before a delimiter does not parse, since its fields cannot be told apart. Text that is
//! partly replaced is rewritten with [`splice`], which keeps every other byte.
//!
//! Text is decoded per component with [`crate::charset`], the same pinned JIS X 0208 mapping as
//! DICOM (JIS 0x2141 → U+301C, 0x215D → U+2212), so a name reads the same in an image and in a
//! message. Decoding is lenient where SS-MIX2 data is known to stray, so that identifiers are
//! still seen: half-width katakana (JIS X 0201, in GR or after `ESC ( I`) and JIS X 0212 are
//! read; the result says when it was not plain SS-MIX2 text. Encoding is strict: ASCII and JIS
//! X 0208 with `ESC $ B … ESC ( B`, returning to ASCII before every delimiter.

use crate::charset::CharacterSet;
use dicom_core::VR;
use std::ops::Range;

pub mod datatype;

const ESC: u8 = 0x1B;

/// The delimiters a message declares in MSH-1 and MSH-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    /// Field separator (MSH-1), usually `|`.
    pub field: u8,
    /// Component separator, usually `^`.
    pub component: u8,
    /// Repetition separator, usually `~`.
    pub repetition: u8,
    /// Escape character, usually `\`; `None` when MSH-2 declares none.
    pub escape: Option<u8>,
    /// Subcomponent separator, usually `&`.
    pub subcomponent: u8,
}

impl Default for Delimiters {
    fn default() -> Self {
        Delimiters { field: b'|', component: b'^', repetition: b'~', escape: Some(b'\\'), subcomponent: b'&' }
    }
}

/// How the text of a message is read and written (from MSH-18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// ASCII and ISO-2022-JP (JIS X 0208), the SS-MIX2 encoding; also used when MSH-18 is empty.
    Iso2022Jp,
    /// `UNICODE UTF-8`.
    Utf8,
    /// `8859/1`.
    Latin1,
}

/// Why a message could not be parsed. Names the segment and what is wrong, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The 1-based segment number (0 when it is about the whole message).
    pub segment: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.segment == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "segment {}: {}", self.segment, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

/// One segment: its name and its fields' bytes (index = field number; for MSH, index 1 is the
/// field separator and index 2 the encoding characters, as HL7 numbers them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The three-character segment ID (`PID`, `OBX`...).
    pub name: String,
    fields: Vec<Vec<u8>>,
}

impl Segment {
    /// The bytes of field `n` (1-based), empty if absent.
    pub fn field(&self, n: usize) -> &[u8] {
        self.fields.get(n).map_or(&[][..], Vec::as_slice)
    }

    /// The highest field number present.
    pub fn len(&self) -> usize {
        self.fields.len().saturating_sub(1)
    }

    /// Whether the segment has no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replace field `n` (1-based). MSH-1 and MSH-2 cannot be replaced.
    pub fn set_field(&mut self, n: usize, bytes: Vec<u8>) {
        if n == 0 || (self.name == "MSH" && n <= 2) {
            return;
        }
        if self.fields.len() <= n {
            if bytes.is_empty() {
                return;
            }
            self.fields.resize(n + 1, Vec::new());
        }
        self.fields[n] = bytes;
    }
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Delimiters from MSH-1/MSH-2.
    pub delimiters: Delimiters,
    /// How text is read (MSH-18).
    pub text: Text,
    /// The segments, in order.
    pub segments: Vec<Segment>,
    /// The input was Shift_JIS where ISO-2022-JP was declared (or nothing), and was read as
    /// such: the segments hold it re-encoded in ISO-2022-JP ([`shift_jis_as_iso_2022_jp`]).
    pub read_as_shift_jis: bool,
    terminator: &'static [u8],
}

/// The set designated to G0, which decides what a byte in 0x21–0x7E is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum G0 {
    /// ASCII or JIS X 0201 Roman (`ESC ( B`, `ESC ( J`, or nothing designated yet): the only
    /// state where a byte can be a delimiter or the HL7 escape character.
    #[default]
    Ascii,
    /// JIS X 0201 katakana (`ESC ( I`): each byte is a half-width katakana, so 0x5E is ﾞ and
    /// 0x5F is ﾟ, not `^` and `_`.
    Katakana,
    /// A two-byte set (JIS X 0208 `ESC $ B` / `ESC $ @`, JIS X 0212 `ESC $ ( D`).
    Double,
}

/// A state machine over ISO 2022 bytes: which bytes are ASCII characters (where a delimiter can
/// be) and which are characters of another set designated to G0 (half-width katakana, halves
/// of two-byte JIS codes).
#[derive(Debug, Clone, Copy, Default)]
struct Jis {
    g0: G0,
}

impl Jis {
    /// How many bytes the unit at `bytes[i]` spans, and whether it is an ASCII character (a
    /// possible delimiter).
    fn step(&mut self, bytes: &[u8], i: usize) -> (usize, bool) {
        let b = bytes[i];
        if b == ESC {
            let len = escape_len(&bytes[i..]);
            match &bytes[i + 1..i + len] {
                [b'$', b'B'] | [b'$', b'@'] | [b'$', b'(', b'B'] | [b'$', b'(', b'D'] => self.g0 = G0::Double,
                [b'(', b'I'] => self.g0 = G0::Katakana,
                [b'(', _] => self.g0 = G0::Ascii,
                _ => {}
            }
            return (len, false);
        }
        if b < 0x20 {
            // CR, LF, TAB: ISO-2022-JP lines end in ASCII.
            self.g0 = G0::Ascii;
            return (1, true);
        }
        match self.g0 {
            G0::Ascii => (1, true),
            G0::Katakana => (1, false),
            G0::Double => {
                if (0x21..=0x7E).contains(&b) && bytes.get(i + 1).is_some_and(|b2| (0x21..=0x7E).contains(b2)) {
                    (2, false)
                } else {
                    (1, false)
                }
            }
        }
    }
}

/// Length of the escape sequence at the start of `bytes` (ESC, intermediates 0x20–0x2F, final).
fn escape_len(bytes: &[u8]) -> usize {
    let mut n = 1;
    while bytes.get(n).is_some_and(|b| (0x20..=0x2F).contains(b)) {
        n += 1;
    }
    if bytes.get(n).is_some_and(|b| (0x30..=0x7E).contains(b)) { n + 1 } else { n.min(bytes.len()) }
}

/// JIS X 0208 rows 85–94 (first bytes 0x75–0x7E) are unassigned, and kamei does not read the
/// CP932 vendor rows there (IBM rows 89–92): such a first byte is never a character.
const UNASSIGNED_FIRST: std::ops::RangeInclusive<u8> = 0x75..=0x7E;

/// JIS X 0201 katakana has no characters at 0x60–0x7E: such a byte after `ESC ( I` is never a
/// character.
const UNASSIGNED_KATAKANA: std::ops::RangeInclusive<u8> = 0x60..=0x7E;

/// Check that a segment's ISO-2022-JP text returns to ASCII (`ESC ( B`, or JIS Roman `ESC ( J`)
/// before every delimiter and before the segment ends, as SS-MIX2 requires.
///
/// A sender that forgets `ESC ( B` before a field delimiter makes the following bytes read as
/// two-byte JIS: the delimiters after it are swallowed as halves of kanji, and the fields they
/// start become part of the unterminated field, which may be one that is kept. The fields would
/// shift, so no reading of such a segment can be trusted, and the message fails (reported, not
/// copied): resetting to ASCII at the stray delimiter and going on would still misplace the
/// fields when the unterminated text ended with an odd number of bytes.
///
/// The segment fails when, in two-byte mode:
/// - a delimiter byte stands where the first byte of a pair would (`|` 0x7C and `~` 0x7E are in
///   the unassigned rows 85–94, so they cannot start a character);
/// - the segment ends;
/// - an escape sequence other than `ESC ( B` / `ESC ( J` comes (`ESC $ B` again, `ESC ( I`,
///   `ESC $ ( D`): a conformant sender returns to ASCII first, and a run that was never ended
///   would otherwise be closed by a later, well-formed field and hide the fields it swallowed.
///
/// and, in half-width katakana mode (`ESC ( I`), when a delimiter byte that is no katakana
/// (`|` 0x7C, `~` 0x7E: 0x60–0x7E are unassigned) comes, or the segment ends. The bytes that are
/// katakana (`^` 0x5E is ﾞ, `\` 0x5C is ﾜ, `&` 0x26 is ｦ) are characters and split nothing.
///
/// A delimiter byte that is a valid byte of a pair (`^` 0x5E or `\` 0x5C as a first byte, any
/// delimiter as a second byte: JIS 0x5E5C, 0x2D7C) stays part of its character: it splits
/// nothing, as before.
fn check_returns_to_ascii(segment: &[u8], d: &Delimiters) -> Result<(), &'static str> {
    const BEFORE_DELIMITER: &str = "text in ISO-2022-JP does not return to ASCII (ESC ( B) before a delimiter";
    if !segment.contains(&ESC) {
        return Ok(());
    }
    let mut jis = Jis::default();
    let mut i = 0;
    while i < segment.len() {
        let b = segment[i];
        match jis.g0 {
            G0::Double if b == ESC => {
                let len = escape_len(&segment[i..]);
                if !matches!(&segment[i + 1..i + len], [b'(', b'B'] | [b'(', b'J']) {
                    return Err("text in ISO-2022-JP switches character set without returning to ASCII (ESC ( B)");
                }
            }
            G0::Double if UNASSIGNED_FIRST.contains(&b) && d.is_delimiter(b) => return Err(BEFORE_DELIMITER),
            G0::Katakana if UNASSIGNED_KATAKANA.contains(&b) && d.is_delimiter(b) => return Err(BEFORE_DELIMITER),
            _ => {}
        }
        let (len, _) = jis.step(segment, i);
        i += len.max(1);
    }
    if jis.g0 != G0::Ascii {
        return Err("text in ISO-2022-JP does not return to ASCII (ESC ( B) before the end of the segment");
    }
    Ok(())
}

/// Split `bytes` on `delim` where it stands as an ASCII character, following ISO 2022 state: a
/// byte of a two-byte JIS code or a half-width katakana after `ESC ( I` splits nothing.
pub fn split(bytes: &[u8], delim: u8) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut jis = Jis::default();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        let (len, single) = jis.step(bytes, i);
        if single && bytes[i] == delim {
            out.push(&bytes[start..i]);
            start = i + 1;
        }
        i += len.max(1);
    }
    out.push(&bytes[start..]);
    out
}

/// A field split into repetitions, components and subcomponents (bytes).
pub type Field = Vec<Vec<Vec<Vec<u8>>>>;

impl Delimiters {
    /// Split a field's bytes into repetitions → components → subcomponents.
    pub fn parse_field(&self, bytes: &[u8]) -> Field {
        split(bytes, self.repetition)
            .into_iter()
            .map(|rep| {
                split(rep, self.component)
                    .into_iter()
                    .map(|c| split(c, self.subcomponent).into_iter().map(<[u8]>::to_vec).collect())
                    .collect()
            })
            .collect()
    }

    /// Join a field, dropping trailing empty subcomponents, components and repetitions.
    pub fn join_field(&self, field: &Field) -> Vec<u8> {
        fn trim<T>(v: &[T], empty: impl Fn(&T) -> bool) -> &[T] {
            let end = v.iter().rposition(|x| !empty(x)).map_or(0, |i| i + 1);
            &v[..end]
        }
        let comp_empty = |c: &Vec<Vec<u8>>| c.iter().all(Vec::is_empty);
        let rep_empty = |r: &Vec<Vec<Vec<u8>>>| r.iter().all(comp_empty);
        let mut out = Vec::new();
        for (ri, rep) in trim(field, rep_empty).iter().enumerate() {
            if ri > 0 {
                out.push(self.repetition);
            }
            for (ci, comp) in trim(rep, comp_empty).iter().enumerate() {
                if ci > 0 {
                    out.push(self.component);
                }
                for (si, sub) in trim(comp, Vec::is_empty).iter().enumerate() {
                    if si > 0 {
                        out.push(self.subcomponent);
                    }
                    out.extend_from_slice(sub);
                }
            }
        }
        out
    }

    fn is_delimiter(&self, b: u8) -> bool {
        b == self.field
            || b == self.component
            || b == self.repetition
            || b == self.subcomponent
            || Some(b) == self.escape
    }
}

/// The names in HL7 v2.5 table 0211 (alternate character sets) that kamei does not read: each
/// as [`parse_text`] normalises it, then as HL7 spells it (what an error may show).
const TABLE_0211: [(&str, &str); 14] = [
    ("8859/2", "8859/2"),
    ("8859/3", "8859/3"),
    ("8859/4", "8859/4"),
    ("8859/5", "8859/5"),
    ("8859/6", "8859/6"),
    ("8859/7", "8859/7"),
    ("8859/8", "8859/8"),
    ("8859/9", "8859/9"),
    ("GB180302000", "GB 18030-2000"),
    ("KSX1001", "KS X 1001"),
    ("CNS116431992", "CNS 11643-1992"),
    ("BIG5", "BIG-5"),
    ("UNICODE", "UNICODE"),
    ("UNICODEUTF16", "UNICODE UTF-16"),
];

fn parse_text(msh18: &[u8], delimiters: &Delimiters) -> Result<Text, String> {
    let mut text = Text::Iso2022Jp;
    let mut seen_other = false;
    for rep in split(msh18, delimiters.repetition) {
        let first = split(rep, delimiters.component)[0];
        let norm: String = String::from_utf8_lossy(first)
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-'))
            .flat_map(char::to_uppercase)
            .collect();
        match norm.as_str() {
            "" | "ASCII" | "ISOIR6" | "ISOIR14" | "ISOIR87" | "ISOIR159" | "ISOIR13" | "ISO2022JP" => {}
            "UNICODEUTF8" | "UTF8" if !seen_other => {
                text = Text::Utf8;
                seen_other = true;
            }
            "8859/1" | "ISOIR100" if !seen_other => {
                text = Text::Latin1;
                seen_other = true;
            }
            "UNICODEUTF8" | "UTF8" | "8859/1" | "ISOIR100" => {
                return Err("MSH-18 names two character sets beyond ASCII and ISO-2022-JP".into());
            }
            _ => {
                // Only a name from HL7 table 0211 is shown, and as kamei spells it: MSH-18 may
                // hold anything, and no input value goes into a message.
                return Err(match TABLE_0211.iter().find(|(key, _)| *key == norm) {
                    Some((_, name)) => format!("MSH-18 names a character set kamei does not read ({name})"),
                    None => "MSH-18 (character set) holds a value that is not an HL7 character set name".into(),
                });
            }
        }
    }
    Ok(text)
}

impl Message {
    /// Parse a message: MSH first, segments ending in CR (CR LF and LF are accepted and kept).
    ///
    /// # Errors
    /// [`ParseError`] naming the segment and the problem: not HL7 (no MSH), bad delimiters, a
    /// segment without a valid name, ISO-2022-JP text that does not return to ASCII before a
    /// delimiter, before the segment end or before another set is designated (its fields cannot
    /// be told apart), MSH-9 missing, a character set that cannot be read.
    pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
        Message::parse_with(bytes, false).map(|(m, _)| m)
    }

    /// The segments of a message that [`Message::parse`] refuses which can still be read: a
    /// segment that does not parse (ISO-2022-JP text that does not return to ASCII, a damaged
    /// name) is left out and the others kept, so that the identifiers of a readable PID are
    /// still known. With whether every segment was read. `None` when nothing can be read: no
    /// MSH, delimiters or a character set that cannot be read, bytes whose fields cannot be
    /// told apart. Not for writing: for what the patient's other messages must be cleaned of.
    pub fn parse_readable(bytes: &[u8]) -> Option<(Message, bool)> {
        Message::parse_with(bytes, true).ok()
    }

    fn parse_with(bytes: &[u8], lenient: bool) -> Result<(Message, bool), ParseError> {
        // A UTF-8 byte order mark before MSH (an editor or an export tool that writes one) is no
        // part of the message: it is read without it and written without it.
        let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
        let declared = declared_text(bytes);
        // Shift_JIS read whole, re-encoded in what MSH-18 declares (ISO-2022-JP when nothing).
        let readings: &[Text] = match declared {
            Some(Text::Utf8) => &[Text::Utf8],
            Some(Text::Latin1) => &[],
            Some(Text::Iso2022Jp) => &[Text::Iso2022Jp],
            None => &[Text::Iso2022Jp, Text::Utf8],
        };
        for &want in readings {
            let read = match want {
                Text::Utf8 => shift_jis_as_utf8(bytes),
                _ => shift_jis_as_iso_2022_jp(bytes),
            };
            if let Some(Ok((msg, all))) = read.map(|r| Message::parse_bytes_with(&r, lenient)) {
                if msg.text == want {
                    return Ok((Message { read_as_shift_jis: true, ..msg }, all));
                }
            }
        }
        if splits_inside_shift_jis(bytes, declared) {
            return Err(ParseError {
                segment: 0,
                message: format!(
                    "bytes that are not valid {} as MSH-18 declares read as Shift_JIS characters ending in a delimiter byte, and the message is not Shift_JIS throughout: its fields cannot be told apart",
                    declared.unwrap_or(Text::Iso2022Jp).name()
                ),
            });
        }
        Message::parse_bytes_with(bytes, lenient)
    }

    fn parse_bytes(bytes: &[u8]) -> Result<Message, ParseError> {
        Message::parse_bytes_with(bytes, false).map(|(m, _)| m)
    }

    /// Parse the bytes as they stand; `lenient`: a segment other than MSH that does not parse
    /// is left out (and the result says not every segment was read), MSH-9 may be empty.
    fn parse_bytes_with(bytes: &[u8], lenient: bool) -> Result<(Message, bool), ParseError> {
        let mut every_segment = true;
        let whole = |m: &str| ParseError { segment: 0, message: m.to_string() };
        if bytes.len() < 8 || &bytes[..3] != b"MSH" {
            return Err(whole("not an HL7 v2 message (it does not start with MSH)"));
        }
        let fs = bytes[3];
        let enc_end =
            bytes[4..].iter().position(|&b| b == fs || b == b'\r' || b == b'\n').map_or(bytes.len(), |p| p + 4);
        let enc = &bytes[4..enc_end];
        if !(2..=5).contains(&enc.len()) {
            return Err(ParseError {
                segment: 1,
                message: "MSH-2 (encoding characters) must have 2 to 5 characters".into(),
            });
        }
        let delimiters = Delimiters {
            field: fs,
            component: enc[0],
            repetition: enc[1],
            escape: enc.get(2).copied(),
            subcomponent: enc.get(3).copied().unwrap_or(b'&'),
        };
        let mut all = vec![fs, enc[0], enc[1]];
        all.extend(enc.get(2..4).unwrap_or(&enc[2..]));
        for (i, &b) in all.iter().enumerate() {
            if b.is_ascii_alphanumeric() || !(0x20..0x7F).contains(&b) || all[..i].contains(&b) {
                return Err(ParseError {
                    segment: 1,
                    message: "MSH-1/MSH-2 declare invalid or repeated delimiters".into(),
                });
            }
        }
        let terminator: &'static [u8] = match bytes.iter().position(|&b| b == b'\r' || b == b'\n') {
            Some(p) if bytes[p] == b'\n' => b"\n",
            Some(p) if bytes.get(p + 1) == Some(&b'\n') => b"\r\n",
            _ => b"\r",
        };
        let mut segments = Vec::new();
        for (n, raw) in bytes.split(|&b| b == b'\r' || b == b'\n').filter(|s| !s.is_empty()).enumerate() {
            let number = n + 1;
            let name_ok = raw.len() >= 3
                && raw[..3].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                && (raw.len() == 3 || raw[3] == fs);
            if !name_ok {
                if lenient && n > 0 {
                    every_segment = false;
                    continue;
                }
                return Err(ParseError {
                    segment: number,
                    message: "does not start with a segment name and the field separator".into(),
                });
            }
            let name = String::from_utf8_lossy(&raw[..3]).into_owned();
            if n == 0 && name != "MSH" {
                return Err(ParseError { segment: 1, message: "the first segment is not MSH".into() });
            }
            if let Err(m) = check_returns_to_ascii(raw, &delimiters) {
                if lenient && n > 0 {
                    every_segment = false;
                    continue;
                }
                return Err(ParseError { segment: number, message: m.to_string() });
            }
            let mut fields: Vec<Vec<u8>> = split(raw, fs).into_iter().map(<[u8]>::to_vec).collect();
            if name == "MSH" {
                // MSH-1 is the separator itself: insert it so index = field number.
                fields.insert(1, vec![fs]);
            }
            segments.push(Segment { name, fields });
        }
        let msh = &segments[0];
        if msh.field(9).is_empty() && !lenient {
            return Err(ParseError { segment: 1, message: "MSH-9 (message type) is empty".into() });
        }
        let text = parse_text(msh.field(18), &delimiters).map_err(|m| ParseError { segment: 1, message: m })?;
        Ok((Message { delimiters, text, segments, read_as_shift_jis: false, terminator }, every_segment))
    }

    /// The message as bytes, segments ending with the terminator the input used.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for seg in &self.segments {
            let end = seg.fields.iter().rposition(|f| !f.is_empty()).map_or(1, |i| i + 1);
            let end = if seg.name == "MSH" { end.max(3) } else { end };
            for (i, f) in seg.fields[..end].iter().enumerate() {
                if seg.name == "MSH" && i == 1 {
                    continue; // the separator written between MSH and MSH-2 is MSH-1
                }
                if i > 0 {
                    out.push(self.delimiters.field);
                }
                out.extend_from_slice(f);
            }
            out.extend_from_slice(self.terminator);
        }
        out
    }

    /// Decode one component's (or subcomponent's) bytes to text: HL7 escapes resolved, then the
    /// character set.
    pub fn decode(&self, bytes: &[u8]) -> Decoded {
        decode(bytes, &self.delimiters, self.text)
    }

    /// Encode text for one component: HL7 delimiters escaped, then the character set (returning
    /// to ASCII at the end).
    pub fn encode(&self, text: &str) -> Encoded {
        encode(text, &self.delimiters, self.text)
    }

    /// Replace characters of one component's decoded text, keeping the rest byte for byte (see
    /// [`splice`]).
    pub fn splice(&self, bytes: &[u8], edits: &[(Range<usize>, String)]) -> Option<Encoded> {
        splice(bytes, &self.delimiters, self.text, edits)
    }
}

/// Text decoded from a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text; bytes that could not be read are U+FFFD.
    pub text: String,
    /// Every byte was read.
    pub exact: bool,
    /// The text holds characters SS-MIX2 does not allow (half-width katakana, JIS X 0212).
    pub nonstandard: bool,
}

/// Bytes encoded from text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Every character was representable (others became `?`).
    pub exact: bool,
}

/// The HL7 escape sequence starting at `bytes[i]` (the escape character, in ASCII): the index
/// just after it and the bytes it stands for. `None` when there is no closing escape character
/// (in ASCII: a `\` byte inside a two-byte JIS code closes nothing) or the code is not one kamei
/// reads (the bytes then stand for themselves).
///
/// An escape whose content is text a viewer may show stands for that content, so that it is
/// searched like any other text (a `\Z03-5555-7777\` holds a phone number): `\Z..\` (defined
/// by the sender: any content), `\C..\` and `\M..\` whose content is not the 4 (or 6) hex
/// digits HL7 defines, and a formatting command (`\.in ..\`, `\.ti..\`...) whose argument is not
/// a number of up to 3 digits or that HL7 does not define. Valid `\Cxxyy\`, `\Mxxyyzz\` and
/// formatting commands stand for nothing (`\.br\` and `\.sp\` for a line break).
fn escape_at(bytes: &[u8], i: usize, d: &Delimiters) -> Option<(usize, Vec<u8>)> {
    let esc = d.escape?;
    let mut jis = Jis::default();
    let mut j = i + 1;
    let end = loop {
        if j >= bytes.len() {
            return None;
        }
        let (len, ascii) = jis.step(bytes, j);
        if ascii && bytes[j] == esc {
            break j;
        }
        j += len.max(1);
    };
    let hex = |h: &[u8], lens: &[usize]| lens.contains(&h.len()) && h.iter().all(u8::is_ascii_hexdigit);
    let handled = match &bytes[i + 1..end] {
        b"F" => vec![d.field],
        b"S" => vec![d.component],
        b"T" => vec![d.subcomponent],
        b"R" => vec![d.repetition],
        b"E" => vec![esc],
        b"H" | b"N" => Vec::new(),
        b".br" | b".sp" => vec![b'\n'],
        [b'X', hex @ ..] if hex.len() % 2 == 0 && hex.iter().all(u8::is_ascii_hexdigit) => hex
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("3F"), 16).unwrap_or(b'?'))
            .collect(),
        [b'C', h @ ..] if hex(h, &[4]) => Vec::new(),
        [b'M', h @ ..] if hex(h, &[4, 6]) => Vec::new(),
        [b'Z', content @ ..] | [b'C', content @ ..] | [b'M', content @ ..] => content.to_vec(),
        [b'.', command @ ..] => formatting(command),
        _ => return None,
    };
    Some((end + 1, handled))
}

/// What a formatting escape `\.xx..\` (after the dot) stands for: nothing for a command HL7
/// defines with no argument or a number of up to 3 digits (an indent, a count of lines), its
/// argument as text for such a command with another argument, and the whole content as text
/// for a command HL7 does not define.
fn formatting(command: &[u8]) -> Vec<u8> {
    const COMMANDS: [&[u8]; 8] = [b"br", b"sp", b"fi", b"nf", b"in", b"ti", b"sk", b"ce"];
    let (name, arg) = command.split_at(command.len().min(2));
    if !COMMANDS.contains(&name) {
        return command.to_vec();
    }
    let number = arg.trim_ascii();
    let number = number.strip_prefix(b"+").or_else(|| number.strip_prefix(b"-")).unwrap_or(number);
    if arg.is_empty() || ((1..=3).contains(&number.len()) && number.iter().all(u8::is_ascii_digit)) {
        return if name == b"sp" && arg.trim_ascii().is_empty() { vec![b'\n'] } else { Vec::new() };
    }
    arg.to_vec()
}

/// Resolve HL7 escape sequences (only where an ASCII character can be), keeping ISO 2022
/// escapes in place for the character set decoder.
fn unescape(bytes: &[u8], d: &Delimiters) -> Vec<u8> {
    let Some(esc) = d.escape else { return bytes.to_vec() };
    if !bytes.contains(&esc) {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut jis = Jis::default();
    let mut i = 0;
    while i < bytes.len() {
        let (len, single) = jis.step(bytes, i);
        if single && bytes[i] == esc {
            if let Some((next, h)) = escape_at(bytes, i, d) {
                out.extend_from_slice(&h);
                i = next;
                continue;
            }
        }
        out.extend_from_slice(&bytes[i..i + len.max(1)]);
        i += len.max(1);
    }
    out
}

impl Text {
    /// The encoding's name, as messages show it.
    pub fn name(self) -> &'static str {
        match self {
            Text::Iso2022Jp => "ISO-2022-JP",
            Text::Utf8 => "UTF-8",
            Text::Latin1 => "ISO 8859-1",
        }
    }
}

/// The text encoding the message's MSH segment declares (MSH-18), read from the MSH segment
/// alone; `None` when that segment does not parse (the whole message then fails as before, or
/// is read as undeclared).
fn declared_text(bytes: &[u8]) -> Option<Text> {
    let end = bytes.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(bytes.len());
    Message::parse_bytes(&bytes[..end]).ok().map(|m| m.text)
}

/// The UTF-8 byte order mark, which some tools write before MSH.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Whether `b` can start a two-byte Shift_JIS (CP932) character.
fn is_sjis_lead(b: u8) -> bool {
    matches!(b, 0x81..=0x9F | 0xE0..=0xFC)
}

/// Whether splitting `bytes` as they stand could cut a Shift_JIS character in two: read as
/// CP932 where ISO 2022 leaves ASCII in G0, some lead byte is followed by a byte that is a
/// delimiter or the escape character (`−` 0x817C, `ポ` 0x837C, `ソ` 0x835C), the bytes are
/// neither UTF-8 nor EUC-JP (where no byte of a multibyte character is ASCII), and, under
/// `8859/1`, they hold C1 bytes (0x80–0x9F), which are no Latin-1 text (`é|` is Latin-1).
///
/// Such a message is not split: its fields could shift into fields that are kept (a phone
/// number into PID-15, a birth date into PID-8). It is read as Shift_JIS when it is Shift_JIS
/// throughout ([`shift_jis_as_iso_2022_jp`], [`shift_jis_as_utf8`]), else it fails.
fn splits_inside_shift_jis(bytes: &[u8], declared: Option<Text>) -> bool {
    use encoding_rs::EUC_JP;
    if bytes.iter().all(|&b| b < 0x80) || std::str::from_utf8(bytes).is_ok() {
        return false;
    }
    if declared == Some(Text::Latin1) && !bytes.iter().any(|b| (0x80..=0x9F).contains(b)) {
        return false;
    }
    if EUC_JP.decode_without_bom_handling_and_without_replacement(bytes).is_some() {
        return false;
    }
    let end = bytes.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(bytes.len());
    let d = Message::parse_bytes(&bytes[..end]).map(|m| m.delimiters).unwrap_or_default();
    let mut jis = Jis::default();
    let mut i = 0;
    while i < bytes.len() {
        let (len, ascii) = jis.step(bytes, i);
        if ascii && is_sjis_lead(bytes[i]) {
            match bytes.get(i + 1) {
                Some(&t) if d.is_delimiter(t) => return true,
                Some(&t) if (0x40..=0xFC).contains(&t) && t != 0x7F => {
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        i += len.max(1);
    }
    false
}

/// A message declaring `UNICODE UTF-8` whose bytes are not UTF-8 but Shift_JIS (CP932)
/// throughout, holding two-byte characters: a misconfigured sender. Read whole before it is
/// split, for the reason [`shift_jis_as_iso_2022_jp`] gives, and re-encoded as the UTF-8 its
/// MSH-18 declares. `None` when the bytes are not such a message.
fn shift_jis_as_utf8(bytes: &[u8]) -> Option<Vec<u8>> {
    use encoding_rs::SHIFT_JIS;
    if bytes.contains(&ESC) || std::str::from_utf8(bytes).is_ok() || !bytes.iter().copied().any(is_sjis_lead) {
        return None;
    }
    let text = SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes)?;
    Some(text.into_owned().into_bytes())
}

/// The parts of `bytes` in which ISO 2022 leaves ASCII (or JIS Roman) in G0, and the others
/// (escape sequences and the two-byte or katakana text they designate), in order: `true` for
/// a part read in ASCII.
fn ascii_runs(bytes: &[u8]) -> Vec<(bool, Range<usize>)> {
    let mut out: Vec<(bool, Range<usize>)> = Vec::new();
    let mut jis = Jis::default();
    let mut i = 0;
    while i < bytes.len() {
        let ascii = bytes[i] != ESC && jis.g0 == G0::Ascii;
        let (len, _) = jis.step(bytes, i);
        let end = (i + len.max(1)).min(bytes.len());
        match out.last_mut() {
            Some((a, r)) if *a == ascii => r.end = end,
            _ => out.push((ascii, i..end)),
        }
        i = end;
    }
    out
}

/// A message written in Shift_JIS (CP932, as Windows writes it), which SS-MIX2 does not allow
/// but which senders write, re-encoded as the ISO-2022-JP its MSH-18 declares; `None` when the
/// bytes are not such a message. Read whole before it is split: a Shift_JIS character may end
/// in a delimiter byte (`ソ` 0x835C holds the escape character, `－` 0x817C the field
/// separator), so splitting its bytes would move text into other fields.
///
/// It is Shift_JIS when, where ISO 2022 leaves ASCII in G0 (all of it when it has no ISO 2022
/// escape; else the text outside the `ESC $ B … ESC ( B` runs: one field typed in another
/// subsystem), it holds bytes of two-byte characters (not only half-width katakana, which the
/// ISO-2022-JP reading takes as they are), is not UTF-8, is valid CP932 throughout and, when
/// that text is valid EUC-JP too, reads as more kana in Shift_JIS (as `kamei clinical csv
/// --encoding auto` decides). Proper ISO-2022-JP runs are kept as they are. Re-encoded as ASCII, JIS X 0208 and, for
/// a kanji only JIS X 0212 has (`髙`), JIS X 0212; a character neither has is written as its
/// compatibility form when that has one (half-width katakana `ｶﾞ` → `ガ`, `①` → `1`, `㈱` →
/// `(株)`), else as `〓` (U+3013, the JIS substitute mark).
pub fn shift_jis_as_iso_2022_jp(bytes: &[u8]) -> Option<Vec<u8>> {
    use encoding_rs::{EUC_JP, SHIFT_JIS};
    let runs = ascii_runs(bytes);
    let eight_bit = |r: &Range<usize>| bytes[r.clone()].iter().any(|&b| b >= 0x80 && !(0xA1..=0xDF).contains(&b));
    if !runs.iter().any(|(ascii, r)| *ascii && eight_bit(r)) {
        return None;
    }
    if std::str::from_utf8(bytes).is_ok() {
        return None;
    }
    let mut texts = Vec::with_capacity(runs.len());
    for (ascii, r) in &runs {
        texts.push(if *ascii {
            Some(SHIFT_JIS.decode_without_bom_handling_and_without_replacement(&bytes[r.clone()])?)
        } else {
            None
        });
    }
    let kana = |t: &str| t.chars().filter(|c| matches!(c, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}')).count();
    let sjis_kana: usize = texts.iter().flatten().map(|t| kana(t)).sum();
    let plain: Vec<u8> = runs.iter().filter(|(a, _)| *a).flat_map(|(_, r)| bytes[r.clone()].iter().copied()).collect();
    if EUC_JP.decode_without_bom_handling_and_without_replacement(&plain).is_some_and(|euc| kana(&euc) >= sjis_kana) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() + 16);
    for ((_, r), text) in runs.iter().zip(&texts) {
        match text {
            Some(t) => out.extend_from_slice(&transcoding_charset().encode(&representable(t), VR::LT).bytes),
            None => out.extend_from_slice(&bytes[r.clone()]),
        }
    }
    Some(out)
}

/// The set a Shift_JIS message is re-encoded in: ASCII, JIS X 0208, JIS X 0212.
fn transcoding_charset() -> &'static CharacterSet {
    static CS: std::sync::LazyLock<CharacterSet> = std::sync::LazyLock::new(|| {
        CharacterSet::from_value(b"\\ISO 2022 IR 87\\ISO 2022 IR 159").expect("a supported set")
    });
    &CS
}

/// `text` with each run of characters [`transcoding_charset`] cannot write replaced by its
/// compatibility form (NFKC, per run so that `ｶﾞ` composes to `ガ`), and a character of that
/// form it still cannot write by `〓`.
fn representable(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let writable = |c: char| c.is_ascii() || transcoding_charset().encode(c.encode_utf8(&mut [0; 4]), VR::LT).exact;
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        out.extend(run.nfkc().map(|c| if writable(c) { c } else { '〓' }));
        run.clear();
    };
    for c in text.chars() {
        if writable(c) {
            flush(&mut run, &mut out);
            out.push(c);
        } else {
            run.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Rewrite the JIS forms the charset module does not take into ones it does: `ESC ( I` runs
/// (JIS X 0201 katakana in G0) become GR bytes, `ESC $ @` (JIS C 6226-1978) becomes `ESC $ B`.
fn lenient_jis(bytes: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(bytes.len());
    let mut katakana = false;
    let mut nonstandard = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == ESC {
            let len = escape_len(&bytes[i..]);
            let seq = &bytes[i + 1..i + len];
            katakana = seq == b"(I";
            if katakana {
                nonstandard = true;
            } else if seq == b"$@" {
                out.extend_from_slice(b"\x1b$B");
            } else {
                if seq == b"$(D" {
                    nonstandard = true;
                }
                out.extend_from_slice(&bytes[i..i + len]);
            }
            i += len;
            continue;
        }
        if katakana && (0x21..=0x5F).contains(&b) {
            out.push(b | 0x80);
        } else {
            if (0xA1..=0xDF).contains(&b) {
                nonstandard = true;
            }
            out.push(b);
        }
        i += 1;
    }
    (out, nonstandard)
}

/// The character set that reads SS-MIX2 text leniently: ASCII initially, JIS X 0208 (`ESC $ B`),
/// JIS X 0212 (`ESC $ ( D`), and JIS X 0201 katakana in GR.
fn lenient_charset() -> &'static CharacterSet {
    static CS: std::sync::LazyLock<CharacterSet> = std::sync::LazyLock::new(|| {
        CharacterSet::from_value(b"ISO 2022 IR 13\\ISO 2022 IR 87\\ISO 2022 IR 159").expect("a supported set")
    });
    &CS
}

fn strict_charset(text: Text) -> &'static CharacterSet {
    static JIS: std::sync::LazyLock<CharacterSet> =
        std::sync::LazyLock::new(|| CharacterSet::from_value(b"\\ISO 2022 IR 87").expect("a supported set"));
    static UTF8: std::sync::LazyLock<CharacterSet> =
        std::sync::LazyLock::new(|| CharacterSet::from_value(b"ISO_IR 192").expect("a supported set"));
    static LATIN1: std::sync::LazyLock<CharacterSet> =
        std::sync::LazyLock::new(|| CharacterSet::from_value(b"ISO_IR 100").expect("a supported set"));
    match text {
        Text::Iso2022Jp => &JIS,
        Text::Utf8 => &UTF8,
        Text::Latin1 => &LATIN1,
    }
}

/// Decode one component: escapes, then the character set (see [`Message::decode`]).
pub fn decode(bytes: &[u8], d: &Delimiters, text: Text) -> Decoded {
    let raw = unescape(bytes, d);
    match text {
        Text::Iso2022Jp => {
            let (bytes, mut nonstandard) = lenient_jis(&raw);
            let decoded = lenient_charset().decode(&bytes, VR::LT);
            nonstandard |= decoded.text.chars().any(|c| ('\u{FF61}'..='\u{FF9F}').contains(&c));
            Decoded { text: decoded.text, exact: decoded.exact, nonstandard }
        }
        other => {
            let decoded = strict_charset(other).decode(&raw, VR::LT);
            Decoded { text: decoded.text, exact: decoded.exact, nonstandard: false }
        }
    }
}

/// Encode text for one component (see [`Message::encode`]). Newlines become `\.br\`.
pub fn encode(text: &str, d: &Delimiters, charset: Text) -> Encoded {
    let mut escaped = String::with_capacity(text.len());
    let esc = d.escape.map(char::from);
    for c in text.chars() {
        let code = match c {
            _ if Some(c) == esc => Some("E"),
            _ if c == char::from(d.field) => Some("F"),
            _ if c == char::from(d.component) => Some("S"),
            _ if c == char::from(d.subcomponent) => Some("T"),
            _ if c == char::from(d.repetition) => Some("R"),
            '\n' => Some(".br"),
            '\r' => Some(""),
            _ => None,
        };
        match (code, esc) {
            (Some(""), _) => {}
            (Some(code), Some(e)) => {
                escaped.push(e);
                escaped.push_str(code);
                escaped.push(e);
            }
            (Some(_), None) => escaped.push(' '),
            (None, _) => escaped.push(c),
        }
    }
    let e = strict_charset(charset).encode(&escaped, VR::LT);
    Encoded { bytes: e.bytes, exact: e.exact }
}

/// One piece of a component's bytes that decodes on its own: a character (one or two bytes, read
/// in the set `designation` put in G0), an HL7 escape sequence (`\X0D\`, `\H\`...), or an ISO 2022
/// escape sequence.
#[derive(Debug, Clone)]
struct Piece {
    bytes: Range<usize>,
    /// The ISO 2022 escape that designated the G0 set this piece is read in; empty when nothing
    /// was designated (ASCII).
    designation: Range<usize>,
    /// The characters it decodes to, as indices into the component's decoded text.
    chars: Range<usize>,
    /// An ISO 2022 escape sequence: it is not written as such; [`splice`] designates what each
    /// piece it writes needs.
    iso_escape: bool,
    /// Bytes per character when the piece is a run of characters each read from that many bytes
    /// on its own (ASCII, JIS X 0208 pairs); 0 for an HL7 escape, which stands whole. Runs keep
    /// the pieces of a long text few: one per run, not one per character.
    width: usize,
}

/// Whether the ISO 2022 escape sequence `seq` (after ESC) designates a set to G0 that [`Jis`]
/// follows.
fn designates_g0(seq: &[u8]) -> bool {
    matches!(seq, [b'$', b'B'] | [b'$', b'@'] | [b'$', b'(', b'B'] | [b'$', b'(', b'D'] | [b'(', _])
}

/// Cut a component into [`Piece`]s, following the ISO 2022 state and the HL7 escapes as
/// [`decode`] does, and give each to `f` in order, as it is found: a long text is never held
/// as a list of pieces. `whole` is the component's decoded text. `false` when the pieces, each
/// decoded on its own, do not give it (an HL7 escape that stands for an ISO 2022 escape, say):
/// it cannot be rewritten piece by piece (the pieces given until then are to be thrown away).
fn each_piece(bytes: &[u8], d: &Delimiters, text: Text, whole: &str, f: &mut dyn FnMut(&Piece)) -> bool {
    // Where the next piece's text must start in `whole`.
    let mut byte = 0;
    let mut jis = Jis::default();
    let mut designation = 0..0;
    // The run being built, given to `f` once the next piece cannot join it.
    let mut run: Option<Piece> = None;
    let mut at = 0;
    let mut i = 0;
    let mut buf = Vec::new();
    while i < bytes.len() {
        let b = bytes[i];
        let (len, ascii) = jis.step(bytes, i);
        if b == ESC {
            let len = len.max(1);
            if designates_g0(&bytes[i + 1..i + len]) {
                designation = i..i + len;
            }
            if let Some(done) = run.take() {
                f(&done);
            }
            f(&Piece {
                bytes: i..i + len,
                designation: designation.clone(),
                chars: at..at,
                iso_escape: true,
                width: 0,
            });
            i += len;
            continue;
        }
        if b < 0x20 {
            designation = 0..0;
        }
        let hl7_escape = ascii && Some(b) == d.escape;
        let len = if hl7_escape {
            escape_at(bytes, i, d).map_or(1, |(next, _)| next - i)
        } else if text == Text::Utf8 && b >= 0x80 {
            let want = match b {
                0xC2..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF4 => 4,
                _ => 1,
            };
            1 + bytes[i + 1..].iter().take(want - 1).take_while(|&&c| (0x80..=0xBF).contains(&c)).count()
        } else {
            len.max(1)
        };
        buf.clear();
        buf.extend_from_slice(&bytes[designation.clone()]);
        buf.extend_from_slice(&bytes[i..i + len]);
        let piece_text = decode(&buf, d, text).text;
        let n = piece_text.chars().count();
        let chars = at..at + n;
        if !whole[byte..].starts_with(piece_text.as_str()) {
            return false;
        }
        byte += piece_text.len();
        let width = if hl7_escape || n != 1 { 0 } else { len };
        match run.as_mut() {
            Some(r)
                if width > 0
                    && r.width == width
                    && r.bytes.end == i
                    && r.chars.end == at
                    && r.designation == designation =>
            {
                r.bytes.end += len;
                r.chars.end += 1;
            }
            _ => {
                if let Some(done) = run.replace(Piece {
                    bytes: i..i + len,
                    designation: designation.clone(),
                    chars,
                    iso_escape: false,
                    width,
                }) {
                    f(&done);
                }
            }
        }
        at += n;
        i += len;
    }
    if let Some(done) = run.take() {
        f(&done);
    }
    byte == whole.len()
}

/// Writes a spliced component: original pieces in the set they were read in, new text in ASCII
/// and JIS X 0208, designating only as needed.
struct SpliceOut<'a> {
    src: &'a [u8],
    d: &'a Delimiters,
    text: Text,
    out: Vec<u8>,
    /// The designation in force in the output, as a range of `src` (empty: ASCII).
    g0: Range<usize>,
    exact: bool,
}

impl SpliceOut<'_> {
    fn is_ascii(&self, r: &Range<usize>) -> bool {
        r.is_empty() || &self.src[r.clone()] == b"\x1b(B"
    }

    fn piece(&mut self, p: &Piece) {
        let same = self.src[p.designation.clone()] == self.src[self.g0.clone()]
            || (self.is_ascii(&p.designation) && self.is_ascii(&self.g0));
        if !same {
            if self.is_ascii(&p.designation) {
                self.out.extend_from_slice(b"\x1b(B");
            } else {
                self.out.extend_from_slice(&self.src[p.designation.clone()]);
            }
            self.g0 = p.designation.clone();
        }
        self.out.extend_from_slice(&self.src[p.bytes.clone()]);
    }

    fn text(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if !self.is_ascii(&self.g0) {
            self.out.extend_from_slice(b"\x1b(B");
            self.g0 = 0..0;
        }
        let e = encode(s, self.d, self.text);
        self.exact &= e.exact;
        self.out.extend_from_slice(&e.bytes);
    }

    fn finish(mut self) -> Encoded {
        let roman = &self.src[self.g0.clone()] == b"\x1b(J";
        if !self.is_ascii(&self.g0) && !roman {
            self.out.extend_from_slice(b"\x1b(B");
        }
        Encoded { bytes: self.out, exact: self.exact }
    }
}

/// Replace characters of one component's (or subcomponent's) decoded text and keep every
/// other byte: `edits` are ranges of character indices into the text [`decode`] gives, sorted,
/// each with its new text.
///
/// Each character and each HL7 escape outside an edit is written as it was: a half-width
/// katakana after `ESC ( I` stays one (its `^` byte, ﾞ, stays in katakana mode), `\X0D\`,
/// `\.sp\`, `\H\`, `\Zxx\` stay as written. The new text is encoded as [`encode`] does (ASCII and
/// JIS X 0208), after returning to ASCII; the set of the next original character is designated
/// again before it, and the result ends in ASCII, so no delimiter byte is left outside ASCII.
/// An HL7 escape inside an edit goes with the characters it stands for; one that stands for
/// characters on both sides of an edit's end is written as text.
///
/// `None` when the component cannot be cut into pieces that decode on their own to its text
/// (an HL7 escape standing for an ISO 2022 escape, say): the caller removes it.
pub fn splice(bytes: &[u8], d: &Delimiters, text: Text, edits: &[(Range<usize>, String)]) -> Option<Encoded> {
    if edits.is_empty() {
        return Some(Encoded { bytes: bytes.to_vec(), exact: true });
    }
    let whole = decode(bytes, d, text).text;
    let count = whole.chars().count();
    // Overlapping edits (not expected) are cut to follow each other; empty ones are dropped.
    let mut clean: Vec<(Range<usize>, &str)> = Vec::with_capacity(edits.len());
    for (r, t) in edits {
        let start = clean.last().map_or(r.start, |(last, _)| r.start.max(last.end));
        let end = r.end.min(count);
        if start < end {
            clean.push((start..end, t.as_str()));
        }
    }
    let mut w = SpliceOut { src: bytes, d, text, out: Vec::with_capacity(bytes.len() + 16), g0: 0..0, exact: true };
    let mut next = 0;
    let complete = each_piece(bytes, d, text, &whole, &mut |p: &Piece| {
        if p.iso_escape {
            return;
        }
        while clean.get(next).is_some_and(|(r, _)| r.end <= p.chars.start) {
            next += 1;
        }
        let touched = clean.get(next).is_some_and(|(r, _)| r.start < p.chars.end);
        if p.width == 0 || p.chars.len() < 2 || !touched {
            splice_piece(&mut w, &clean, &mut next, p);
            return;
        }
        // A run an edit touches: character by character.
        for k in 0..p.chars.len() {
            let bytes = p.bytes.start + k * p.width..p.bytes.start + (k + 1) * p.width;
            let one = Piece { bytes, chars: p.chars.start + k..p.chars.start + k + 1, width: p.width, ..p.clone() };
            splice_piece(&mut w, &clean, &mut next, &one);
        }
    });
    complete.then(|| w.finish())
}

/// One piece of [`splice`] (not an ISO 2022 escape, nor a run touched by an edit): written as
/// it was, or left out for the edits it is in, each written where it starts. `next` is the
/// first edit that may touch it.
fn splice_piece(w: &mut SpliceOut, clean: &[(Range<usize>, &str)], next: &mut usize, p: &Piece) {
    let (start, end) = (p.chars.start, p.chars.end);
    while clean.get(*next).is_some_and(|(r, _)| r.end <= start) {
        *next += 1;
    }
    let touching = &clean[*next
        ..clean[*next..].iter().position(|(r, _)| r.start >= end.max(start + 1)).map_or(clean.len(), |k| *next + k)];
    if start == end {
        // A piece that stands for no character (`\H\`, `\Zxx\`) goes only inside an edit.
        if !touching.iter().any(|(r, _)| r.start < start) {
            w.piece(p);
        }
        return;
    }
    if touching.is_empty() {
        w.piece(p);
        return;
    }
    // The edits this piece's characters are in: each written where it starts, and the
    // piece's other characters (only an HL7 escape has several) as new text: the piece's
    // characters, decoded as [`each_piece`] checked them.
    let mut buf = w.src[p.designation.clone()].to_vec();
    buf.extend_from_slice(&w.src[p.bytes.clone()]);
    let own: Vec<char> = decode(&buf, w.d, w.text).text.chars().collect();
    let chars = |from: usize, to: usize| -> String { own[from - start..to - start].iter().collect() };
    let mut at = start;
    for (r, t) in touching {
        if r.start > at {
            w.text(&chars(at, r.start));
        }
        if r.start >= start {
            w.text(t);
        }
        at = at.max(r.end);
    }
    if at < end {
        w.text(&chars(at, end));
    }
}

/// Whether `bytes` (a component) is plain ASCII without escapes: it can be compared as is.
pub fn is_plain_ascii(bytes: &[u8], d: &Delimiters) -> bool {
    bytes.iter().all(|&b| (0x20..0x7F).contains(&b) && !d.is_delimiter(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace().map(|h| u8::from_str_radix(h, 16).unwrap()).collect()
    }

    /// japan/README.md §7.2: PID-5 of 架空 花子 as ISO-2022-JP, byte for byte.
    const PID5: &str = "1b 24 42 32 4d 36 75 1b 28 42 5e 1b 24 42 32 56 3b 52 1b 28 42 5e 5e 5e 5e 5e 4c 5e 49 7e \
                        1b 24 42 25 2b 25 2f 25 26 1b 28 42 5e 1b 24 42 25 4f 25 4a 25 33 1b 28 42 5e 5e 5e 5e 5e 4c 5e 50";

    fn msg(body: &str, msh18: &str) -> Vec<u8> {
        let mut m =
            format!("MSH|^~\\&|HIS|H|SS|H|20240401093000.123||ADT^A08^ADT_A01|1|P|2.5||||||{msh18}||ISO 2022-1994\r")
                .into_bytes();
        m.extend_from_slice(body.as_bytes());
        m
    }

    #[test]
    fn rv30_a_utf8_byte_order_mark_before_msh_is_read_and_not_written() {
        let body = msg("PID|0001||1234567890^^^^PI\r", "~ISO IR87");
        let mut with_bom = UTF8_BOM.to_vec();
        with_bom.extend_from_slice(&body);
        let m = Message::parse(&with_bom).unwrap();
        assert_eq!(m.segments[0].name, "MSH");
        assert_eq!(m.to_bytes(), Message::parse(&body).unwrap().to_bytes());
        assert!(!m.to_bytes().starts_with(UTF8_BOM));
    }

    #[test]
    fn a_long_component_is_cut_into_runs_and_spliced_byte_for_byte() {
        let d = Delimiters::default();
        let mut bytes = b"seen ".repeat(10_000);
        bytes.extend_from_slice(b"\x1b$B2M6u\x1b(B and ");
        bytes.extend(b"more ".repeat(10_000));
        let chars: Vec<char> = decode(&bytes, &d, Text::Iso2022Jp).text.chars().collect();
        let mut pieces = 0;
        assert!(each_piece(&bytes, &d, Text::Iso2022Jp, &chars.iter().collect::<String>(), &mut |_| pieces += 1));
        assert!(pieces <= 6, "{pieces}");
        // Replace one character in the first run and the kanji pair; everything else as it was.
        let at = chars.iter().position(|&c| c == '架').unwrap();
        let edits = [(7..8, "*".to_string()), (at..at + 2, "***".to_string())];
        let out = splice(&bytes, &d, Text::Iso2022Jp, &edits).unwrap();
        let text = decode(&out.bytes, &d, Text::Iso2022Jp).text;
        let want: String = chars[..7].iter().chain(['*'].iter()).chain(chars[8..at].iter()).collect::<String>()
            + "***"
            + &chars[at + 2..].iter().collect::<String>();
        assert_eq!(text, want);
        assert!(out.bytes.ends_with(&b"more ".repeat(10_000)));
    }

    #[test]
    fn pid5_vector_decodes_per_component() {
        let d = Delimiters::default();
        let field = d.parse_field(&hex(PID5));
        assert_eq!(field.len(), 2);
        let t = |r: usize, c: usize| decode(&field[r][c][0], &d, Text::Iso2022Jp).text;
        assert_eq!((t(0, 0), t(0, 1), t(0, 6), t(0, 7)), ("架空".into(), "花子".into(), "L".into(), "I".into()));
        assert_eq!((t(1, 0), t(1, 1), t(1, 7)), ("カクウ".into(), "ハナコ".into(), "P".into()));
        // Encoding the same components gives the same bytes back, and joining the same field.
        let again: Field = vec![
            ["架空", "花子", "", "", "", "", "L", "I"]
                .iter()
                .map(|s| vec![encode(s, &d, Text::Iso2022Jp).bytes])
                .collect(),
            ["カクウ", "ハナコ", "", "", "", "", "L", "P"]
                .iter()
                .map(|s| vec![encode(s, &d, Text::Iso2022Jp).bytes])
                .collect(),
        ];
        assert_eq!(d.join_field(&again), hex(PID5));
    }

    #[test]
    fn address_vector_and_minus_sign_mapping() {
        let d = Delimiters::default();
        let bytes = encode("東京都架空区試験町１−２−３", &d, Text::Iso2022Jp).bytes;
        let mut want = b"\x1b$B".to_vec();
        want.extend_from_slice(b"El5~ET2M6u6h;n83D.#1!]#2!]#3");
        want.extend_from_slice(b"\x1b(B");
        assert_eq!(bytes, want);
        // U+FF0D (the CP932 reading of JIS 0x215D) encodes to the same bytes; decoding pins U+2212.
        assert_eq!(encode("東京都架空区試験町１－２－３", &d, Text::Iso2022Jp).bytes, want);
        assert_eq!(decode(&want, &d, Text::Iso2022Jp).text, "東京都架空区試験町１−２−３");
        // JIS 0x2141 reads as U+301C WAVE DASH, as in DICOM.
        assert_eq!(decode(b"\x1b$B!A\x1b(B", &d, Text::Iso2022Jp).text, "\u{301C}");
    }

    #[test]
    fn delimiter_bytes_inside_kanji_are_not_delimiters() {
        // 湃 is JIS 0x5E5C: '^' and '\' bytes inside a two-byte code; 0x2D7C holds '|'.
        let d = Delimiters::default();
        let kanji = encode("湃", &d, Text::Iso2022Jp).bytes;
        assert!(kanji.contains(&b'^'));
        let mut field = kanji.clone();
        field.extend_from_slice(b"^B");
        let parsed = d.parse_field(&field);
        assert_eq!(parsed[0].len(), 2);
        assert_eq!(decode(&parsed[0][0][0], &d, Text::Iso2022Jp).text, "湃");
        let m = msg("PID|1||X||\x1b$B-|\x1b(B^A\r", "~ISO IR87");
        let parsed = Message::parse(&m).unwrap();
        assert_eq!(parsed.segments[1].field(5), b"\x1b$B-|\x1b(B^A");
    }

    #[test]
    fn jis_text_without_return_to_ascii_before_a_field_delimiter_fails() {
        // 03_jis_no_reset: `ESC $ B` text then `||` and the next field: the `|` stands where a
        // first byte would (row 92, unassigned), so it is a delimiter the sender did not reset for.
        let m = msg("OBX|1|ST|X1^\x1b$B%3%a%s%H||\x1b$B;3K\\\x1b(B||F\r", "~ISO IR87");
        let err = Message::parse(&m).unwrap_err();
        assert_eq!(err.segment, 2);
        assert!(err.to_string().contains("does not return to ASCII"), "{err}");
    }

    #[test]
    fn jis_run_ended_by_a_later_field_fails() {
        // An odd byte count after the kanji puts each `|` in a second-byte position; the run is
        // closed by the next field's own `ESC $ B ... ESC ( B`, which would hide the swallowed
        // fields inside the first one.
        let m = msg("OBX|1|ST|X1^\x1b$B%3%a1|x|\x1b$B;3K\\\x1b(B||F\r", "~ISO IR87");
        let err = Message::parse(&m).unwrap_err().to_string();
        assert!(err.contains("switches character set"), "{err}");
    }

    #[test]
    fn jis_text_running_to_the_end_of_the_segment_fails() {
        let m = msg("OBX|1|ST|X1^\x1b$B%3%a\rPID|1\r", "~ISO IR87");
        let err = Message::parse(&m).unwrap_err().to_string();
        assert!(err.contains("segment 2") && err.contains("end of the segment"), "{err}");
    }

    #[test]
    fn jis_pairs_holding_delimiter_bytes_still_parse() {
        // 0x5E5C (`^\\`) and 0x2D7C (`-|`) are pairs, and `^` (0x5E) as a first byte too.
        let m = msg("PID|1||X||\x1b$B^\\-|^^\x1b(B^A~\x1b$B2M\x1b(B\r", "~ISO IR87");
        let parsed = Message::parse(&m).unwrap();
        let f = parsed.delimiters.parse_field(parsed.segments[1].field(5));
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].len(), 2, "the ^ bytes inside the kanji split nothing");
    }

    #[test]
    fn both_msh18_spellings_and_utf8_are_read() {
        for spelling in ["~ISO IR87", "~ISOIR87", "ISO IR87", "", "~ISO_IR 87"] {
            let m = Message::parse(&msg("PID|1\r", spelling)).unwrap();
            assert_eq!(m.text, Text::Iso2022Jp, "{spelling}");
        }
        assert_eq!(Message::parse(&msg("PID|1\r", "UNICODE UTF-8")).unwrap().text, Text::Utf8);
        let err = Message::parse(&msg("PID|1\r", "KLINGON")).unwrap_err();
        assert!(err.to_string().contains("MSH-18"), "{err}");
    }

    #[test]
    fn an_unreadable_msh18_is_named_without_its_value() {
        // 05_values_in_audit: MSH-18 holding the patient's ID and phone number.
        let err = Message::parse(&msg("PID|1\r", "1234567890 03-1111-2222")).unwrap_err().to_string();
        assert!(err.contains("MSH-18"), "{err}");
        assert!(!err.contains("1234567890") && !err.contains("1111"), "{err}");
        // A name from HL7 table 0211 is shown as HL7 spells it.
        let err = Message::parse(&msg("PID|1\r", "UNICODE UTF-16")).unwrap_err().to_string();
        assert!(err.contains("(UNICODE UTF-16)"), "{err}");
    }

    #[test]
    fn escapes_decode_and_encode() {
        let d = Delimiters::default();
        let cases: [(&[u8], &str); 7] = [
            (b"a\\F\\b", "a|b"),
            (b"a\\S\\b\\T\\c\\R\\d\\E\\e", "a^b&c~d\\e"),
            (b"line1\\.br\\line2", "line1\nline2"),
            (b"\\H\\bold\\N\\", "bold"),
            (b"\\X41\\", "A"),
            (b"\\Zlocal\\x", "localx"),
            (b"unterminated \\F", "unterminated \\F"),
        ];
        for (bytes, want) in cases {
            assert_eq!(decode(bytes, &d, Text::Iso2022Jp).text, want, "{:?}", String::from_utf8_lossy(bytes));
        }
        assert_eq!(encode("a|b^c&d~e\\f\nx", &d, Text::Iso2022Jp).bytes, b"a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\x");
    }

    #[test]
    fn half_width_kana_and_cp932_only_characters_are_flagged() {
        let d = Delimiters::default();
        // ESC ( I katakana (ｶｸｳ) and raw GR bytes (ﾊﾅｺ).
        let v = decode(b"\x1b(I683\x1b(B^\xca\xc5\xba", &d, Text::Iso2022Jp);
        assert_eq!(v.text, "ｶｸｳ^ﾊﾅｺ");
        assert!(v.nonstandard);
        assert!(!decode(&hex(PID5), &d, Text::Iso2022Jp).nonstandard);
        // ① and 髙 are CP932-only: not encodable in JIS X 0208.
        for c in ["①", "髙"] {
            let e = encode(c, &d, Text::Iso2022Jp);
            assert!(!e.exact, "{c}");
        }
    }

    #[test]
    fn four_caret_kanji_repetition_still_splits() {
        // ssmixtwins writes `架空^花子^^^^L^I` (four carets): L lands in XPN.6, I in XPN.7.
        let d = Delimiters::default();
        let mut bytes = encode("架空", &d, Text::Iso2022Jp).bytes;
        bytes.push(b'^');
        bytes.extend(encode("花子", &d, Text::Iso2022Jp).bytes);
        bytes.extend_from_slice(b"^^^^L^I");
        let f = d.parse_field(&bytes);
        assert_eq!(f[0].len(), 7);
        assert_eq!(decode(&f[0][1][0], &d, Text::Iso2022Jp).text, "花子");
    }

    #[test]
    fn messages_round_trip_byte_for_byte() {
        let m = msg(
            "PID|0001||1234567890^^^^PI||\x1b$B2M6u\x1b(B^^^^^^L^I||19850315|F\rOBX|1|NM|X^Y^JC10||158.0|cm\r",
            "~ISO IR87",
        );
        let parsed = Message::parse(&m).unwrap();
        assert_eq!(parsed.to_bytes(), m);
        let crlf = String::from_utf8(m.clone()).unwrap().replace('\r', "\r\n").into_bytes();
        assert_eq!(Message::parse(&crlf).unwrap().to_bytes(), crlf);
        assert_eq!(parsed.segments[1].field(3), b"1234567890^^^^PI");
        assert_eq!(parsed.segments[0].field(9), b"ADT^A08^ADT_A01");
        assert_eq!(parsed.segments[0].field(1), b"|");
    }

    #[test]
    fn malformed_messages_name_the_segment() {
        let cases: [(&[u8], &str); 5] = [
            (b"hello world", "does not start with MSH"),
            (b"MSH|^~\\&|A|B|C|D|2024||ADT^A08|1|P|2.5\rpid|1\r", "segment 2"),
            (b"MSH|^~\\&|A|B|C|D|2024|||1|P|2.5\r", "MSH-9"),
            (b"MSH|^^\\&|A|B|C|D|2024||ADT^A08|1|P|2.5\r", "delimiters"),
            (b"MSH|^~\\&|A|B|C|D|2024||ADT^A08|1|P|2.5\rPID1234\r", "segment 2"),
        ];
        for (bytes, want) in cases {
            let err = Message::parse(bytes).unwrap_err().to_string();
            assert!(err.contains(want), "{err} (want {want})");
        }
    }

    /// Half-width katakana as a 7-bit `ESC ( I` run, back to ASCII at the end.
    fn kana7(s: &str) -> Vec<u8> {
        let mut out = b"\x1b(I".to_vec();
        out.extend(s.chars().map(|c| u8::try_from(c as u32 - 0xFF61 + 0x21).unwrap()));
        out.extend_from_slice(b"\x1b(B");
        out
    }

    #[test]
    fn r9_02_katakana_after_esc_paren_i_holds_no_delimiters() {
        // ﾞ is 0x5E (`^` in ASCII), ﾜ 0x5C (`\`), ｦ 0x26 (`&`): characters, not delimiters.
        let d = Delimiters::default();
        let mut pid5 = kana7("ﾔﾏﾀﾞ");
        pid5.push(b'^');
        pid5.extend(kana7("ﾀﾞｲｽｹ"));
        pid5.extend_from_slice(b"^^^^^L^P");
        let f = d.parse_field(&pid5);
        assert_eq!(f[0].len(), 8);
        let t = |c: usize| decode(&f[0][c][0], &d, Text::Iso2022Jp).text;
        assert_eq!((t(0), t(1), t(6), t(7)), ("ﾔﾏﾀﾞ".into(), "ﾀﾞｲｽｹ".into(), "L".into(), "P".into()));
        let odd = kana7("ﾜｦﾞ");
        assert_eq!(d.parse_field(&odd), vec![vec![vec![odd.clone()]]]);
        assert_eq!(decode(&odd, &d, Text::Iso2022Jp).text, "ﾜｦﾞ", "no HL7 escape in katakana");
        // A whole segment parses with the same split.
        let mut m = msg("PID|0001||X||", "~ISO IR87");
        m.extend_from_slice(&pid5);
        m.extend_from_slice(b"||19800101\r");
        let parsed = Message::parse(&m).unwrap();
        assert_eq!(parsed.segments[1].field(5), &pid5[..]);
        assert_eq!(parsed.segments[1].field(7), b"19800101");
    }

    #[test]
    fn r9_02_katakana_that_does_not_return_to_ascii_fails() {
        // `|` (0x7C) is no katakana: the sender did not return to ASCII before the delimiter.
        let m = msg("NTE|1||\x1b(I9];|x\x1b(B\r", "~ISO IR87");
        let err = Message::parse(&m).unwrap_err().to_string();
        assert!(err.contains("segment 2") && err.contains("before a delimiter"), "{err}");
        let m = msg("NTE|1||\x1b(I9];\r", "~ISO IR87");
        assert!(Message::parse(&m).unwrap_err().to_string().contains("end of the segment"));
        // Katakana followed by kanji without ASCII between them is ISO 2022 (Python writes it).
        let m = msg("NTE|1||\x1b(I9];\x1b$B;3\x1b(B^x\r", "~ISO IR87");
        let parsed = Message::parse(&m).unwrap();
        let f = parsed.delimiters.parse_field(parsed.segments[1].field(3));
        assert_eq!(parsed.decode(&f[0][0][0]).text, "ｹﾝｻ山");
    }

    /// The character range of `needle` in `text`.
    fn chars_of(text: &str, needle: &str) -> Range<usize> {
        let start = text[..text.find(needle).unwrap()].chars().count();
        start..start + needle.chars().count()
    }

    #[test]
    fn r9_12_splice_keeps_every_escape_outside_the_edit() {
        let d = Delimiters::default();
        let input: &[u8] = b"result A\\X0D\\result B\\.sp\\x \\H\\bold\\N\\ \\Zfoo\\ \\C2842\\\\M2442\\ \\X0D0A\\ \\.br\\ \\F\\ 2024/02/01 end";
        let text = decode(input, &d, Text::Iso2022Jp).text;
        let edit = (chars_of(&text, "2024/02/01"), "2023/12/09".to_string());
        let out = splice(input, &d, Text::Iso2022Jp, &[edit]).unwrap();
        assert!(out.exact);
        let want: &[u8] = b"result A\\X0D\\result B\\.sp\\x \\H\\bold\\N\\ \\Zfoo\\ \\C2842\\\\M2442\\ \\X0D0A\\ \\.br\\ \\F\\ 2023/12/09 end";
        assert_eq!(String::from_utf8_lossy(&out.bytes), String::from_utf8_lossy(want));
        // No edit: the bytes as they were.
        assert_eq!(splice(input, &d, Text::Iso2022Jp, &[]).unwrap().bytes, input);
        // An escape inside an edit goes with it; one that stands for characters on both sides
        // of an edit's end keeps the others as text.
        let input: &[u8] = b"AB\\H\\CD \\X5859\\Z";
        let text = decode(input, &d, Text::Iso2022Jp).text;
        let edits = [(chars_of(&text, "BC"), "*".to_string()), (chars_of(&text, "X"), "-".to_string())];
        assert_eq!(splice(input, &d, Text::Iso2022Jp, &edits).unwrap().bytes, b"A*D -YZ");
    }

    #[test]
    fn r9_03_splice_keeps_katakana_and_kanji_in_their_own_sets() {
        let d = Delimiters::default();
        // ｹﾝｻ ﾔﾏﾀﾞ ｹﾞﾝｷ, each run after ESC ( I: ﾔﾏﾀﾞ replaced, the ﾞ of ｹﾞﾝｷ stays katakana.
        let input = [kana7("ｹﾝｻ"), b" ".to_vec(), kana7("ﾔﾏﾀﾞ"), b" ".to_vec(), kana7("ｹﾞﾝｷ")].concat();
        let text = decode(&input, &d, Text::Iso2022Jp).text;
        assert_eq!(text, "ｹﾝｻ ﾔﾏﾀﾞ ｹﾞﾝｷ");
        let out = splice(&input, &d, Text::Iso2022Jp, &[(chars_of(&text, "ﾔﾏﾀﾞ"), "***".into())]).unwrap();
        assert_eq!(out.bytes, [kana7("ｹﾝｻ"), b" *** ".to_vec(), kana7("ｹﾞﾝｷ")].concat());
        assert!(out.exact);
        // Kanji and katakana runs without ASCII between them, a replacement inside the kanji.
        let input = [kana7("ｹﾝｻ"), encode("山田様", &d, Text::Iso2022Jp).bytes].concat();
        let text = decode(&input, &d, Text::Iso2022Jp).text;
        let out = splice(&input, &d, Text::Iso2022Jp, &[(chars_of(&text, "山田"), "***".into())]).unwrap();
        let mut want = kana7("ｹﾝｻ");
        want.extend_from_slice(b"***");
        want.extend(encode("様", &d, Text::Iso2022Jp).bytes);
        assert_eq!(out.bytes, want);
        assert_eq!(decode(&out.bytes, &d, Text::Iso2022Jp).text, "ｹﾝｻ***様");
        // Raw GR katakana stay GR; a replacement in full-width stays JIS X 0208.
        let input = b"\xb6\xc5 \x1b$B#2#0#2#4\x1b(B";
        let text = decode(input, &d, Text::Iso2022Jp).text;
        let out = splice(input, &d, Text::Iso2022Jp, &[(chars_of(&text, "２０２４"), "２０２３".into())]).unwrap();
        assert_eq!(out.bytes, b"\xb6\xc5 \x1b$B#2#0#2#3\x1b(B");
        // UTF-8 text.
        let input = "山田様 2024/02/01\\.br\\".as_bytes();
        let text = decode(input, &d, Text::Utf8).text;
        let out = splice(input, &d, Text::Utf8, &[(chars_of(&text, "山田"), "***".into())]).unwrap();
        assert_eq!(out.bytes, "***様 2024/02/01\\.br\\".as_bytes());
    }

    #[test]
    fn fields_can_be_replaced_and_trailing_empties_drop() {
        let mut m = Message::parse(&msg("PID|1||X||NAME||||||||\r", "")).unwrap();
        m.segments[1].set_field(5, Vec::new());
        m.segments[1].set_field(3, b"NEW".to_vec());
        let out = m.to_bytes();
        assert!(out.ends_with(b"\rPID|1||NEW\r"), "{}", String::from_utf8_lossy(&out));
    }

    /// `text` in Shift_JIS (CP932).
    fn sjis(text: &str) -> Vec<u8> {
        encoding_rs::SHIFT_JIS.encode(text).0.into_owned()
    }

    #[test]
    fn rv30_01_shift_jis_under_a_declared_utf8_is_read_whole_and_its_fields_stay() {
        // `ポ` is 0x83 0x7C: its second byte is `|`.
        let mut m = msg("", "UNICODE UTF-8");
        m.extend(sjis("PID|0001||1234567890^^^^PI||ポール^花子||19850315|F\r"));
        let parsed = Message::parse(&m).unwrap();
        assert!(parsed.read_as_shift_jis);
        assert_eq!(parsed.text, Text::Utf8);
        let pid = &parsed.segments[1];
        assert_eq!((pid.field(7), pid.field(8)), (&b"19850315"[..], &b"F"[..]));
        assert_eq!(parsed.decode(split(pid.field(5), b'^')[0]).text, "ポール");
    }

    #[test]
    fn rv30_01_a_shift_jis_field_in_an_iso_2022_jp_message_is_read_as_shift_jis() {
        let mut m = msg("", "~ISO IR87");
        m.extend_from_slice(b"PID|0001||1234567890^^^^PI||\x1b$B2M6u\x1b(B^^^^^^L^I||19850315|F|||");
        m.extend(sjis("^^^^999-9999^JPN^H^試験町１−２−３"));
        m.extend_from_slice(b"||03-5555-7777\r");
        let parsed = Message::parse(&m).unwrap();
        assert!(parsed.read_as_shift_jis);
        let pid = &parsed.segments[1];
        assert_eq!(pid.field(13), b"03-5555-7777");
        assert_eq!(parsed.decode(split(pid.field(5), b'^')[0]).text, "架空");
        assert_eq!(parsed.decode(split(pid.field(11), b'^')[7]).text, "試験町１−２−３");
    }

    #[test]
    fn rv30_01_bytes_that_could_split_a_shift_jis_character_and_fit_no_reading_fail() {
        // Shift_JIS `−` (0x81 0x7C) beside a byte valid in no reading (0xFF): not split.
        for msh18 in ["~ISO IR87", "UNICODE UTF-8", ""] {
            let mut m = msg("", msh18);
            m.extend_from_slice(b"PID|0001||1234567890^^^^PI||\x1b$B2M6u\x1b(B||19850315|F|||\xff");
            m.extend(sjis("１−２"));
            m.extend_from_slice(b"||03-5555-7777\r");
            let err = Message::parse(&m).unwrap_err();
            assert!(err.message.contains("cannot be told apart"), "{msh18}: {err}");
            assert!(!err.message.contains("5555"));
        }
    }

    #[test]
    fn rv30_01_latin1_letters_before_a_delimiter_still_split() {
        let m = [&msg("", "8859/1")[..], b"PID|0001||1234567890^^^^PI||Caf\xe9^Ren\xe9e||19850315|F\r"].concat();
        let parsed = Message::parse(&m).unwrap();
        assert!(!parsed.read_as_shift_jis);
        assert_eq!(parsed.decode(split(parsed.segments[1].field(5), b'^')[1]).text, "Renée");
        assert_eq!(parsed.segments[1].field(8), b"F");
    }

    #[test]
    fn rv30_03_escapes_holding_text_are_read_as_that_text() {
        let d = Delimiters::default();
        let cases: [(&[u8], &str); 9] = [
            (b"see \\Z03-5555-7777\\ today", "see 03-5555-7777 today"),
            (b"\\C1234567890\\", "1234567890"),
            (b"\\M12\\", "12"),
            (b"\\.in 1234567890\\x", " 1234567890x"),
            (b"\\.ti1234567890\\ok", "1234567890ok"),
            (b"\\.foo 12\\", "foo 12"),
            (b"\\C2842\\a\\M284244\\b", "ab"),
            (b"\\.in 4\\a\\.ti-2\\b\\.sp 2\\c", "abc"),
            (b"\\Z\x1b$B2M\\!\x1b(B\\x", "x"),
        ];
        for (bytes, want) in cases {
            let got = decode(bytes, &d, Text::Iso2022Jp).text;
            if bytes.starts_with(b"\\Z\x1b") {
                // A `\` byte inside a two-byte JIS code does not close the escape.
                assert!(got.ends_with('x') && got.chars().count() == 3 && !got.contains('\u{FFFD}'), "{got:?}");
            } else {
                assert_eq!(got, want, "{:?}", String::from_utf8_lossy(bytes));
            }
        }
    }
}
