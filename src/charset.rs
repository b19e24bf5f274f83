//! DICOM Specific Character Set (0008,0005): decoding and encoding of text values, including
//! ISO 2022 code extensions (PS3.3 C.12.1.1.2, PS3.5 §6.1.2.4–6.1.2.5, §6.2.1.2, Annex H–K).
//!
//! # Why kamei owns this
//!
//! dicom-rs 0.10 cannot be trusted with text in non-ASCII archives (see `notes/dicom-rs-0.10.md` §2
//! and `japan/README.md` §2):
//! - its stateful decoder honours only the *first* value of (0008,0005), so `\ISO 2022 IR 87`
//!   (Japanese), `\ISO 2022 IR 149` (Korean) and `ISO 2022 IR 13\ISO 2022 IR 87` come out with raw
//!   escape sequences left in the text;
//! - ISO 2022 escape sequences are not followed and G0/G1 are never switched;
//! - its IR 87 encoder does not return to ASCII at the end of a value, so the even-length pad falls
//!   inside JIS mode (a PS3.5 §6.2.1.2 violation), and its IR 13 encoder writes Shift-JIS;
//! - undecodable bytes become literal `\ooo` text, which changes a value on an unchanged round trip.
//!
//! A de-identifier must read names in every declared character set (otherwise it cannot see what
//! it has to remove) and must write replacement values that other tools read back correctly. This
//! module does both, on raw value bytes.
//!
//! # What it must not do
//!
//! - It never guesses. [`CharacterSet::decode`] reads bytes only in the character set(s) that
//!   (0008,0005) declares. Bytes that are not valid there (raw Shift-JIS in an `ISO_IR 100` file,
//!   an escape sequence in a set without code extensions, a designation of a set that was not
//!   declared) become U+FFFD and the result is flagged `exact = false`, so the caller can
//!   quarantine the value instead of trusting a guess. The one exception is explicit and narrow,
//!   for the Shift_JIS that Japanese modalities write whatever (0008,0005) says:
//!   [`CharacterSet::shift_jis_reading`] gives the CP932 reading of a Patient ID whose bytes the
//!   declared set does not allow ([`CharacterSet::utf8_reading`] its UTF-8 reading, first, when
//!   the bytes are clearly UTF-8), and [`CharacterSet::read`] reads any text value kamei looks
//!   inside by the same rule ([`Reading`]): UTF-8 or CP932 only where the declared set does not
//!   read the bytes cleanly, cleaned text written back in that encoding, and bytes valid in neither compared byte
//!   for byte (never as U+FFFD). Callers note that they did so.
//!   Unknown terms are an error, never a fallback; the one leniency
//!   ([`CharacterSet::from_value_lenient`], used where kamei must look inside text) reads a
//!   defined term written with other separators or case (`ISO-IR 100`) as that term.
//! - It never changes the bytes of a value nobody asked it to re-encode: it only turns bytes into
//!   text ([`CharacterSet::decode`]) or new text into bytes ([`CharacterSet::encode`]). Callers keep
//!   the original bytes of values they do not replace.
//!
//! # Mappings pinned here
//!
//! Tables come from `encoding_rs` (WHATWG), checked code by code against Python's codecs (which
//! pydicom uses). Where they differ, kamei follows Python and the national standards' mapping
//! tables, so that kamei and pydicom read a file the same way:
//! - ISO-IR 100 (Latin-1) is done by hand (WHATWG maps that label to windows-1252); so are
//!   ISO-IR 148 (WHATWG: windows-1254) and ISO-IR 166 / TIS-620 (WHATWG: windows-874). In those
//!   three, bytes 0x80–0x9F are C1 controls, not windows-125x punctuation. The other ISO 8859
//!   parts (2, 3, 4, 5, 6, 7, 8, 15) agree with Python byte for byte and come from `encoding_rs`.
//! - JIS X 0208 (ISO-IR 87): six codes decode to the JIS/Unicode-table form, not the CP932 form:
//!   0x2141 → U+301C WAVE DASH (not U+FF5E), 0x2142 → U+2016 (not U+2225), 0x215D → U+2212 MINUS
//!   SIGN (not U+FF0D), 0x2171 → U+00A2, 0x2172 → U+00A3, 0x224C → U+00AC (not U+FFE0/1/2). On
//!   encoding both forms are accepted for these codes. Only rows 1–8 and 16–84 are JIS X 0208: the
//!   CP932 vendor rows (NEC row 13, IBM rows 89–92) decode to U+FFFD and are not encoded.
//! - JIS X 0212 (ISO-IR 159): 0x2237 decodes to U+007E TILDE (JIS0212.TXT, Python), not U+FF5E.
//! - GB 2312 (ISO-IR 58): 0x2124 → U+30FB (not U+00B7) and 0x212A → U+2015 (not U+2014); both
//!   forms are accepted on encoding. GBK extension codes inside the GR range are not GB 2312.
//! - KS X 1001 (ISO-IR 149): as `encoding_rs`; 0x2454 is HANGUL FILLER U+3164 (Python rejects it).
//!   Hangul outside the 2350 precomposed syllables (the UHC extension) is not representable.
//! - JIS X 0201 Roman (G0 of ISO-IR 13) is read as ASCII: 0x5C is `\` and 0x7E is `~`, not `¥`
//!   and `‾`, as in Python's `shift_jis` and pydicom. 0x5C must stay the value delimiter
//!   (PS3.5 §6.1.2.5.3 calls it the delimiter whatever G0 is).
//! - ISO-IR 126 and 138 register the 1987/1988 editions of ISO 8859-7 and -8; like Python (and
//!   Unicode's current tables) kamei also accepts the later additions: € ₯ ͺ at 0xA4, 0xA5, 0xAA
//!   in Greek, LRM/RLM at 0xFD/0xFE in Hebrew.
//! - `GBK` is read strictly as two-byte GBK: a four-byte GB18030 sequence in a `GBK` value is not
//!   exact.
//!
//! # Code extensions
//!
//! - Only G0 (GL, bytes 0x21–0x7E) and G1 (GR, bytes 0xA0–0xFF) are used, as DICOM requires; C1
//!   bytes 0x80–0x9F are not valid with code extensions.
//! - The initial state comes from value 1 (empty value 1 = ISO-IR 6). If value 1 names a
//!   double-byte G0 set (`ISO 2022 IR 87` alone), values still start in ASCII, as ISO-2022-JP
//!   does; if it names a G1 set (`ISO 2022 IR 149` alone), that set is in G1 from the start.
//! - Decoder and encoder return to the initial state at the end of the value, before every C0
//!   control character other than ESC (CR, LF, FF, TAB…, PS3.5 §6.1.2.5.3), before `\` in
//!   multi-valued VRs, and before `^` and `=` in PN. A G1 that value 1 leaves empty has no escape
//!   to "undesignate" it: it is re-designated after the delimiter (PS3.5 Annex I's Korean example).
//! - While a double-byte set is in G0, bytes are read in pairs, so a `\`, `^` or `=` byte inside a
//!   kanji code (JIS 0x5E5C 湃) is not a delimiter. A delimiter byte at a pair boundary that is
//!   not followed by another GL byte is a delimiter an encoder forgot to switch back before: the
//!   decoder resets there too.
//! - Only sets declared in (0008,0005) may be designated; any other escape sequence becomes
//!   U+FFFD, changes nothing, and flags the value ([`Decoded::unfollowed_escape`]: the text after
//!   it is not to be trusted). `ESC ( B` (ISO-IR 6) is always accepted, because real files
//!   return from kanji with it even when value 1 is `ISO 2022 IR 13` (pydicom's chrSQEncoding1).
//!   `ESC $ @` (JIS C 6226-1978, the older designation of the same two-byte codes) is read as
//!   `ESC $ B` where IR 87 is declared, as Python's `iso2022_jp` and iconv read it.
//! - `ISO_IR n` next to other terms is read as `ISO 2022 IR n` (`ISO_IR 13\ISO 2022 IR 87` is
//!   common); `ISO_IR 192`, `GB18030` and `GBK` may only be used alone.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use dicom_core::VR;
use encoding_rs::{
    DecoderResult, EUC_JP, EUC_KR, EncoderResult, Encoding, GB18030, GBK, ISO_8859_2, ISO_8859_3, ISO_8859_4,
    ISO_8859_5, ISO_8859_6, ISO_8859_7, ISO_8859_8, ISO_8859_15, UTF_8,
};

/// The escape character that starts an ISO 2022 escape sequence.
const ESC: u8 = 0x1B;
/// What undecodable bytes become.
const REPLACEMENT: char = '\u{FFFD}';
/// What unrepresentable characters become.
const SUBSTITUTE: u8 = b'?';

/// A parsed Specific Character Set: the list of terms in (0008,0005), possibly with code
/// extensions.
///
/// It knows how to turn the bytes of a string value into text and new text into bytes, following
/// the ISO 2022 escape sequences and the reset rules of PS3.5 when the terms allow code
/// extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharacterSet {
    terms: Vec<String>,
    kind: Kind,
}

/// A term kamei does not support; carries the term (a charset name, never patient data).
///
/// Returned for unknown defined terms, and for `ISO_IR 192`, `GB18030` or `GBK` inside a
/// multi-valued (0008,0005), which the standard forbids and whose meaning would be a guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedCharset {
    /// The offending term, trimmed (at most 64 characters are kept).
    pub term: String,
}

impl fmt::Display for UnsupportedCharset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unsupported Specific Character Set term {:?}", self.term)
    }
}

impl std::error::Error for UnsupportedCharset {}

/// Decoded text and whether decoding was exact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text, untrimmed. Undecodable bytes appear as U+FFFD.
    pub text: String,
    /// False when some bytes were not valid in the declared set (they became U+FFFD).
    pub exact: bool,
    /// True when the value holds an escape sequence this character set does not follow (an
    /// unknown one, a designation of a set (0008,0005) does not declare, or any escape in a set
    /// without code extensions). The bytes after it were read in the sets in force before, so
    /// the text says nothing reliable about them: callers that look for identifiers treat the
    /// value as undecodable. Implies `exact = false`.
    pub unfollowed_escape: bool,
}

/// Encoded bytes and whether every character was representable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The bytes, not padded: padding to even length is the caller's job.
    pub bytes: Vec<u8>,
    /// False when some characters were not representable (they became `?`).
    pub exact: bool,
}

/// How a character set reads bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// One single-byte set without code extensions: G0 and G1 never change.
    Fixed(Designations),
    /// `ISO_IR 192`.
    Utf8,
    /// `GB18030`.
    Gb18030,
    /// `GBK`.
    Gbk,
    /// ISO 2022 code extensions: an initial state and the sets that may be designated, in the
    /// order the encoder prefers them.
    Extended { initial: Designations, sets: Vec<Graphic> },
}

/// What G0 and G1 hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Designations {
    g0: Graphic,
    g1: Option<Graphic>,
}

impl Designations {
    fn designate(&mut self, set: Graphic) {
        if set.is_g0() {
            self.g0 = set;
        } else {
            self.g1 = Some(set);
        }
    }

    fn holds(&self, set: Graphic) -> bool {
        if set.is_g0() { self.g0 == set } else { self.g1 == Some(set) }
    }
}

/// The right-hand (96-character) halves of the single-byte sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Upper {
    Latin1,
    Latin2,
    Latin3,
    Latin4,
    Cyrillic,
    Arabic,
    Greek,
    Hebrew,
    Latin5,
    Latin9,
    Thai,
}

impl Upper {
    const ALL: [Upper; 11] = [
        Upper::Latin1,
        Upper::Latin2,
        Upper::Latin3,
        Upper::Latin4,
        Upper::Cyrillic,
        Upper::Arabic,
        Upper::Greek,
        Upper::Hebrew,
        Upper::Latin5,
        Upper::Latin9,
        Upper::Thai,
    ];

    /// Final byte of the G1 designation `ESC - F` (PS3.3 Table C.12-3).
    fn final_byte(self) -> u8 {
        match self {
            Upper::Latin1 => b'A',
            Upper::Latin2 => b'B',
            Upper::Latin3 => b'C',
            Upper::Latin4 => b'D',
            Upper::Cyrillic => b'L',
            Upper::Arabic => b'G',
            Upper::Greek => b'F',
            Upper::Hebrew => b'H',
            Upper::Latin5 => b'M',
            Upper::Latin9 => b'b',
            Upper::Thai => b'T',
        }
    }

    /// The encoding_rs table, where it matches the ISO 8859 part (checked against Python's
    /// codecs for every byte 0x80–0xFF). `None` where WHATWG substitutes a windows-125x table.
    fn whatwg(self) -> Option<&'static Encoding> {
        match self {
            Upper::Latin2 => Some(ISO_8859_2),
            Upper::Latin3 => Some(ISO_8859_3),
            Upper::Latin4 => Some(ISO_8859_4),
            Upper::Cyrillic => Some(ISO_8859_5),
            Upper::Arabic => Some(ISO_8859_6),
            Upper::Greek => Some(ISO_8859_7),
            Upper::Hebrew => Some(ISO_8859_8),
            Upper::Latin9 => Some(ISO_8859_15),
            Upper::Latin1 | Upper::Latin5 | Upper::Thai => None,
        }
    }

    /// The character of byte `b` (0xA0–0xFF), computed without the table.
    fn compute(self, b: u8) -> Option<char> {
        match self.whatwg() {
            Some(encoding) => decode_one(encoding, &[b]),
            None => self.by_hand(b),
        }
    }

    /// Latin-1, Latin-5 and TIS-620, whose WHATWG labels mean windows-125x.
    fn by_hand(self, b: u8) -> Option<char> {
        match (self, b) {
            (Upper::Latin5, 0xD0) => Some('\u{011E}'),
            (Upper::Latin5, 0xDD) => Some('\u{0130}'),
            (Upper::Latin5, 0xDE) => Some('\u{015E}'),
            (Upper::Latin5, 0xF0) => Some('\u{011F}'),
            (Upper::Latin5, 0xFD) => Some('\u{0131}'),
            (Upper::Latin5, 0xFE) => Some('\u{015F}'),
            (Upper::Thai, 0xA1..=0xDA | 0xDF..=0xFB) => char::from_u32(u32::from(b) + 0x0D60),
            (Upper::Thai, _) => None,
            _ => Some(char::from(b)),
        }
    }

    fn decode(self, b: u8) -> Option<char> {
        let index = usize::from(b.checked_sub(0xA0)?);
        upper_tables()[self as usize].get(index).copied().flatten()
    }

    fn encode(self, c: char) -> Option<u8> {
        let index = upper_tables()[self as usize].iter().position(|&slot| slot == Some(c))?;
        u8::try_from(index).ok().map(|i| 0xA0 + i)
    }
}

/// The 96 characters of each [`Upper`] set (bytes 0xA0–0xFF), built once.
fn upper_tables() -> &'static [[Option<char>; 96]; 11] {
    static TABLES: OnceLock<[[Option<char>; 96]; 11]> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut tables = [[None; 96]; 11];
        for set in Upper::ALL {
            for (slot, b) in tables[set as usize].iter_mut().zip(0xA0..=0xFF_u8) {
                *slot = set.compute(b);
            }
        }
        tables
    })
}

/// A graphic character set that G0 or G1 can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Graphic {
    /// ISO-IR 6 (ASCII), G0.
    Ascii,
    /// ISO-IR 14 (JIS X 0201 Roman), G0; read as ASCII (see the module doc).
    JisRoman,
    /// A right-hand half of a single-byte set, G1.
    Upper(Upper),
    /// ISO-IR 13 (JIS X 0201 katakana), G1.
    Katakana,
    /// ISO-IR 87 (JIS X 0208), G0.
    Jis0208,
    /// ISO-IR 159 (JIS X 0212), G0.
    Jis0212,
    /// ISO-IR 149 (KS X 1001), G1.
    Ksx1001,
    /// ISO-IR 58 (GB 2312), G1.
    Gb2312,
}

/// One encoded character: one byte or two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    One(u8),
    Two([u8; 2]),
}

impl Graphic {
    fn all() -> impl Iterator<Item = Graphic> {
        [
            Graphic::Ascii,
            Graphic::JisRoman,
            Graphic::Katakana,
            Graphic::Jis0208,
            Graphic::Jis0212,
            Graphic::Ksx1001,
            Graphic::Gb2312,
        ]
        .into_iter()
        .chain(Upper::ALL.into_iter().map(Graphic::Upper))
    }

    fn is_g0(self) -> bool {
        matches!(self, Graphic::Ascii | Graphic::JisRoman | Graphic::Jis0208 | Graphic::Jis0212)
    }

    fn is_double(self) -> bool {
        matches!(self, Graphic::Jis0208 | Graphic::Jis0212 | Graphic::Ksx1001 | Graphic::Gb2312)
    }

    /// Intermediate bytes and final byte of the designation escape sequence
    /// (PS3.3 Tables C.12-3 and C.12-4).
    fn escape_tail(self) -> (&'static [u8], u8) {
        match self {
            Graphic::Ascii => (b"(", b'B'),
            Graphic::JisRoman => (b"(", b'J'),
            Graphic::Katakana => (b")", b'I'),
            Graphic::Upper(set) => (b"-", set.final_byte()),
            Graphic::Jis0208 => (b"$", b'B'),
            Graphic::Jis0212 => (b"$(", b'D'),
            Graphic::Ksx1001 => (b"$)", b'C'),
            Graphic::Gb2312 => (b"$)", b'A'),
        }
    }

    fn push_escape(self, out: &mut Vec<u8>) {
        let (intermediates, final_byte) = self.escape_tail();
        out.push(ESC);
        out.extend_from_slice(intermediates);
        out.push(final_byte);
    }

    /// The set an escape sequence designates (`ESC` excluded). `ESC $ ( B` is the long form of
    /// `ESC $ B` in ISO 2022 and is accepted too, and so is `ESC $ @`, the designation of JIS C
    /// 6226-1978, whose codes JIS X 0208 took over (legacy Japanese systems still write it;
    /// Python's `iso2022_jp` and iconv read it as JIS X 0208). The encoder writes `ESC $ B` only.
    fn designated_by(intermediates: &[u8], final_byte: u8) -> Option<Graphic> {
        if (intermediates == b"$(" && final_byte == b'B') || (intermediates == b"$" && final_byte == b'@') {
            return Some(Graphic::Jis0208);
        }
        Graphic::all().find(|set| set.escape_tail() == (intermediates, final_byte))
    }

    /// The character of one byte in this (single-byte) set; GL bytes for G0, GR bytes for G1.
    fn decode_single(self, b: u8) -> Option<char> {
        match self {
            Graphic::Ascii | Graphic::JisRoman => (0x20..=0x7F).contains(&b).then_some(char::from(b)),
            Graphic::Katakana => {
                (0xA1..=0xDF).contains(&b).then(|| char::from_u32(0xFF61 + u32::from(b - 0xA1))).flatten()
            }
            Graphic::Upper(set) => set.decode(b),
            Graphic::Jis0208 | Graphic::Jis0212 | Graphic::Ksx1001 | Graphic::Gb2312 => None,
        }
    }

    /// The character of a two-byte code in this (double-byte) set; GL bytes for G0, GR for G1.
    fn decode_pair(self, b1: u8, b2: u8) -> Option<char> {
        match self {
            Graphic::Jis0208 => jis0208_decode(b1, b2),
            Graphic::Jis0212 => jis0212_decode(b1, b2),
            Graphic::Ksx1001 => decode_one(EUC_KR, &[b1, b2]),
            Graphic::Gb2312 => gb2312_decode(b1 & 0x7F, b2 & 0x7F),
            _ => None,
        }
    }

    /// The code of `c` in this set, as the bytes to write (GL for G0, GR for G1).
    fn encode(self, c: char) -> Option<Code> {
        match self {
            Graphic::Ascii | Graphic::JisRoman => ascii_byte(c).filter(|&b| b >= 0x20).map(Code::One),
            Graphic::Katakana => katakana_byte(c).map(Code::One),
            Graphic::Upper(set) => set.encode(c).map(Code::One),
            Graphic::Jis0208 => jis0208_encode(c).map(Code::Two),
            Graphic::Jis0212 => jis0212_encode(c).map(Code::Two),
            Graphic::Ksx1001 => ksx1001_encode(c).map(Code::Two),
            Graphic::Gb2312 => gb2312_encode(c).map(|[b1, b2]| Code::Two([b1 | 0x80, b2 | 0x80])),
        }
    }
}

/// `c` as a byte if it is ASCII.
fn ascii_byte(c: char) -> Option<u8> {
    u8::try_from(c).ok().filter(u8::is_ascii)
}

fn katakana_byte(c: char) -> Option<u8> {
    let offset = u32::from(c).checked_sub(0xFF61)?;
    u8::try_from(offset).ok().filter(|&o| o <= 0xDF - 0xA1).map(|o| 0xA1 + o)
}

/// A byte of a 94-character set in GL.
fn is_gl(b: u8) -> bool {
    (0x21..=0x7E).contains(&b)
}

/// A byte of a 94-character set in GR.
fn is_gr(b: u8) -> bool {
    (0xA1..=0xFE).contains(&b)
}

/// Decodes `bytes` as exactly one character with an encoding_rs decoder.
fn decode_one(encoding: &'static Encoding, bytes: &[u8]) -> Option<char> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut out = [0u8; 8];
    let (result, read, written) = decoder.decode_to_utf8_without_replacement(bytes, &mut out, true);
    if !matches!(result, DecoderResult::InputEmpty) || read != bytes.len() {
        return None;
    }
    let text = std::str::from_utf8(out.get(..written)?).ok()?;
    let mut chars = text.chars();
    let c = chars.next()?;
    chars.next().is_none().then_some(c)
}

/// Encodes one character with an encoding_rs encoder; `None` if it is unmappable.
fn encode_char(encoding: &'static Encoding, c: char) -> Option<Vec<u8>> {
    let mut encoder = encoding.new_encoder();
    let mut utf8 = [0u8; 4];
    let mut out = [0u8; 8];
    let (result, _, written) = encoder.encode_from_utf8_without_replacement(c.encode_utf8(&mut utf8), &mut out, true);
    match result {
        EncoderResult::InputEmpty => out.get(..written).map(<[u8]>::to_vec),
        _ => None,
    }
}

/// Encodes one character as a two-byte code in GR (EUC form); `None` otherwise.
fn encode_gr_pair(encoding: &'static Encoding, c: char) -> Option<[u8; 2]> {
    match encode_char(encoding, c)?.as_slice() {
        &[b1, b2] if is_gr(b1) && is_gr(b2) => Some([b1, b2]),
        _ => None,
    }
}

/// JIS X 0208 codes whose Unicode mapping differs between the JIS table (Python `iso2022_jp`,
/// decoded form) and CP932/WHATWG (also accepted on encoding): (code, JIS form, CP932 form).
const JIS0208_PINS: [(u16, char, char); 6] = [
    (0x2141, '\u{301C}', '\u{FF5E}'),
    (0x2142, '\u{2016}', '\u{2225}'),
    (0x215D, '\u{2212}', '\u{FF0D}'),
    (0x2171, '\u{00A2}', '\u{FFE0}'),
    (0x2172, '\u{00A3}', '\u{FFE1}'),
    (0x224C, '\u{00AC}', '\u{FFE2}'),
];

/// GB 2312 codes whose Unicode mapping differs between the GB 2312 table (Python `gb2312`,
/// decoded form) and GBK/WHATWG (also accepted on encoding).
const GB2312_PINS: [(u16, char, char); 2] = [(0x2124, '\u{30FB}', '\u{00B7}'), (0x212A, '\u{2015}', '\u{2014}')];

/// Partial rows of GB 2312 (row byte, first cell, last cell), checked against Python's `gb2312`
/// codec; rows 0x30–0x56 and 0x58–0x77 are full.
const GB2312_PARTIAL_ROWS: [(u8, u8, u8); 15] = [
    (0x21, 0x21, 0x7E),
    (0x22, 0x31, 0x62),
    (0x22, 0x65, 0x6E),
    (0x22, 0x71, 0x7C),
    (0x23, 0x21, 0x7E),
    (0x24, 0x21, 0x73),
    (0x25, 0x21, 0x76),
    (0x26, 0x21, 0x38),
    (0x26, 0x41, 0x58),
    (0x27, 0x21, 0x41),
    (0x27, 0x51, 0x71),
    (0x28, 0x21, 0x3A),
    (0x28, 0x45, 0x69),
    (0x29, 0x24, 0x6F),
    (0x57, 0x21, 0x79),
];

fn pinned_char(pins: &[(u16, char, char)], b1: u8, b2: u8) -> Option<char> {
    let code = u16::from_be_bytes([b1, b2]);
    pins.iter().find(|pin| pin.0 == code).map(|pin| pin.1)
}

fn pinned_code(pins: &[(u16, char, char)], c: char) -> Option<[u8; 2]> {
    pins.iter().find(|pin| pin.1 == c || pin.2 == c).map(|pin| pin.0.to_be_bytes())
}

/// Rows of JIS X 0208 proper (1–8, 16–84); the others in CP932 are vendor extensions.
fn jis0208_row(b1: u8) -> bool {
    matches!(b1, 0x21..=0x28 | 0x30..=0x74)
}

fn jis0208_decode(b1: u8, b2: u8) -> Option<char> {
    if let Some(c) = pinned_char(&JIS0208_PINS, b1, b2) {
        return Some(c);
    }
    if !jis0208_row(b1) {
        return None;
    }
    decode_one(EUC_JP, &[b1 | 0x80, b2 | 0x80])
}

fn jis0208_encode(c: char) -> Option<[u8; 2]> {
    if let Some(code) = pinned_code(&JIS0208_PINS, c) {
        return Some(code);
    }
    let [e1, e2] = encode_gr_pair(EUC_JP, c)?;
    let code = [e1 & 0x7F, e2 & 0x7F];
    jis0208_row(code[0]).then_some(code)
}

fn jis0212_decode(b1: u8, b2: u8) -> Option<char> {
    if [b1, b2] == [0x22, 0x37] {
        return Some('~');
    }
    decode_one(EUC_JP, &[0x8F, b1 | 0x80, b2 | 0x80])
}

/// JIS X 0212 has no encoder in encoding_rs (WHATWG decodes it only): build the reverse table
/// once from the decoder. ASCII is left out: it always goes to G0 ASCII.
fn jis0212_encode(c: char) -> Option<[u8; 2]> {
    static INDEX: OnceLock<HashMap<char, [u8; 2]>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut index = HashMap::new();
        for b1 in 0x21..=0x7E_u8 {
            for b2 in 0x21..=0x7E_u8 {
                if let Some(decoded) = jis0212_decode(b1, b2).filter(|d| !d.is_ascii()) {
                    index.entry(decoded).or_insert([b1, b2]);
                }
            }
        }
        index
    });
    index.get(&c).copied()
}

fn ksx1001_encode(c: char) -> Option<[u8; 2]> {
    encode_gr_pair(EUC_KR, c)
}

/// GB 2312 code (7-bit row and cell bytes) defined?
fn gb2312_defined(row: u8, cell: u8) -> bool {
    match row {
        0x30..=0x56 | 0x58..=0x77 => is_gl(cell),
        _ => GB2312_PARTIAL_ROWS.iter().any(|&(r, first, last)| r == row && (first..=last).contains(&cell)),
    }
}

/// Decodes a GB 2312 code given as 7-bit row and cell bytes.
fn gb2312_decode(row: u8, cell: u8) -> Option<char> {
    if let Some(c) = pinned_char(&GB2312_PINS, row, cell) {
        return Some(c);
    }
    if !gb2312_defined(row, cell) {
        return None;
    }
    decode_one(GBK, &[row | 0x80, cell | 0x80])
}

/// Encodes to a GB 2312 code as 7-bit row and cell bytes.
fn gb2312_encode(c: char) -> Option<[u8; 2]> {
    if let Some(code) = pinned_code(&GB2312_PINS, c) {
        return Some(code);
    }
    let [e1, e2] = encode_gr_pair(GBK, c)?;
    let code = [e1 & 0x7F, e2 & 0x7F];
    gb2312_defined(code[0], code[1]).then_some(code)
}

/// VRs whose values may be separated by `\` (PS3.5 Table 6.2-1); ST, LT, UT and UR may not.
fn is_multi_valued(vr: VR) -> bool {
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
            | VR::PN
            | VR::SH
            | VR::TM
            | VR::UC
            | VR::UI
    )
}

/// A byte before which the initial state must be active and after which it is (PS3.5
/// §6.1.2.5.3, §6.2.1.2): a C0 control other than ESC, `\` in multi-valued VRs, `^` and `=` in PN.
fn is_reset_byte(b: u8, vr: VR) -> bool {
    (b < 0x20 && b != ESC) || (b == b'\\' && is_multi_valued(vr)) || (vr == VR::PN && (b == b'^' || b == b'='))
}

/// One parsed term of (0008,0005).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Term {
    /// `ISO_IR n`: a single-byte set without code extensions.
    Plain(Designations),
    /// `ISO 2022 IR n`: what it designates to G0 and G1.
    Extension { g0: Option<Graphic>, g1: Option<Graphic> },
    /// `ISO_IR 192`.
    Utf8,
    /// `GB18030`.
    Gb18030,
    /// `GBK`.
    Gbk,
}

impl Term {
    fn parse(term: &str) -> Option<Term> {
        if let Some(number) = term.strip_prefix("ISO_IR ") {
            if number == "192" {
                return Some(Term::Utf8);
            }
            return single_byte_set(number).map(Term::Plain);
        }
        if let Some(number) = term.strip_prefix("ISO 2022 IR ") {
            return extension_term(number);
        }
        match term {
            "GB18030" => Some(Term::Gb18030),
            "GBK" => Some(Term::Gbk),
            _ => None,
        }
    }

    /// The term as a code extension term; `ISO_IR n` is accepted as `ISO 2022 IR n` (real files
    /// write `ISO_IR 13\ISO 2022 IR 87`).
    fn as_extension(self) -> Option<(Option<Graphic>, Option<Graphic>)> {
        match self {
            Term::Plain(d) => Some((Some(d.g0), d.g1)),
            Term::Extension { g0, g1 } => Some((g0, g1)),
            Term::Utf8 | Term::Gb18030 | Term::Gbk => None,
        }
    }
}

/// G0 and G1 of the single-byte set numbered `number` (the ISO-IR registration number).
fn single_byte_set(number: &str) -> Option<Designations> {
    let g1 = match number {
        "6" => None,
        "13" => Some(Graphic::Katakana),
        "100" => Some(Graphic::Upper(Upper::Latin1)),
        "101" => Some(Graphic::Upper(Upper::Latin2)),
        "109" => Some(Graphic::Upper(Upper::Latin3)),
        "110" => Some(Graphic::Upper(Upper::Latin4)),
        "144" => Some(Graphic::Upper(Upper::Cyrillic)),
        "127" => Some(Graphic::Upper(Upper::Arabic)),
        "126" => Some(Graphic::Upper(Upper::Greek)),
        "138" => Some(Graphic::Upper(Upper::Hebrew)),
        "148" => Some(Graphic::Upper(Upper::Latin5)),
        "203" => Some(Graphic::Upper(Upper::Latin9)),
        "166" => Some(Graphic::Upper(Upper::Thai)),
        _ => return None,
    };
    let g0 = if number == "13" { Graphic::JisRoman } else { Graphic::Ascii };
    Some(Designations { g0, g1 })
}

fn extension_term(number: &str) -> Option<Term> {
    if let Some(d) = single_byte_set(number) {
        return Some(Term::Extension { g0: Some(d.g0), g1: d.g1 });
    }
    let set = match number {
        "87" => Graphic::Jis0208,
        "159" => Graphic::Jis0212,
        "149" => Graphic::Ksx1001,
        "58" => Graphic::Gb2312,
        _ => return None,
    };
    Some(if set.is_g0() {
        Term::Extension { g0: Some(set), g1: None }
    } else {
        Term::Extension { g0: None, g1: Some(set) }
    })
}

/// One value of (0008,0005) as a term: trimmed of spaces and NULs.
fn trim_term(raw: &[u8]) -> String {
    let is_pad = |b: &u8| *b == b' ' || *b == 0;
    let start = raw.iter().position(|b| !is_pad(b)).unwrap_or(raw.len());
    let end = raw.iter().rposition(|b| !is_pad(b)).map_or(start, |i| i + 1);
    String::from_utf8_lossy(raw.get(start..end).unwrap_or_default()).into_owned()
}

fn unsupported(term: &str) -> UnsupportedCharset {
    UnsupportedCharset { term: term.chars().take(64).collect() }
}

/// The code extension state for `terms` (at least one, value 1 first).
fn extended_kind(terms: &[String]) -> Result<Kind, UnsupportedCharset> {
    let mut declared = Vec::with_capacity(terms.len());
    for term in terms {
        let parsed = if term.is_empty() {
            Some((Some(Graphic::Ascii), None))
        } else {
            Term::parse(term).and_then(Term::as_extension)
        };
        declared.push(parsed.ok_or_else(|| unsupported(term))?);
    }
    let (first_g0, first_g1) = declared.first().copied().unwrap_or((None, None));
    // Value 1 normally declares a single-byte G0. If it names a double-byte G0 set (IR 87 or
    // IR 159 alone), values start in ASCII as in ISO-2022-JP; a G1 set is designated at once.
    let initial = Designations { g0: first_g0.filter(|g| !g.is_double()).unwrap_or(Graphic::Ascii), g1: first_g1 };
    let mut sets = vec![initial.g0];
    sets.extend(initial.g1);
    for (g0, g1) in declared {
        sets.extend(g0);
        sets.extend(g1);
    }
    sets.push(Graphic::Ascii);
    let mut unique = Vec::with_capacity(sets.len());
    for set in sets {
        if !unique.contains(&set) {
            unique.push(set);
        }
    }
    Ok(Kind::Extended { initial, sets: unique })
}

/// The kind of a single-valued (0008,0005).
fn single_kind(term: &str) -> Result<Kind, UnsupportedCharset> {
    match Term::parse(term).ok_or_else(|| unsupported(term))? {
        Term::Plain(d) => Ok(Kind::Fixed(d)),
        Term::Utf8 => Ok(Kind::Utf8),
        Term::Gb18030 => Ok(Kind::Gb18030),
        Term::Gbk => Ok(Kind::Gbk),
        Term::Extension { .. } => extended_kind(&[term.to_owned()]),
    }
}

/// The Defined Terms of Specific Character Set (PS3.3 C.12.1.1.2), for
/// [`CharacterSet::from_value_lenient`].
const DEFINED_TERMS: &[&str] = &[
    "ISO_IR 6",
    "ISO_IR 100",
    "ISO_IR 101",
    "ISO_IR 109",
    "ISO_IR 110",
    "ISO_IR 144",
    "ISO_IR 127",
    "ISO_IR 126",
    "ISO_IR 138",
    "ISO_IR 148",
    "ISO_IR 203",
    "ISO_IR 13",
    "ISO_IR 166",
    "ISO_IR 192",
    "GB18030",
    "GBK",
    "ISO 2022 IR 6",
    "ISO 2022 IR 100",
    "ISO 2022 IR 101",
    "ISO 2022 IR 109",
    "ISO 2022 IR 110",
    "ISO 2022 IR 144",
    "ISO 2022 IR 127",
    "ISO 2022 IR 126",
    "ISO 2022 IR 138",
    "ISO 2022 IR 148",
    "ISO 2022 IR 203",
    "ISO 2022 IR 13",
    "ISO 2022 IR 166",
    "ISO 2022 IR 87",
    "ISO 2022 IR 159",
    "ISO 2022 IR 149",
    "ISO 2022 IR 58",
];

/// A term without separators, in upper case: `ISO-IR 100` and `ISO_IR 100` give `ISOIR100`.
fn squeeze(term: &str) -> String {
    term.chars().filter(|c| !matches!(c, ' ' | '_' | '-')).map(|c| c.to_ascii_uppercase()).collect()
}

impl CharacterSet {
    /// The default repertoire (ISO-IR 6, i.e. ASCII), used when (0008,0005) is absent or empty.
    pub fn default_repertoire() -> CharacterSet {
        CharacterSet { terms: Vec::new(), kind: Kind::Fixed(Designations { g0: Graphic::Ascii, g1: None }) }
    }

    /// Parse the raw value bytes of (0008,0005): values split on '\', each trimmed of spaces/NULs;
    /// an empty first value means ISO-IR 6 (e.g. `\ISO 2022 IR 87`).
    ///
    /// A value with no non-empty term is the default repertoire. With more than one value, code
    /// extensions are in use and `ISO_IR n` is read as `ISO 2022 IR n`; `ISO_IR 192`, `GB18030`
    /// and `GBK` may only stand alone. Terms are case-sensitive.
    ///
    /// # Errors
    /// [`UnsupportedCharset`] naming the first term that is unknown or not allowed where it is.
    pub fn from_value(raw: &[u8]) -> Result<CharacterSet, UnsupportedCharset> {
        let terms: Vec<String> = raw.split(|&b| b == b'\\').map(trim_term).collect();
        if terms.iter().all(String::is_empty) {
            return Ok(CharacterSet::default_repertoire());
        }
        let kind = match terms.as_slice() {
            [single] => single_kind(single)?,
            _ => extended_kind(&terms)?,
        };
        Ok(CharacterSet { terms, kind })
    }

    /// Like [`from_value`](Self::from_value), but a term the standard does not define and that
    /// is a defined term spelled with other separators or case (`ISO-IR 100`, `ISO 2022 IR87`,
    /// `iso_ir 192`, as some writers send) is read as that defined term. kamei must look inside
    /// such text to find the patient's name in it; the value itself is never rewritten.
    ///
    /// # Errors
    /// [`UnsupportedCharset`] when a term matches no defined term even so.
    pub fn from_value_lenient(raw: &[u8]) -> Result<CharacterSet, UnsupportedCharset> {
        let strict = CharacterSet::from_value(raw);
        if strict.is_ok() {
            return strict;
        }
        let respelled: Vec<String> = raw
            .split(|&b| b == b'\\')
            .map(|t| {
                let t = trim_term(t);
                let key = squeeze(&t);
                DEFINED_TERMS.iter().find(|d| squeeze(d) == key).map_or(t, |d| (*d).to_string())
            })
            .collect();
        CharacterSet::from_value(respelled.join("\\").as_bytes()).or(strict)
    }

    /// The terms as parsed (e.g. ["", "ISO 2022 IR 87"]); empty for the default repertoire.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// True for the default repertoire only (absent or empty (0008,0005), or `ISO_IR 6`): plain
    /// ASCII without code extensions.
    pub fn is_default(&self) -> bool {
        self.kind == Kind::Fixed(Designations { g0: Graphic::Ascii, g1: None })
    }

    /// Decode a value of a string VR (SH, LO, ST, LT, UT, UC, PN, CS, AE, ...). Do not trim.
    ///
    /// Pass the whole element value and split multiple values on `\` in the *text*: in GBK,
    /// GB18030 and JIS X 0208 a byte 0x5C can be half of a character. The VR decides where the
    /// ISO 2022 state returns to value 1's (see the module doc); the declared set is applied
    /// whatever the VR. Never panics; bytes not valid in the declared set become U+FFFD with
    /// `exact = false`.
    pub fn decode(&self, bytes: &[u8], vr: VR) -> Decoded {
        self.decode_with(bytes, vr, false)
    }

    /// [`decode`](Self::decode), with each invalid byte as its [`byte_mark`] instead of U+FFFD
    /// when `marked`.
    fn decode_with(&self, bytes: &[u8], vr: VR, marked: bool) -> Decoded {
        match &self.kind {
            Kind::Utf8 => decode_whole(UTF_8, bytes, marked),
            Kind::Gb18030 => decode_whole(GB18030, bytes, marked),
            Kind::Gbk => decode_gbk(bytes, marked),
            Kind::Fixed(designations) => Iso2022Decoder::new(*designations, &[], vr, marked).run(bytes),
            Kind::Extended { initial, sets } => Iso2022Decoder::new(*initial, sets, vr, marked).run(bytes),
        }
    }

    /// The Shift_JIS (CP932) reading of an identifier value (a Patient ID) whose bytes are not
    /// valid in this character set: `None` when they are (or are plain ASCII), or when they are
    /// not valid CP932 either.
    ///
    /// Japanese modalities often write Shift_JIS where (0008,0005) is absent or says `ISO_IR 13`,
    /// `ISO_IR 100`, `ISO_IR 192` or `\ISO 2022 IR 87`; a Patient ID typed in full-width digits
    /// is then the CP932 bytes of `１２３４５６７`. "Not valid" means: the declared set does not
    /// decode the bytes exactly, or decodes them to control characters, which an identifier
    /// cannot hold (Latin-1 reads the lead byte 0x82 as a C1 control). This is the one place
    /// kamei reads bytes in a set that was not declared; callers note that it did. CP932 is
    /// `encoding_rs::SHIFT_JIS`, as the clinical CSV side reads Shift_JIS exports, so the same
    /// patient gets the same ID on both sides.
    pub fn shift_jis_reading(&self, bytes: &[u8], vr: VR) -> Option<String> {
        if self.reads_id_cleanly(bytes, vr) {
            return None;
        }
        let text = encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes)?;
        (!text.chars().any(char::is_control)).then(|| text.into_owned())
    }

    /// The UTF-8 reading of an identifier value (a Patient ID) whose bytes are not valid in
    /// this character set and are clearly UTF-8 (valid, with a character of three bytes or more,
    /// and not plain CP932 instead: see [`Reading`]): a system that writes UTF-8
    /// under an absent or `ISO_IR 100` (0008,0005) gives the UTF-8 bytes of `１２３４５６７`, which
    /// Latin-1 reads as C1 controls. Tried before [`shift_jis_reading`](Self::shift_jis_reading);
    /// callers note that they did so.
    pub fn utf8_reading(&self, bytes: &[u8], vr: VR) -> Option<String> {
        if self.reads_id_cleanly(bytes, vr) {
            return None;
        }
        utf8_text(bytes)
    }

    /// The ISO-2022-JP reading of an identifier value (a Patient ID) holding escape sequences
    /// this set does not follow: a JIS X 0208 value (`ESC $ B` and full-width digits or kanji,
    /// as an ISO 2022 IR 87 system writes) in a file that declares no such set. `None` when
    /// this set decodes the bytes without control characters, or when they are not valid
    /// ISO-2022-JP. Callers note that they read it so.
    pub fn iso2022_jp_reading(&self, bytes: &[u8], vr: VR) -> Option<String> {
        if !bytes.contains(&0x1B) {
            return None;
        }
        let declared = self.decode(bytes, vr);
        if declared.exact && !declared.text.trim_end_matches('\0').chars().any(char::is_control) {
            return None;
        }
        if let Some(text) = undeclared_jis(bytes, vr) {
            return Some(text);
        }
        let text = encoding_rs::ISO_2022_JP.decode_without_bom_handling_and_without_replacement(bytes)?;
        (!text.trim_end_matches('\0').chars().any(char::is_control)).then(|| text.into_owned())
    }

    /// The EUC-JP reading of an identifier value (a Patient ID) whose bytes are not valid in
    /// this set: a legacy Japanese system's EUC-JP bytes under an absent, `ISO_IR 192` or ISO
    /// 2022 (0008,0005). EUC-JP bytes are mostly valid CP932 too (as half-width katakana and
    /// kanji that mean nothing), so this reading is taken only when it is clearly the right
    /// one: the text, NFKC-normalised, is ASCII letters, digits and dashes (an ID typed in
    /// full-width characters, `１２３４５６７`), or the bytes are not valid CP932. `None`
    /// otherwise. Tried before [`shift_jis_reading`](Self::shift_jis_reading); callers note that
    /// they did so.
    pub fn euc_jp_reading(&self, bytes: &[u8], vr: VR) -> Option<String> {
        if self.reads_id_cleanly(bytes, vr) {
            return None;
        }
        let text = encoding_rs::EUC_JP.decode_without_bom_handling_and_without_replacement(bytes)?;
        let text = text.trim_end_matches(['\0', ' ']);
        if text.is_empty() || text.chars().any(char::is_control) {
            return None;
        }
        let plain: String = unicode_normalization::UnicodeNormalization::nfkc(text).collect();
        let id_shaped = plain.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        let cp932 = encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes).is_some();
        (id_shaped || !cp932).then(|| text.to_string())
    }

    /// Whether this set reads an identifier's bytes as they are: ASCII, or decoded exactly
    /// without control characters (NUL padding aside).
    fn reads_id_cleanly(&self, bytes: &[u8], vr: VR) -> bool {
        if bytes.is_ascii() {
            return true;
        }
        let declared = self.decode(bytes, vr);
        declared.exact && !declared.text.trim_end_matches('\0').chars().any(char::is_control)
    }

    /// Encode text for a value of a string VR, in this character set, following PS3.5
    /// §6.1.2.5.3 / §6.2.1.2: with ISO 2022 sets, designate only as needed and return to the
    /// initial state (value 1's G0/G1) at the end of the value and before each delimiter: '\'
    /// for every multi-valued VR, '^' and '=' in PN, CR/LF/FF/TAB in ST/LT/UT/UC.
    ///
    /// (Every C0 control other than ESC resets, in every VR, as §6.1.2.5.3 says.) Each character
    /// goes to G0 or G1 as they stand if it can, else to the first declared set that has it.
    /// Characters no declared set has, and ESC itself, become `?` with `exact = false`. The
    /// result is not padded to even length.
    pub fn encode(&self, text: &str, vr: VR) -> Encoded {
        match &self.kind {
            Kind::Utf8 => encode_whole(UTF_8, text),
            Kind::Gb18030 => encode_whole(GB18030, text),
            Kind::Gbk => encode_whole(GBK, text),
            Kind::Fixed(designations) => Iso2022Encoder::new(*designations, &[], vr).run(text),
            Kind::Extended { initial, sets } => Iso2022Encoder::new(*initial, sets, vr).run(text),
        }
    }
}

/// How kamei reads a text value it looks inside (to collect identifiers, to find them, to clean
/// text): [`CharacterSet::read`].
///
/// Japanese modalities often write Shift_JIS where (0008,0005) is absent or says `ISO_IR 13`,
/// `ISO_IR 100`, `ISO_IR 192` or `\ISO 2022 IR 87`, and older Unix workstations EUC-JP. Reading
/// such bytes in the declared set alone turned them into U+FFFD (or Latin-1 letters), so a name
/// written that way was missed, two different words compared equal, and cleaned text was
/// written back with `?`. The rule, the same for every value and for `deid` and `verify` alike:
/// - bytes that are clearly EUC-JP (`euc_jp_text`: Japanese text with a byte a CP932 reading
///   of half-width katakana cannot hold) under a declared Latin-alphabet set or none are read as
///   EUC-JP ([`Reading::EucJp`]): Latin-1 reads every EUC-JP byte as a letter, so without this
///   the text would be read cleanly as nonsense no Japanese rule applies to;
/// - else bytes that decode cleanly in the declared set (exactly, without control characters
///   other than TAB, LF, FF, CR) are read in it ([`Reading::Declared`]);
/// - else clearly UTF-8 bytes are read as UTF-8, clearly EUC-JP bytes (not plain CP932) as
///   EUC-JP, and bytes that are valid CP932 whose text has no such control character as CP932
///   ([`Reading::ShiftJis`]); cleaned text is written back in that encoding, each character
///   with the code the value used for it ([`OwnCodes`]: CP932 has two codes for the NEC-selected
///   IBM extension kanji such as `髙`, and user-defined codes no encoder writes), so every byte
///   outside a match stays as it was;
/// - else bytes the declared set decodes exactly (a Latin-1 value holding C1 controls) are read
///   in it;
/// - else the value is [`Reading::Undecodable`]: its text holds each byte that is not valid
///   where it stands as its own mark ([`byte_mark`]) instead of U+FFFD, so it compares byte for
///   byte with identifiers read the same way and never matches on a replacement character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// Read in the declared character set.
    Declared(String),
    /// Not clean in the declared set and clearly UTF-8 ([`CharacterSet::utf8_reading`]); read
    /// as UTF-8.
    Utf8(String),
    /// Not valid in the declared set; read as Shift_JIS (CP932), with the codes of the value's
    /// characters that CP932 has more than one code for or does not encode ([`OwnCodes`]).
    ShiftJis(String, OwnCodes),
    /// Clearly EUC-JP (`euc_jp_text`) under a Latin-alphabet set or none, or not valid in the
    /// declared set; read as EUC-JP, with the value's own codes as for CP932.
    EucJp(String, OwnCodes),
    /// Valid in neither: text for comparing only, never re-encoded. Each byte not valid where it
    /// stands is its [`byte_mark`]; after an escape sequence the set does not follow, every byte
    /// is read as [`bytes_text`] reads it.
    Undecodable(String),
}

impl Reading {
    /// The text compared with identifiers (marks in place of invalid bytes when undecodable).
    pub fn text(&self) -> &str {
        match self {
            Reading::Declared(t)
            | Reading::Utf8(t)
            | Reading::ShiftJis(t, _)
            | Reading::EucJp(t, _)
            | Reading::Undecodable(t) => t,
        }
    }

    /// The text, when the value was decoded (in its declared set or as CP932): what may be
    /// cleaned and written back ([`CharacterSet::write_back`]). `None` when undecodable.
    pub fn decoded(&self) -> Option<&str> {
        match self {
            Reading::Declared(t) | Reading::Utf8(t) | Reading::ShiftJis(t, _) | Reading::EucJp(t, _) => Some(t),
            Reading::Undecodable(_) => None,
        }
    }

    /// Whether the value reads as plain text: decoded, with no control character text may not
    /// hold (NUL padding at the end aside). A value of unknown type that does not is taken for
    /// binary data.
    pub fn is_text(&self) -> bool {
        self.decoded().is_some_and(|t| !holds_stray_control(t))
    }

    /// Whether the value was read as Shift_JIS (CP932): callers note it in the audit (the tag,
    /// never the value).
    pub fn is_shift_jis(&self) -> bool {
        matches!(self, Reading::ShiftJis(..))
    }

    /// The set a value not clean in its declared set was read in, for the audit note (the
    /// tag, never the value): `None` when it was read in the declared set or not decoded.
    pub fn undeclared_set(&self) -> Option<&'static str> {
        match self {
            Reading::Utf8(_) => Some("UTF-8"),
            Reading::ShiftJis(..) => Some("Shift_JIS (CP932)"),
            Reading::EucJp(..) => Some("EUC-JP"),
            Reading::Declared(_) | Reading::Undecodable(_) => None,
        }
    }
}

/// The mark that stands for a byte not valid where it stands: a Yi syllable (U+A000 + byte),
/// a letter of a script no value of these archives uses, without case or decomposition. One
/// mark per byte value, so marks compare equal only where the bytes are equal; a letter, so
/// identifiers made of such bytes are specific enough to look for; not ASCII, so an ASCII word
/// beside one is still a whole word.
pub fn byte_mark(b: u8) -> char {
    char::from_u32(0xA000 + u32::from(b)).unwrap_or(REPLACEMENT)
}

/// Text of bytes that cannot be decoded at all (an unsupported character set, an escape
/// sequence the declared set does not follow), for comparing byte for byte: ASCII bytes as
/// they are, every other byte as its [`byte_mark`]; escape sequences are dropped, and each GL
/// byte after one that does not return to ASCII (`ESC ( B`, `ESC ( J`) is marked too, so the
/// two-byte codes of a name compare with the same codes anywhere in another value (as letters
/// of other scripts do, not as ASCII words). A control character returns to ASCII.
pub fn bytes_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut opaque = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == ESC {
            let tail = bytes.get(i + 1..).unwrap_or_default();
            let count = tail.iter().take_while(|b| (0x20..=0x2F).contains(*b)).count();
            let sequence = tail.get(..=count).unwrap_or(tail);
            opaque = !matches!(sequence, b"(B" | b"(J");
            i += 1 + sequence.len();
            continue;
        }
        if b < 0x20 {
            opaque = false;
        }
        let marked = !b.is_ascii() || (opaque && (0x21..=0x7E).contains(&b));
        out.push(if marked { byte_mark(b) } else { char::from(b) });
        i += 1;
    }
    out
}

/// A value holding an ESC byte (ANSI colour codes a console left, `ESC [ 1 m`; a stray ESC; an
/// ISO 2022 designation the declared set does not use, `ESC ( J`) as bytes without its escapes,
/// for finding the patient's identifiers in it as text: [`bytes_text`] reads the bytes after
/// such an escape as codes of another set, so `ESC [ 1 m KAWAGUCHI` would never show the name.
/// Two variants, as an ESC may or may not start a sequence: each escape sequence (ESC, its
/// intermediate bytes 0x20–0x2F and a final byte; for ANSI `ESC [`, its parameter bytes too)
/// replaced by a space (`note ESC ( J KAWAGUCHI` → `note  KAWAGUCHI`), and each ESC byte alone
/// replaced by a space (`Seen ESC PID8812345` → `Seen  PID8812345`). Empty when there is no
/// ESC. The caller reads each in the value's set; the deid safety net and `kamei verify`
/// search the same variants, so a value one of them finds an identifier in is one rule.
pub fn without_escapes(bytes: &[u8]) -> Vec<Vec<u8>> {
    if !bytes.contains(&ESC) {
        return Vec::new();
    }
    let mut sequences = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != ESC {
            sequences.push(b);
            i += 1;
            continue;
        }
        let tail = bytes.get(i + 1..).unwrap_or_default();
        let length = if tail.first() == Some(&b'[') {
            // ANSI control sequence: `[`, parameters and intermediates, one final byte.
            let body = tail[1..].iter().take_while(|b| (0x20..=0x3F).contains(*b)).count();
            let last = tail.get(1 + body).filter(|b| (0x40..=0x7E).contains(*b)).map_or(0, |_| 1);
            1 + body + last
        } else {
            let intermediates = tail.iter().take_while(|b| (0x20..=0x2F).contains(*b)).count();
            let last = tail.get(intermediates).filter(|b| (0x30..=0x7E).contains(*b)).map_or(0, |_| 1);
            intermediates + last
        };
        sequences.push(b' ');
        i += 1 + length;
    }
    let alone = bytes.iter().map(|&b| if b == ESC { b' ' } else { b }).collect();
    vec![sequences, alone]
}

/// The readings of bytes as UTF-16 text, for finding identifiers in binary values (a private
/// blob written by Windows software holds its strings as UTF-16): little- and big-endian, from
/// the first and from the second byte (a string may start at an odd offset), each with every
/// character that is not a letter, digit, `^`, `=`, `-`, `.` or `/` read as a space (the dots
/// of a UID and the separators of a date stay, so both are found as in 8-bit text). Bytes of
/// any other kind read as scattered letters of other scripts, which no identifier matches.
pub fn utf16_readings(bytes: &[u8]) -> [String; 4] {
    let reading = |start: usize, big_endian: bool| -> String {
        let units = bytes
            .get(start..)
            .unwrap_or_default()
            .chunks_exact(2)
            .map(|p| if big_endian { u16::from_be_bytes([p[0], p[1]]) } else { u16::from_le_bytes([p[0], p[1]]) });
        char::decode_utf16(units)
            .map(|c| match c {
                Ok(c) if c.is_alphanumeric() || matches!(c, '^' | '=' | '-' | '.' | '/') => c,
                _ => ' ',
            })
            .collect()
    };
    [reading(0, false), reading(1, false), reading(0, true), reading(1, true)]
}

/// The readings of text bytes in the encodings a value may be in whatever (0008,0005) says,
/// each only when the bytes are valid in it and hold more than ASCII: UTF-8 (undeclared UTF-8,
/// a RIS feeding a Latin-1 modality), CP932, EUC-JP and ISO-2022-JP (legacy Japanese systems).
/// For looking for identifiers in text read otherwise (see [`CharacterSet::read`]): an
/// identifier found only in one of these is in a value kamei cannot clean in place.
pub fn foreign_readings(bytes: &[u8]) -> Vec<String> {
    foreign_decodings(bytes, |encoding, bytes| {
        encoding.decode_without_bom_handling_and_without_replacement(bytes).map(|t| t.into_owned())
    })
}

/// [`foreign_readings`] of a binary value (a private blob, which holds text among other
/// bytes): each decoding with its invalid bytes replaced, so text between them still reads.
pub fn foreign_readings_lossy(bytes: &[u8]) -> Vec<String> {
    foreign_decodings(bytes, |encoding, bytes| Some(encoding.decode_without_bom_handling(bytes).0.into_owned()))
}

fn foreign_decodings(
    bytes: &[u8],
    decode: impl Fn(&'static encoding_rs::Encoding, &[u8]) -> Option<String>,
) -> Vec<String> {
    let bytes = &bytes[..bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1)];
    let mut readings: Vec<String> = Vec::new();
    if bytes.is_ascii() && !bytes.contains(&ESC) {
        return readings;
    }
    let encodings = [encoding_rs::UTF_8, encoding_rs::SHIFT_JIS, encoding_rs::EUC_JP, encoding_rs::ISO_2022_JP];
    for encoding in encodings {
        if let Some(text) = decode(encoding, bytes).filter(|t| !t.is_ascii() && !readings.contains(t)) {
            readings.push(text);
        }
    }
    readings
}

/// The reading of bytes holding ISO 2022 escape sequences that (0008,0005) does not declare
/// (`ESC $ B` and JIS X 0208 kanji in a file with no Specific Character Set, as an ISO 2022 IR 87
/// system writes), read as `\ISO 2022 IR 87\ISO 2022 IR 159` declares them: the initial set
/// ASCII, and — as PS3.5 §6.1.2.5.3 requires of the writer — back in it at each delimiter of the
/// VR (`^` and `=` of a Person Name, `\` between values, a line end), whether or not the writer
/// wrote `ESC ( B` there. A sloppy writer's `YAMADA^TARO=ESC$B;3ED^ESC$BB@O:` (no return before
/// `^`) reads `YAMADA^TARO=山田^太郎`, as a well-formed one does; ISO-2022-JP decoders that keep
/// JIS X 0208 in force across `^` fail on it. `None` when the bytes are not valid so.
pub(crate) fn undeclared_jis(bytes: &[u8], vr: VR) -> Option<String> {
    static JIS: OnceLock<CharacterSet> = OnceLock::new();
    let jis = JIS.get_or_init(|| {
        CharacterSet::from_value(b"\\ISO 2022 IR 87\\ISO 2022 IR 159").expect("defined terms kamei supports")
    });
    if !bytes.contains(&ESC) {
        return None;
    }
    let d = jis.decode(bytes, vr);
    (d.exact && !d.unfollowed_escape && !holds_stray_control(&d.text)).then_some(d.text)
}

/// A control character text may not hold: every one but TAB, LF, FF and CR (which ST, LT and
/// UT use). Latin-1 reads the Shift_JIS lead bytes 0x81–0x9F as C1 controls.
fn is_stray_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\x0C' | '\r')
}

/// Whether decoded text holds a control character text may not hold ([`is_stray_control`]),
/// not counting NUL padding at the end: some writers pad with NUL where the standard says a
/// space, and a padded value is still text of its declared set (read as CP932 instead, the
/// UTF-8 of `ヤマダタロウ` or the Latin-1 of `MÜLLER` would be mojibake no name matches).
fn holds_stray_control(text: &str) -> bool {
    text.trim_end_matches('\0').chars().any(is_stray_control)
}

/// The codes a value read in an undeclared Japanese encoding ([`Reading::ShiftJis`],
/// [`Reading::EucJp`]) used for characters the encoder would write otherwise or not at all:
/// CP932 has two codes for each NEC-selected IBM extension kanji (`髙` is `EE E0` and `FB FC`;
/// the encoder writes the second) and for the NEC row 13 symbols, and user-defined codes (gaiji,
/// `F0 40`–`F9 FC`) decode to private-use characters no encoder writes. Cleaned text is written
/// back with these codes, so the bytes outside a match stay as they were. A character written
/// with two different codes in one value is written back with the first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OwnCodes(Vec<(char, Vec<u8>)>);

impl OwnCodes {
    /// The value's own code for `c`, when it differs from the encoder's.
    fn of(&self, c: char) -> Option<&[u8]> {
        self.0.iter().find(|(k, _)| *k == c).map(|(_, code)| code.as_slice())
    }

    /// Whether every character of the value has the encoder's code.
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Bytes without their NUL padding at the end (some writers pad with NUL).
fn without_nul_pad(bytes: &[u8]) -> &[u8] {
    &bytes[..bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1)]
}

/// How many bytes the CP932 character starting with `b` takes.
fn cp932_len(b: u8) -> usize {
    match b {
        0x81..=0x9F | 0xE0..=0xFC => 2,
        _ => 1,
    }
}

/// How many bytes the EUC-JP character starting with `b` takes (`8E`: half-width katakana,
/// `8F`: JIS X 0212).
fn euc_jp_len(b: u8) -> usize {
    match b {
        0x8E | 0xA1..=0xFE => 2,
        0x8F => 3,
        _ => 1,
    }
}

/// Bytes decoded character by character in a stateless multi-byte encoding (`len` tells how
/// many bytes a character takes from its first byte), with the codes that differ from the
/// encoder's ([`OwnCodes`]): `None` when a character is not valid or the text holds a stray
/// control character ([`is_stray_control`]).
fn decode_own(encoding: &'static Encoding, bytes: &[u8], len: fn(u8) -> usize) -> Option<(String, OwnCodes)> {
    let mut text = String::with_capacity(bytes.len() * 2);
    let mut own = OwnCodes::default();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii() {
            text.push(char::from(b));
            i += 1;
            continue;
        }
        let unit = bytes.get(i..i + len(b))?;
        let c = decode_one(encoding, unit)?;
        if encode_char(encoding, c).as_deref() != Some(unit) && own.of(c).is_none() {
            own.0.push((c, unit.to_vec()));
        }
        text.push(c);
        i += unit.len();
    }
    (!text.chars().any(is_stray_control)).then_some((text, own))
}

/// Text encoded in a stateless encoding, each character with the value's own code where it has
/// one ([`OwnCodes`]): `None` when a character has no code (the caller writes a dummy, never
/// `?`).
fn encode_own(encoding: &'static Encoding, text: &str, own: &OwnCodes) -> Option<Vec<u8>> {
    if own.is_empty() {
        let (bytes, _, unmappable) = encoding.encode(text);
        return (!unmappable).then(|| bytes.into_owned());
    }
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match own.of(c) {
            Some(code) => out.extend_from_slice(code),
            None if c.is_ascii() => out.push(c as u8),
            None => out.extend(encode_char(encoding, c)?),
        }
    }
    Some(out)
}

/// The CP932 reading of non-ASCII bytes, with the codes of its characters that CP932 would
/// write otherwise ([`OwnCodes`]): `None` when the bytes are ASCII, not valid CP932, or read
/// as a stray control character. NUL padding at the end is left out.
fn cp932(bytes: &[u8]) -> Option<(String, OwnCodes)> {
    let bytes = without_nul_pad(bytes);
    if bytes.is_ascii() {
        return None;
    }
    decode_own(encoding_rs::SHIFT_JIS, bytes, cp932_len)
}

/// Whether a CP932 reading is what UTF-8 or EUC-JP bytes read as CP932 are not: no half-width
/// katakana, no user-defined (private-use) character, every code the one CP932 writes.
fn plain_cp932(bytes: &[u8]) -> bool {
    let odd = |c: char| ('\u{FF61}'..='\u{FF9F}').contains(&c) || ('\u{E000}'..='\u{F8FF}').contains(&c);
    cp932(bytes).is_some_and(|(t, own)| own.is_empty() && !t.chars().any(odd))
}

/// The EUC-JP reading of non-ASCII bytes, with its own codes ([`OwnCodes`]): `None` when the
/// bytes are ASCII, not valid EUC-JP, or read as a stray control character. NUL padding at the
/// end is left out.
fn euc_jp(bytes: &[u8]) -> Option<(String, OwnCodes)> {
    let bytes = without_nul_pad(bytes);
    if bytes.is_ascii() {
        return None;
    }
    decode_own(EUC_JP, bytes, euc_jp_len)
}

/// A character of Japanese text: kana, kanji, CJK punctuation, a full-width form.
fn is_japanese(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{30FF}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{FF01}'..='\u{FF5E}')
}

/// The EUC-JP reading of bytes that are clearly EUC-JP: valid EUC-JP whose text holds two
/// Japanese characters in a row ([`is_japanese`]: Latin letters in Latin-1 are never four
/// high bytes in a row) and no half-width katakana, that is not plain CP932 ([`plain_cp932`])
/// instead, and with a byte of 0xE0 or above or, when every byte is ASCII or 0xA1–0xDF (text
/// that CP932 and JIS X 0201 read as half-width katakana too: hiragana and katakana in EUC-JP
/// are `A4 xx` and `A5 xx`), only Japanese characters and a CP932 reading that is no plausible
/// half-width text ([`implausible_half_width`]: `さとう` is `､ｵ､ﾈ､ｦ` there).
fn euc_jp_text(bytes: &[u8]) -> Option<(String, OwnCodes)> {
    let (text, own) = euc_jp(bytes)?;
    let chars: Vec<char> = text.chars().collect();
    let run = chars.windows(2).any(|w| w.iter().all(|&c| is_japanese(c)));
    let half_width = chars.iter().any(|c| ('\u{FF61}'..='\u{FF9F}').contains(c));
    let beyond_katakana = without_nul_pad(bytes).iter().any(|&b| b >= 0xE0);
    let kana_bytes = || {
        chars.iter().all(|&c| c.is_ascii() || is_japanese(c))
            && cp932(bytes).is_some_and(|(t, _)| implausible_half_width(&t))
    };
    (run && !half_width && !plain_cp932(bytes) && (beyond_katakana || kana_bytes())).then_some((text, own))
}

/// Whether a CP932 reading's half-width katakana are no plausible text, as EUC-JP bytes read
/// as CP932 come out: a half-width full stop, comma or middle dot (`｡､･`, bytes A1, A4, A5: the
/// lead bytes of EUC-JP symbols, hiragana and katakana) that starts a word or stands next to
/// another or one character from it (`､ｵ､ﾈ`), or a voiced sound mark (`ﾞ`, `ﾟ`) that starts a word or follows a
/// character that takes none. Half-width kana names (`ﾔﾏﾀﾞ ﾀﾛｳ`, `ｼﾞｮﾝ･ｽﾐｽ`) have neither.
pub(crate) fn implausible_half_width(text: &str) -> bool {
    let is_mark = |c: char| matches!(c, '\u{FF61}' | '\u{FF64}' | '\u{FF65}');
    let is_half = |c: char| ('\u{FF61}'..='\u{FF9F}').contains(&c);
    // ｳ, ｶ–ﾄ, ﾊ–ﾎ take ﾞ; ﾊ–ﾎ take ﾟ.
    let voiced = |c: char, mark: char| match mark {
        '\u{FF9E}' => {
            c == '\u{FF73}' || ('\u{FF76}'..='\u{FF84}').contains(&c) || ('\u{FF8A}'..='\u{FF8E}').contains(&c)
        }
        _ => ('\u{FF8A}'..='\u{FF8E}').contains(&c),
    };
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().any(|(i, &c)| {
        let before = i.checked_sub(1).map(|j| chars[j]).filter(|&b| is_half(b));
        let two_before = i.checked_sub(2).map(|j| chars[j]);
        if is_mark(c) {
            // `､` after a word (`ﾔﾏﾀﾞ､ﾀﾛｳ`) is a comma; at a word's start, or beside another.
            before.is_none() || before.is_some_and(is_mark) || two_before.is_some_and(is_mark)
        } else if matches!(c, '\u{FF9E}' | '\u{FF9F}') {
            !before.is_some_and(|b| voiced(b, c))
        } else {
            false
        }
    })
}

/// The UTF-8 reading of non-ASCII bytes when they are clearly UTF-8 (NUL padding at the end
/// left out): valid UTF-8 holding a character of three bytes or more (kana, kanji, full-width
/// forms: what a Japanese system writes), with no stray control character, and not plain CP932
/// instead (valid CP932 that encodes back to the same bytes without half-width katakana, which
/// is how UTF-8 bytes read as CP932 come out). Two-byte UTF-8 alone (`Müller`) is left to the
/// other rules: CP932 half-width katakana (`ﾅｶ`) can be valid UTF-8 of that kind.
fn utf8_text(bytes: &[u8]) -> Option<String> {
    let bytes = &bytes[..bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1)];
    if bytes.is_ascii() {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if !text.chars().any(|c| c.len_utf8() >= 3) || text.chars().any(is_stray_control) {
        return None;
    }
    (!plain_cp932(bytes)).then(|| text.to_string())
}

/// Non-ASCII bytes that are valid UTF-8 (NUL padding at the end left out), as text: one more
/// reading of an identifier ([`CharacterSet::identifier_readings`]).
fn any_utf8(bytes: &[u8]) -> Option<String> {
    let bytes = &bytes[..bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1)];
    std::str::from_utf8(bytes).ok().filter(|t| !t.is_ascii()).map(str::to_string)
}

/// Encode text in CP932, with the encoder's codes: `None` when a character has no CP932 code
/// (the caller then writes a dummy, never `?`). [`Reading::ShiftJis`] values are written back
/// with their own codes ([`CharacterSet::write_back`]).
pub fn encode_shift_jis(text: &str) -> Option<Vec<u8>> {
    encode_own(encoding_rs::SHIFT_JIS, text, &OwnCodes::default())
}

impl CharacterSet {
    /// Read a text value as kamei looks inside text: see [`Reading`] for the rule. Never panics.
    pub fn read(&self, bytes: &[u8], vr: VR) -> Reading {
        let declared = self.decode_with(bytes, vr, true);
        if declared.unfollowed_escape {
            return Reading::Undecodable(bytes_text(bytes));
        }
        let euc = euc_jp_text(bytes);
        if declared.exact && !holds_stray_control(&declared.text) {
            return match euc {
                Some((text, own)) if self.is_latin_alphabet() => Reading::EucJp(text, own),
                _ => Reading::Declared(declared.text),
            };
        }
        if let Some(text) = utf8_text(bytes) {
            return Reading::Utf8(text);
        }
        if let Some((text, own)) = euc {
            return Reading::EucJp(text, own);
        }
        if let Some((text, own)) = cp932(bytes) {
            return Reading::ShiftJis(text, own);
        }
        if declared.exact { Reading::Declared(declared.text) } else { Reading::Undecodable(declared.text) }
    }

    /// Whether this set is the default repertoire or one Latin-alphabet part of ISO 8859 without
    /// code extensions: a set whose high bytes are scattered accented letters, never four in a
    /// row, so text that is clearly EUC-JP is read as EUC-JP in it ([`Reading`]). Not the
    /// Cyrillic, Greek, Arabic, Hebrew or Thai parts, whose words are runs of high bytes.
    fn is_latin_alphabet(&self) -> bool {
        match &self.kind {
            Kind::Fixed(d) => matches!(
                d.g1,
                None | Some(Graphic::Upper(
                    Upper::Latin1 | Upper::Latin2 | Upper::Latin3 | Upper::Latin4 | Upper::Latin5 | Upper::Latin9
                ))
            ),
            _ => false,
        }
    }

    /// Every reading of an identifying value (a Person Name, an ID, an address) that text
    /// holding the same bytes may be read in: [`read`](Self::read)'s, the declared set's (with
    /// marks for invalid bytes), the CP932 one, the EUC-JP one and the UTF-8 one (any valid
    /// non-ASCII UTF-8), each once. A Person Name read as CP932 may have a group that, alone, the
    /// declared set reads cleanly (half-width katakana under `ISO_IR 100`), and a text read as
    /// CP932 may hold a name whose value the declared set reads: collecting every reading of
    /// the identifier lets each text be read one way only and still find its bytes.
    pub fn identifier_readings(&self, bytes: &[u8], vr: VR) -> Vec<String> {
        let mut readings = vec![self.read(bytes, vr).text().to_string()];
        let declared = self.decode_with(bytes, vr, true);
        let others = [
            (!declared.unfollowed_escape).then_some(declared.text),
            // Escape sequences the declared set does not follow: the ISO 2022 IR 87 reading,
            // each component and group starting in ASCII ([`undeclared_jis`]).
            declared.unfollowed_escape.then(|| undeclared_jis(bytes, vr)).flatten(),
            cp932(bytes).map(|(t, _)| t),
            euc_jp(bytes).map(|(t, _)| t),
            any_utf8(bytes),
        ];
        for other in others.into_iter().flatten() {
            if !readings.contains(&other) {
                readings.push(other);
            }
        }
        readings
    }

    /// Bytes for cleaned text of a value read as `reading`: in this character set
    /// ([`encode`](Self::encode)) when it was read in it, in UTF-8 when it was read as UTF-8,
    /// in CP932 or EUC-JP when it was read so, each character with the value's own code
    /// ([`OwnCodes`]), so the bytes outside the changes stay as they were. `None` when the value
    /// was undecodable, or a character of the text has no code there: the caller writes a dummy.
    pub fn write_back(&self, reading: &Reading, text: &str, vr: VR) -> Option<Vec<u8>> {
        match reading {
            Reading::Declared(_) => Some(self.encode(text, vr).bytes),
            Reading::Utf8(_) => Some(text.as_bytes().to_vec()),
            Reading::ShiftJis(_, own) => encode_own(encoding_rs::SHIFT_JIS, text, own),
            Reading::EucJp(_, own) => encode_own(EUC_JP, text, own),
            Reading::Undecodable(_) => None,
        }
    }
}

/// Whether bytes 0x80–0x9F stand for C1 controls U+0080–U+009F: only in the ISO 8859 parts and
/// TIS-620 used without code extensions (as Python's codecs read them). With code extensions DICOM
/// uses no C1 set, and JIS X 0201 has none.
fn c1_is_text(sets: &[Graphic], g1: Option<Graphic>) -> bool {
    sets.is_empty() && matches!(g1, Some(Graphic::Upper(_)))
}

/// Accumulates decoded text.
struct TextOut {
    text: String,
    exact: bool,
    unfollowed_escape: bool,
    /// Invalid bytes become one [`byte_mark`] each instead of U+FFFD (see [`Reading`]).
    marked: bool,
}

impl TextOut {
    fn with_capacity(capacity: usize, marked: bool) -> TextOut {
        TextOut { text: String::with_capacity(capacity), exact: true, unfollowed_escape: false, marked }
    }

    fn push(&mut self, c: char) {
        self.text.push(c);
    }

    /// Bytes not valid where they stand: U+FFFD, or one mark per byte when marking.
    fn invalid(&mut self, bytes: &[u8]) {
        if self.marked {
            self.text.extend(bytes.iter().map(|&b| byte_mark(b)));
        } else {
            self.text.push(REPLACEMENT);
        }
        self.exact = false;
    }

    /// An escape sequence that is not followed: U+FFFD, and the value is flagged.
    fn unfollowed_escape(&mut self) {
        self.text.push(REPLACEMENT);
        self.exact = false;
        self.unfollowed_escape = true;
    }

    fn finish(self) -> Decoded {
        Decoded { text: self.text, exact: self.exact, unfollowed_escape: self.unfollowed_escape }
    }
}

/// Decodes a value in a multi-byte set without code extensions (UTF-8, GB18030). An ESC there
/// means undeclared code extensions: it becomes U+FFFD. Malformed bytes become U+FFFD, or one
/// [`byte_mark`] each when `marked`.
fn decode_whole(encoding: &'static Encoding, bytes: &[u8], marked: bool) -> Decoded {
    let mut out = TextOut::with_capacity(bytes.len(), marked);
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut at = 0;
    while let Some(rest) = bytes.get(at..) {
        let room = decoder.max_utf8_buffer_length_without_replacement(rest.len()).unwrap_or(rest.len() * 4 + 16);
        out.text.reserve(room);
        let (result, read) = decoder.decode_to_string_without_replacement(rest, &mut out.text, true);
        at += read;
        match result {
            DecoderResult::InputEmpty => break,
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(bad, extra) => {
                let end = at.saturating_sub(usize::from(extra));
                let start = end.saturating_sub(usize::from(bad));
                out.invalid(bytes.get(start..end).unwrap_or_default());
            }
        }
    }
    let mut decoded = out.finish();
    if decoded.text.contains('\u{1B}') {
        decoded.text = decoded.text.replace('\u{1B}', "\u{FFFD}");
        decoded.exact = false;
        decoded.unfollowed_escape = true;
    }
    decoded
}

/// Decodes GBK strictly: ASCII, 0x80 (the euro sign in CP936) and two-byte codes only.
fn decode_gbk(bytes: &[u8], marked: bool) -> Decoded {
    let mut out = TextOut::with_capacity(bytes.len(), marked);
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let pair = bytes.get(i..i + 2).filter(|p| is_gbk_pair(p));
        if b == ESC {
            out.unfollowed_escape();
            i += 1;
        } else if b < 0x80 {
            out.push(char::from(b));
            i += 1;
        } else if let Some(pair) = pair {
            match decode_one(GBK, pair) {
                Some(c) => out.push(c),
                None => out.invalid(pair),
            }
            i += 2;
        } else {
            match decode_one(GBK, &[b]) {
                Some(c) => out.push(c),
                None => out.invalid(&[b]),
            }
            i += 1;
        }
    }
    out.finish()
}

fn is_gbk_pair(pair: &[u8]) -> bool {
    matches!(pair, &[0x81..=0xFE, 0x40..=0x7E | 0x80..=0xFE])
}

/// Encodes text in a set without code extensions that encoding_rs covers (UTF-8, GB18030, GBK).
fn encode_whole(encoding: &'static Encoding, text: &str) -> Encoded {
    let mut bytes = Vec::with_capacity(text.len());
    let mut exact = true;
    for c in text.chars() {
        match encode_char(encoding, c).filter(|_| c != '\u{1B}') {
            Some(code) => bytes.extend_from_slice(&code),
            None => {
                bytes.push(SUBSTITUTE);
                exact = false;
            }
        }
    }
    Encoded { bytes, exact }
}

/// Reads a value byte by byte, following escape sequences (when `sets` allows designations) and
/// returning to the initial state at reset bytes.
struct Iso2022Decoder<'a> {
    initial: Designations,
    current: Designations,
    /// Sets that may be designated; empty without code extensions.
    sets: &'a [Graphic],
    vr: VR,
    out: TextOut,
}

impl<'a> Iso2022Decoder<'a> {
    fn new(initial: Designations, sets: &'a [Graphic], vr: VR, marked: bool) -> Iso2022Decoder<'a> {
        Iso2022Decoder { initial, current: initial, sets, vr, out: TextOut::with_capacity(0, marked) }
    }

    fn run(mut self, bytes: &[u8]) -> Decoded {
        self.out.text.reserve(bytes.len());
        let mut rest = bytes;
        while let Some(&b) = rest.first() {
            let used = match b {
                ESC => self.escape(rest),
                0x00..=0x1F => self.reset_with(b),
                0x20..=0x7F => self.gl(rest),
                0x80..=0x9F => self.c1(b),
                0xA0..=0xFF => self.gr(rest),
            };
            rest = rest.get(used.max(1)..).unwrap_or_default();
        }
        self.out.finish()
    }

    fn c1(&mut self, b: u8) -> usize {
        if c1_is_text(self.sets, self.current.g1) {
            self.out.push(char::from(b));
        } else {
            self.out.invalid(&[b]);
        }
        1
    }

    /// A reset byte: emit it and return to the initial state.
    fn reset_with(&mut self, b: u8) -> usize {
        self.out.push(char::from(b));
        self.current = self.initial;
        1
    }

    /// An escape sequence: ESC, intermediate bytes 0x20–0x2F, a final byte 0x30–0x7E.
    fn escape(&mut self, rest: &[u8]) -> usize {
        let tail = rest.get(1..).unwrap_or_default();
        let count = tail.iter().take_while(|b| (0x20..=0x2F).contains(*b)).count();
        let final_byte = tail.get(count).copied().filter(|b| (0x30..=0x7E).contains(b));
        let Some(final_byte) = final_byte else {
            self.out.unfollowed_escape();
            return 1 + count;
        };
        let set = Graphic::designated_by(tail.get(..count).unwrap_or_default(), final_byte)
            .filter(|set| self.sets.contains(set));
        match set {
            Some(set) => self.current.designate(set),
            None => self.out.unfollowed_escape(),
        }
        2 + count
    }

    /// A byte 0x20–0x7F: a character of G0, half of a double-byte G0 code, or a delimiter.
    fn gl(&mut self, rest: &[u8]) -> usize {
        let b = rest.first().copied().unwrap_or(b' ');
        let g0 = self.current.g0;
        if g0.is_double() {
            if let Some(&b2) = rest.get(1).filter(|&&b2| is_gl(b) && is_gl(b2)) {
                self.push_or_invalid(g0.decode_pair(b, b2), &[b, b2]);
                return 2;
            }
            // Not a pair: a delimiter an encoder failed to switch back before, SP, DEL, or a
            // truncated code.
            return self.lone_gl(b);
        }
        if is_reset_byte(b, self.vr) {
            return self.reset_with(b);
        }
        self.push_or_invalid(g0.decode_single(b), &[b]);
        1
    }

    fn lone_gl(&mut self, b: u8) -> usize {
        if is_reset_byte(b, self.vr) {
            return self.reset_with(b);
        }
        if b == b' ' || b == 0x7F {
            self.out.push(char::from(b));
        } else {
            self.out.invalid(&[b]);
        }
        1
    }

    /// A byte 0xA0–0xFF: a character of G1 or half of a double-byte G1 code.
    fn gr(&mut self, rest: &[u8]) -> usize {
        let b = rest.first().copied().unwrap_or(0);
        match self.current.g1 {
            Some(g1) if g1.is_double() => match rest.get(1) {
                Some(&b2) if is_gr(b) && is_gr(b2) => {
                    self.push_or_invalid(g1.decode_pair(b, b2), &[b, b2]);
                    2
                }
                _ => {
                    self.out.invalid(&[b]);
                    1
                }
            },
            Some(g1) => {
                self.push_or_invalid(g1.decode_single(b), &[b]);
                1
            }
            None => {
                self.out.invalid(&[b]);
                1
            }
        }
    }

    fn push_or_invalid(&mut self, c: Option<char>, bytes: &[u8]) {
        match c {
            Some(c) => self.out.push(c),
            None => self.out.invalid(bytes),
        }
    }
}

/// Writes text character by character, designating sets as needed and returning to the initial
/// state before reset characters and at the end.
struct Iso2022Encoder<'a> {
    initial: Designations,
    current: Designations,
    /// Sets that may be designated, in order of preference; empty without code extensions.
    sets: &'a [Graphic],
    vr: VR,
    bytes: Vec<u8>,
    exact: bool,
}

impl<'a> Iso2022Encoder<'a> {
    fn new(initial: Designations, sets: &'a [Graphic], vr: VR) -> Iso2022Encoder<'a> {
        Iso2022Encoder { initial, current: initial, sets, vr, bytes: Vec::new(), exact: true }
    }

    fn run(mut self, text: &str) -> Encoded {
        self.bytes.reserve(text.len() + 8);
        for c in text.chars() {
            self.char(c);
        }
        self.reset();
        Encoded { bytes: self.bytes, exact: self.exact }
    }

    fn char(&mut self, c: char) {
        if c == '\u{1B}' {
            self.unrepresentable();
        } else if let Some(b) = ascii_byte(c).filter(|&b| is_reset_byte(b, self.vr)) {
            self.reset();
            self.bytes.push(b);
        } else if let Some(b) = self.c1_byte(c) {
            self.bytes.push(b);
        } else if let Some(code) = self.in_current(c) {
            self.emit(code);
        } else if let Some((set, code)) = self.in_declared(c) {
            self.designate(set);
            self.emit(code);
        } else {
            self.unrepresentable();
        }
    }

    /// The code of `c` in G0 or G1 as they stand.
    fn in_current(&self, c: char) -> Option<Code> {
        [Some(self.current.g0), self.current.g1].into_iter().flatten().find_map(|set| set.encode(c))
    }

    /// The first declared set that has `c`, and its code there.
    fn in_declared(&self, c: char) -> Option<(Graphic, Code)> {
        self.sets.iter().find_map(|&set| set.encode(c).map(|code| (set, code)))
    }

    fn c1_byte(&self, c: char) -> Option<u8> {
        u8::try_from(c).ok().filter(|b| (0x80..=0x9F).contains(b) && c1_is_text(self.sets, self.current.g1))
    }

    fn emit(&mut self, code: Code) {
        match code {
            Code::One(b) => self.bytes.push(b),
            Code::Two(pair) => self.bytes.extend_from_slice(&pair),
        }
    }

    fn designate(&mut self, set: Graphic) {
        if !self.current.holds(set) {
            set.push_escape(&mut self.bytes);
            self.current.designate(set);
        }
    }

    /// Return to value 1's G0 and G1. A G1 that value 1 leaves empty cannot be "undesignated":
    /// it is simply no longer assumed (decoders reset it at the same places).
    fn reset(&mut self) {
        if self.current.g0 != self.initial.g0 {
            self.initial.g0.push_escape(&mut self.bytes);
        }
        if self.current.g1 != self.initial.g1 {
            if let Some(g1) = self.initial.g1 {
                g1.push_escape(&mut self.bytes);
            }
        }
        self.current = self.initial;
    }

    fn unrepresentable(&mut self) {
        self.exact = false;
        if self.current.g0.is_double() {
            self.designate(self.initial.g0);
        }
        self.bytes.push(SUBSTITUTE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cs(raw: &str) -> CharacterSet {
        CharacterSet::from_value(raw.as_bytes()).expect("supported character set")
    }

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace().map(|h| u8::from_str_radix(h, 16).expect("hex byte")).collect()
    }

    fn decode_exact(charset: &str, bytes: &[u8], vr: VR) -> String {
        let decoded = cs(charset).decode(bytes, vr);
        assert!(decoded.exact, "not exact: {:?}", decoded.text);
        decoded.text
    }

    /// japan/README.md §7.3 vector 1, `\ISO 2022 IR 87`, 60 bytes.
    const KAKUU_IR87: &str = "4b 61 6b 75 75 5e 48 61 6e 61 6b 6f 3d 1b 24 42 32 4d 36 75 1b 28 42 \
         5e 1b 24 42 32 56 3b 52 1b 28 42 3d 1b 24 42 24 2b 24 2f 24 26 1b 28 42 5e 1b 24 42 24 4f \
         24 4a 24 33 1b 28 42";
    /// japan/README.md §7.3 vector 2, `ISO 2022 IR 13\ISO 2022 IR 87`, 55 bytes.
    const KAKUU_IR13_IR87: &str = "b6 b8 b3 5e ca c5 ba 3d 1b 24 42 32 4d 36 75 1b 28 4a 5e 1b 24 \
         42 32 56 3b 52 1b 28 4a 3d 1b 24 42 24 2b 24 2f 24 26 1b 28 4a 5e 1b 24 42 24 4f 24 4a 24 \
         33 1b 28 4a";
    /// PS3.5 H.3.1 (pydicom chrH31.dcm PatientName).
    const YAMADA_IR87: &str = "59 61 6d 61 64 61 5e 54 61 72 6f 75 3d 1b 24 42 3b 33 45 44 1b 28 \
         42 5e 1b 24 42 42 40 4f 3a 1b 28 42 3d 1b 24 42 24 64 24 5e 24 40 1b 28 42 5e 1b 24 42 24 \
         3f 24 6d 24 26 1b 28 42";
    /// PS3.5 H.3.2 (pydicom chrH32.dcm PatientName).
    const YAMADA_IR13_IR87: &str = "d4 cf c0 de 5e c0 db b3 3d 1b 24 42 3b 33 45 44 1b 28 4a 5e 1b \
         24 42 42 40 4f 3a 1b 28 4a 3d 1b 24 42 24 64 24 5e 24 40 1b 28 4a 5e 1b 24 42 24 3f 24 6d \
         24 26 1b 28 4a";
    /// PS3.5 Annex I (pydicom chrI2.dcm PatientName), `\ISO 2022 IR 149`.
    const HONG_IR149: &str = "48 6f 6e 67 5e 47 69 6c 64 6f 6e 67 3d 1b 24 29 43 fb f3 5e 1b 24 \
         29 43 d1 ce d4 d7 3d 1b 24 29 43 c8 ab 5e 1b 24 29 43 b1 e6 b5 bf";

    #[test]
    fn kakuu_ir87_vector_decodes() {
        let text = decode_exact("\\ISO 2022 IR 87", &hex(KAKUU_IR87), VR::PN);
        assert_eq!(text, "Kakuu^Hanako=架空^花子=かくう^はなこ");
    }

    #[test]
    fn kakuu_ir87_vector_reencodes_byte_for_byte() {
        let encoded = cs("\\ISO 2022 IR 87").encode("Kakuu^Hanako=架空^花子=かくう^はなこ", VR::PN);
        assert!(encoded.exact);
        assert_eq!(encoded.bytes.len(), 60);
        assert_eq!(encoded.bytes, hex(KAKUU_IR87));
    }

    #[test]
    fn kakuu_ir13_ir87_vector_decodes() {
        let text = decode_exact("ISO 2022 IR 13\\ISO 2022 IR 87", &hex(KAKUU_IR13_IR87), VR::PN);
        assert_eq!(text, "ｶｸｳ^ﾊﾅｺ=架空^花子=かくう^はなこ");
    }

    #[test]
    fn kakuu_ir13_ir87_vector_reencodes_odd_length_unpadded() {
        let charset = cs("ISO 2022 IR 13\\ISO 2022 IR 87");
        let encoded = charset.encode("ｶｸｳ^ﾊﾅｺ=架空^花子=かくう^はなこ", VR::PN);
        assert!(encoded.exact);
        assert_eq!(encoded.bytes.len(), 55);
        assert_eq!(encoded.bytes, hex(KAKUU_IR13_IR87));
    }

    #[test]
    fn ps3_5_h31_yamada_round_trips() {
        let charset = cs("\\ISO 2022 IR 87");
        let text = "Yamada^Tarou=山田^太郎=やまだ^たろう";
        assert_eq!(charset.decode(&hex(YAMADA_IR87), VR::PN).text, text);
        assert_eq!(charset.encode(text, VR::PN).bytes, hex(YAMADA_IR87));
    }

    #[test]
    fn ps3_5_h32_ir13_returns_with_esc_paren_j() {
        let charset = cs("ISO 2022 IR 13\\ISO 2022 IR 87");
        let text = "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう";
        let encoded = charset.encode(text, VR::PN);
        assert_eq!(encoded.bytes, hex(YAMADA_IR13_IR87));
        let escapes_back = encoded.bytes.windows(3).filter(|w| *w == b"\x1b(J").count();
        assert_eq!(escapes_back, 4);
        assert!(!encoded.bytes.windows(3).any(|w| w == b"\x1b(B"));
        assert_eq!(charset.decode(&encoded.bytes, VR::PN).text, text);
    }

    #[test]
    fn ir87_encoder_returns_to_ascii_before_caret_equals_and_at_end() {
        let bytes = cs("\\ISO 2022 IR 87").encode("山田^太郎=やまだ", VR::PN).bytes;
        for delimiter in [b'^', b'='] {
            let at = bytes.iter().position(|&b| b == delimiter).expect("delimiter written");
            assert_eq!(&bytes[at - 3..at], b"\x1b(B", "before {}", char::from(delimiter));
        }
        assert!(bytes.ends_with(b"\x1b(B"));
    }

    #[test]
    fn ir13_ir87_with_esc_paren_b_returns_decodes() {
        // pydicom chrSQEncoding1.dcm: ISO-IR 6 is not declared but used to return from kanji.
        let bytes = hex("d4 cf c0 de 5e c0 db b3 3d 1b 24 42 3b 33 45 44 1b 28 42 5e 1b 24 42 42 40 4f 3a 1b \
             28 42 3d 1b 24 42 24 64 24 5e 24 40 1b 28 42 5e 1b 24 42 24 3f 24 6d 24 26 1b 28 42");
        let text = decode_exact("ISO 2022 IR 13\\ISO 2022 IR 87", &bytes, VR::PN);
        assert_eq!(text, "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう");
    }

    #[test]
    fn mixed_spelling_iso_ir_13_acts_as_iso_2022_ir_13() {
        let mixed = cs("ISO_IR 13\\ISO 2022 IR 87");
        let text = "ｶｸｳ^ﾊﾅｺ=架空^花子=かくう^はなこ";
        assert_eq!(mixed.decode(&hex(KAKUU_IR13_IR87), VR::PN).text, text);
        assert_eq!(mixed.encode(text, VR::PN).bytes, hex(KAKUU_IR13_IR87));
        assert_eq!(mixed.terms(), ["ISO_IR 13", "ISO 2022 IR 87"]);
    }

    #[test]
    fn korean_ir149_annex_i_vector_round_trips() {
        let charset = cs("\\ISO 2022 IR 149");
        let text = "Hong^Gildong=洪^吉洞=홍^길동";
        assert_eq!(decode_exact("\\ISO 2022 IR 149", &hex(HONG_IR149), VR::PN), text);
        let encoded = charset.encode(text, VR::PN);
        assert!(encoded.exact);
        assert_eq!(encoded.bytes, hex(HONG_IR149));
    }

    #[test]
    fn korean_ir149_with_trailing_ascii_return_and_pad_decodes() {
        // pydicom chrKoreanMulti.dcm PatientName: a redundant ESC ( B, then the space pad.
        let bytes = hex("1b 24 29 43 b1 e8 c8 f1 c1 df 1b 28 42 20");
        assert_eq!(decode_exact("\\ISO 2022 IR 149", &bytes, VR::PN), "김희중 ");
    }

    #[test]
    fn chinese_ir58_designates_g1_after_each_delimiter() {
        let charset = cs("\\ISO 2022 IR 58");
        let text = "Zhang^XiaoDong=张^小东=";
        // GR bytes from Python's gb2312 codec: 张 d5c5, 小 d0a1, 东 b6ab.
        let expected = hex("5a 68 61 6e 67 5e 58 69 61 6f 44 6f 6e 67 3d 1b 24 29 41 d5 c5 5e 1b 24 29 41 d0 a1 \
             b6 ab 3d");
        assert_eq!(charset.encode(text, VR::PN).bytes, expected);
        assert_eq!(decode_exact("\\ISO 2022 IR 58", &expected, VR::PN), text);
    }

    #[test]
    fn jis_x_0212_designated_with_four_byte_escape() {
        let charset = cs("\\ISO 2022 IR 87\\ISO 2022 IR 159");
        // 丂 is JIS X 0212 0x3021 (Python euc_jp: 8f b0 a1); 山 is JIS X 0208 0x3B33.
        let encoded = charset.encode("丂山", VR::LO);
        assert_eq!(encoded.bytes, hex("1b 24 28 44 30 21 1b 24 42 3b 33 1b 28 42"));
        assert_eq!(charset.decode(&encoded.bytes, VR::LO).text, "丂山");
    }

    #[test]
    fn utf8_decodes_and_encodes() {
        // pydicom chrX1.dcm PatientName, with its trailing pad kept.
        let bytes = hex("57 61 6e 67 5e 58 69 61 6f 44 6f 6e 67 3d e7 8e 8b 5e e5 b0 8f e6 9d b1 3d 20");
        let text = decode_exact("ISO_IR 192", &bytes, VR::PN);
        assert_eq!(text, "Wang^XiaoDong=王^小東= ");
        assert_eq!(cs("ISO_IR 192").encode(&text, VR::PN).bytes, bytes);
    }

    #[test]
    fn gb18030_decodes_and_encodes() {
        // pydicom chrX2.dcm PatientName.
        let bytes = hex("57 61 6e 67 5e 58 69 61 6f 44 6f 6e 67 3d cd f5 5e d0 a1 b6 ab 3d");
        let text = decode_exact("GB18030", &bytes, VR::PN);
        assert_eq!(text, "Wang^XiaoDong=王^小东=");
        let encoded = cs("GB18030").encode(&text, VR::PN);
        assert!(encoded.exact);
        assert_eq!(encoded.bytes, bytes);
    }

    #[test]
    fn gb18030_encodes_beyond_gbk_with_four_bytes() {
        // U+00DF ß is 0x81 0x30 0x89 0x38 in GB18030 (Python gb18030), not in GBK.
        let encoded = cs("GB18030").encode("ß", VR::LO);
        assert_eq!(encoded.bytes, hex("81 30 89 38"));
        let gbk = cs("GBK").encode("ß", VR::LO);
        assert_eq!((gbk.bytes, gbk.exact), (b"?".to_vec(), false));
    }

    #[test]
    fn gbk_rejects_four_byte_sequences() {
        let decoded = cs("GBK").decode(&hex("cd f5 81 30 8f 30"), VR::LO);
        assert!(!decoded.exact);
        assert!(decoded.text.starts_with('王'));
        assert!(decoded.text.contains(REPLACEMENT));
    }

    #[test]
    fn latin1_byte_e9_decodes_to_e_acute() {
        assert_eq!(decode_exact("ISO_IR 100", &[0xE9], VR::LO), "é");
        // pydicom chrFren.dcm PatientName.
        let bytes = hex("42 75 63 5e 4a e9 72 f4 6d 65");
        assert_eq!(decode_exact("ISO_IR 100", &bytes, VR::PN), "Buc^Jérôme");
        assert_eq!(cs("ISO_IR 100").encode("Buc^Jérôme", VR::PN).bytes, bytes);
    }

    #[test]
    fn latin1_c1_bytes_are_not_windows_1252() {
        assert_eq!(decode_exact("ISO_IR 100", &[0x80, 0x9F], VR::LT), "\u{80}\u{9F}");
        let euro = cs("ISO_IR 100").encode("€", VR::LO);
        assert_eq!((euro.bytes, euro.exact), (b"?".to_vec(), false));
    }

    #[test]
    fn cyrillic_8859_5_decodes_and_encodes() {
        // pydicom chrRuss.dcm PatientName (the name mixes Latin c, e, y, p with Cyrillic).
        let bytes = hex("bb ee da 63 65 dc d1 79 70 d3");
        let text = decode_exact("ISO_IR 144", &bytes, VR::PN);
        assert_eq!(text, "Люкceмбypг");
        assert_eq!(cs("ISO_IR 144").encode(&text, VR::PN).bytes, bytes);
    }

    #[test]
    fn greek_8859_7_decodes_and_encodes() {
        // pydicom chrGreek.dcm PatientName, with its trailing pad.
        let bytes = hex("c4 e9 ef ed f5 f3 e9 ef f2 20");
        let text = decode_exact("ISO_IR 126", &bytes, VR::PN);
        assert_eq!(text, "Διονυσιος ");
        assert_eq!(cs("ISO_IR 126").encode(&text, VR::PN).bytes, bytes);
    }

    #[test]
    fn arabic_and_hebrew_decode() {
        // pydicom chrArab.dcm and chrHbrw.dcm PatientName.
        let arabic = hex("e2 c8 c7 e6 ea 5e e4 e6 d2 c7 d1 20");
        assert_eq!(decode_exact("ISO_IR 127", &arabic, VR::PN), "قباني^لنزار ");
        let hebrew = hex("f9 f8 e5 ef 5e e3 e1 e5 f8 e4");
        assert_eq!(decode_exact("ISO_IR 138", &hebrew, VR::PN), "שרון^דבורה");
    }

    #[test]
    fn other_single_byte_parts_match_iso_8859() {
        // Expected characters from Python's iso8859_N / tis_620 codecs.
        assert_eq!(decode_exact("ISO_IR 101", &[0xA1], VR::LO), "Ą");
        assert_eq!(decode_exact("ISO_IR 109", &[0xA1], VR::LO), "Ħ");
        assert_eq!(decode_exact("ISO_IR 110", &[0xA1], VR::LO), "Ą");
        assert_eq!(decode_exact("ISO_IR 148", &[0xDD, 0xFD, 0xD0], VR::LO), "İıĞ");
        assert_eq!(decode_exact("ISO_IR 203", &[0xA4], VR::LO), "€");
        assert_eq!(decode_exact("ISO_IR 126", &[0xA4], VR::LO), "€");
        assert_eq!(decode_exact("ISO_IR 166", &hex("e4 b7 c2"), VR::LO), "ไทย");
        assert_eq!(decode_exact("ISO_IR 148", &[0x80], VR::LO), "\u{80}");
        assert_eq!(decode_exact("ISO_IR 166", &[0x80], VR::LO), "\u{80}");
        assert!(!cs("ISO_IR 166").decode(&[0xA0], VR::LO).exact);
        assert!(!cs("ISO_IR 109").decode(&[0xA5], VR::LO).exact);
    }

    #[test]
    fn thai_with_code_extensions_round_trips() {
        let charset = cs("ISO 2022 IR 166");
        let encoded = charset.encode("ไทย", VR::LO);
        assert_eq!(encoded.bytes, hex("e4 b7 c2"));
        assert_eq!(charset.decode(&encoded.bytes, VR::LO).text, "ไทย");
    }

    #[test]
    fn jis_x_0201_without_extensions_decodes_katakana_only() {
        assert_eq!(decode_exact("ISO_IR 13", &hex("d4 cf c0 de 5e c0 db b3"), VR::PN), "ﾔﾏﾀﾞ^ﾀﾛｳ");
        // Raw Shift-JIS 山 (0x8e 0x52) is not JIS X 0201: never guessed.
        let sjis = cs("ISO_IR 13").decode(&hex("8e 52"), VR::PN);
        assert!(!sjis.exact);
    }

    #[test]
    fn invalid_utf8_is_inexact_without_panic() {
        let decoded = cs("ISO_IR 192").decode(b"Ab\xff\xfe^C", VR::PN);
        assert!(!decoded.exact);
        assert_eq!(decoded.text, "Ab\u{FFFD}\u{FFFD}^C");
    }

    #[test]
    fn ir6_ir87_without_escapes_decodes_as_ascii() {
        // Hitachi MRI: code extensions declared, none used (pydicom issue 279).
        assert_eq!(decode_exact("ISO 2022 IR 6\\ISO 2022 IR 87", b"Yamada^Tarou ", VR::PN), "Yamada^Tarou ");
    }

    #[test]
    fn ir6_ir87_explicit_vector_decodes() {
        // pydicom chrJapMultiExplicitIR6.dcm PatientName.
        let bytes = hex("1b 24 42 24 64 24 5e 24 40 1b 28 42 5e 1b 24 42 24 3f 24 6d 24 26 1b 28 42 20");
        let text = decode_exact("ISO 2022 IR 6\\ISO 2022 IR 87", &bytes, VR::PN);
        assert_eq!(text, "やまだ^たろう ");
    }

    /// The CP932 bytes of `text`.
    fn sjis(text: &str) -> Vec<u8> {
        encoding_rs::SHIFT_JIS.encode(text).0.into_owned()
    }

    #[test]
    fn rv18_01_02_03_text_not_valid_in_its_set_and_valid_cp932_is_read_as_cp932() {
        for charset in ["", "ISO_IR 13", "ISO_IR 100", "ISO_IR 192", "\\ISO 2022 IR 87"] {
            let charset = if charset.is_empty() { CharacterSet::default_repertoire() } else { cs(charset) };
            for text in ["ﾔﾏﾀﾞ 様", "山田太郎 様", "頭部 太郎", "ID １２３４５６７ / 1234567"]
            {
                let reading = charset.read(&sjis(text), VR::LO);
                assert_eq!(reading, Reading::ShiftJis(text.to_string(), OwnCodes::default()), "{charset:?}");
                assert!(reading.is_shift_jis());
                // Cleaned text goes back in CP932: the bytes outside the change stay as they were.
                let cleaned = text.replacen(text.split(' ').next().unwrap(), "***", 1);
                assert_eq!(charset.write_back(&reading, &cleaned, VR::LO), Some(sjis(&cleaned)), "{charset:?}");
            }
        }
    }

    #[test]
    fn text_the_declared_set_reads_cleanly_is_read_in_it() {
        assert_eq!(cs("ISO_IR 100").read(b"M\xfcller\r\n", VR::LT), Reading::Declared("Müller\r\n".into()));
        assert_eq!(cs("ISO_IR 192").read("山田".as_bytes(), VR::LO), Reading::Declared("山田".into()));
        // Half-width katakana alone is valid JIS X 0201 under ISO_IR 13.
        assert_eq!(cs("ISO_IR 13").read(&sjis("ﾔﾏﾀﾞ"), VR::LO), Reading::Declared("ﾔﾏﾀﾞ".into()));
        let jis = b"\x1b$B;3ED\x1b(B";
        assert_eq!(cs("\\ISO 2022 IR 87").read(jis, VR::LO), Reading::Declared("山田".into()));
        assert_eq!(CharacterSet::default_repertoire().read(b"CT HEAD ", VR::LO), Reading::Declared("CT HEAD ".into()));
    }

    #[test]
    fn latin1_with_c1_bytes_that_are_not_cp932_stays_latin1() {
        // windows-1252 quotes (0x93, 0x94) in an ISO_IR 100 value: not CP932 (0xFC 0x6C is not).
        let bytes = b"\x93M\xfcller\x94";
        assert_eq!(cs("ISO_IR 100").read(bytes, VR::LO), Reading::Declared("\u{93}Müller\u{94}".into()));
    }

    #[test]
    fn rv18_05_06_bytes_valid_in_neither_are_marked_byte_by_byte_never_u_fffd() {
        // 山田 and 審慶 with a stray 0x80 (not CP932): their lead bytes differ, so their texts do.
        let yamada = CharacterSet::default_repertoire().read(&[&sjis("山田")[..], b"\x80"].concat(), VR::LO);
        let other = CharacterSet::default_repertoire().read(&[&sjis("審慶")[..], b"\x80"].concat(), VR::LO);
        assert!(matches!(yamada, Reading::Undecodable(_)));
        assert!(!yamada.text().contains(REPLACEMENT));
        assert_ne!(yamada.text(), other.text());
        assert_eq!(yamada.text(), "\u{A08E}R\u{A093}c\u{A080}");
        assert_eq!(yamada.decoded(), None);
        assert_eq!(CharacterSet::default_repertoire().write_back(&yamada, "***", VR::LO), None);
        // Valid parts of an otherwise valid set still read as text.
        let utf8 = cs("ISO_IR 192").read(&[&b"\xff"[..], "山田".as_bytes()].concat(), VR::LO);
        assert_eq!(utf8, Reading::Undecodable("\u{A0FF}山田".into()));
        let gb = cs("GB18030").read(b"\x80\xff", VR::LO);
        assert!(matches!(gb, Reading::Undecodable(ref t) if !t.contains(REPLACEMENT)), "{gb:?}");
    }

    #[test]
    fn after_an_unfollowed_escape_every_byte_is_compared_as_bytes() {
        let reading = cs("\\ISO 2022 IR 87").read(b"CT \x1b$A;3\x1b(B \xe9", VR::LO);
        assert_eq!(reading, Reading::Undecodable("CT \u{A03B}\u{A033} \u{A0E9}".into()));
        assert_eq!(bytes_text(b"a\xc9b"), "a\u{A0C9}b");
    }

    #[test]
    fn a_value_padded_with_nul_is_read_in_its_declared_set_not_as_shift_jis() {
        // Both byte strings are also valid CP932 (E3 83.. and DC are Shift_JIS codes).
        let utf8 = cs("ISO_IR 192").read("ヤマダタロウ 胸部\0".as_bytes(), VR::LO);
        assert!(matches!(&utf8, Reading::Declared(t) if t.starts_with("ヤマダタロウ 胸部")), "{utf8:?}");
        let latin1 = cs("ISO_IR 100").read(b"M\xdcLLER\0", VR::LO);
        assert!(matches!(&latin1, Reading::Declared(t) if t.starts_with("MÜLLER")), "{latin1:?}");
        assert_eq!(cs("ISO_IR 100").shift_jis_reading(b"M\xdcLLER\0", VR::LO), None);
    }

    #[test]
    fn decode_without_marks_still_gives_u_fffd() {
        let d = CharacterSet::default_repertoire().decode(b"a\x80", VR::LO);
        assert_eq!((d.text.as_str(), d.exact), ("a\u{FFFD}", false));
        let d = cs("ISO_IR 192").decode(b"a\xff\xfe", VR::LO);
        assert!(!d.exact && d.text.starts_with('a') && d.text.contains(REPLACEMENT));
    }

    #[test]
    fn undeclared_iso2022_starts_each_name_component_in_ascii() {
        // No return to ASCII before `^` or at the end, and no (0008,0005): read as PS3.5 says
        // each component starts, so the kanji parts are collected as kanji.
        let sloppy = b"YAMADA^TARO=\x1b$B;3ED^\x1b$BB@O:";
        let readings = CharacterSet::default_repertoire().identifier_readings(sloppy, VR::PN);
        assert!(readings.contains(&"YAMADA^TARO=山田^太郎".to_string()), "{readings:?}");
        let well_formed = b"YAMADA^TARO=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B";
        let readings = CharacterSet::default_repertoire().identifier_readings(well_formed, VR::PN);
        assert!(readings.contains(&"YAMADA^TARO=山田^太郎".to_string()), "{readings:?}");
        // An ID the same way: its reading no longer hinges on the closing escape.
        let id = CharacterSet::default_repertoire().iso2022_jp_reading(b"\x1b$B#1#2#3#4#5", VR::LO);
        assert_eq!(id.as_deref(), Some("１２３４５"));
    }

    #[test]
    fn an_identifier_is_collected_in_every_reading_text_may_be_read_in() {
        // Half-width katakana and kanji under ISO_IR 100: the kanji's lead bytes are C1 controls,
        // so the value is CP932; the kana group alone is clean Latin-1 in a text that holds only it.
        let pn = sjis("ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎");
        let readings = cs("ISO_IR 100").identifier_readings(&pn, VR::PN);
        assert_eq!(readings[0], "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎");
        let kana_text = cs("ISO_IR 100").read(&sjis("ﾔﾏﾀﾞ ﾀﾛｳ"), VR::LO);
        let latin_kana = kana_text.text().split(' ').next().unwrap().to_string();
        assert!(readings.iter().any(|r| r.split(['^', '=']).any(|p| p == latin_kana)), "{readings:?}");
        // A clean Latin-1 name that is also CP932 is looked for in text read as CP932 too.
        let readings = cs("ISO_IR 100").identifier_readings(&sjis("ﾔﾏﾀﾞ^ﾀﾛｳ"), VR::PN);
        assert!(readings.contains(&"ﾔﾏﾀﾞ^ﾀﾛｳ".to_string()), "{readings:?}");
        // No charset: CP932 first, then the bytes as the default repertoire marks them.
        let readings = CharacterSet::default_repertoire().identifier_readings(&sjis("山田^太郎"), VR::PN);
        assert_eq!(readings.len(), 2);
        assert_eq!(readings[0], "山田^太郎");
        assert!(readings[1].starts_with("\u{A08E}R\u{A093}c^"));
        assert_eq!(CharacterSet::default_repertoire().identifier_readings(b"DOE^JANE", VR::PN), ["DOE^JANE"]);
    }

    #[test]
    fn rv32_01_cp932_with_a_second_code_of_a_character_is_read_and_written_back_with_its_own_codes() {
        // 髙 written EE E0 (NEC-selected IBM extension, as Python's cp932 writes it), which the
        // CP932 encoder writes FB FC; 纊 ED 40 (FA 5C); a user-defined code F0 40 (gaiji).
        let value = [&b"\xee\xe0"[..], &sjis("橋惠子さん"), b" \xed\x40 \xf0\x40 CT"].concat();
        for charset in [CharacterSet::default_repertoire(), cs("ISO_IR 100"), cs("ISO_IR 192")] {
            let reading = charset.read(&value, VR::LT);
            assert!(reading.is_shift_jis(), "{charset:?}: {reading:?}");
            assert_eq!(reading.text(), "髙橋惠子さん 纊 \u{E000} CT");
            // Cleaned, every byte outside the change stays as it was: no code is rewritten.
            let cleaned = reading.text().replace("惠子", "***");
            let expected = [&b"\xee\xe0"[..], &sjis("橋***さん"), b" \xed\x40 \xf0\x40 CT"].concat();
            assert_eq!(charset.write_back(&reading, &cleaned, VR::LT), Some(expected), "{charset:?}");
        }
        // The identifier readings hold the same text, so 髙橋 matches in text with either code.
        let readings = cs("ISO_IR 100").identifier_readings(&value, VR::LT);
        assert_eq!(readings[0], "髙橋惠子さん 纊 \u{E000} CT");
        assert_eq!(cs("ISO_IR 100").read(&[&b"\xfb\xfc"[..], &sjis("橋")].concat(), VR::LO).text(), "髙橋");
        assert_eq!(encode_shift_jis("纊"), Some(vec![0xFA, 0x5C]));
        assert_eq!(encode_shift_jis("한"), None);
    }

    fn euc(text: &str) -> Vec<u8> {
        EUC_JP.encode(text).0.into_owned()
    }

    #[test]
    fn rv32_06_clearly_euc_jp_text_under_latin_1_or_no_set_is_read_and_written_back_as_euc_jp() {
        for text in
            ["備考 山田太郎様 検査 以上", "住所 静岡市駿河区登呂一丁目3番5号", "YAMADA^TARO=山田^太郎=やまだ^たろう"]
        {
            for charset in
                [CharacterSet::default_repertoire(), cs("ISO_IR 100"), cs("ISO_IR 192"), cs("\\ISO 2022 IR 87")]
            {
                let reading = charset.read(&euc(text), VR::LT);
                assert!(matches!(reading, Reading::EucJp(..)), "{charset:?} {text}: {reading:?}");
                assert_eq!(reading.text(), text);
                assert_eq!(reading.undeclared_set(), Some("EUC-JP"));
                let cleaned = text.replace("山田", "***");
                assert_eq!(charset.write_back(&reading, &cleaned, VR::LT), Some(euc(&cleaned)), "{charset:?}");
            }
        }
        // Every EUC-JP reading of an identifier is collected, even one read otherwise.
        let readings = cs("ISO_IR 100").identifier_readings(&euc("山田^太郎"), VR::PN);
        assert!(readings.contains(&"山田^太郎".to_string()), "{readings:?}");
    }

    #[test]
    fn text_that_may_be_euc_jp_but_is_not_clearly_so_keeps_its_reading() {
        // Latin-1 words: accented letters never four bytes in a row.
        assert_eq!(cs("ISO_IR 100").read(b"S\xe4\xe4ski M\xfcller", VR::LO), Reading::Declared("Sääski Müller".into()));
        // Cyrillic words are runs of high bytes: read in their declared set.
        let ivanov = cs("ISO_IR 144").read(b"\xb8\xd2\xd0\xdd\xde\xd2", VR::LO);
        assert!(matches!(ivanov, Reading::Declared(_)), "{ivanov:?}");
        // Bytes all 0xA1-0xDF are half-width katakana in JIS X 0201 and CP932 as well.
        assert_eq!(cs("ISO_IR 13").read(&euc("山田太郎"), VR::LO), Reading::Declared("ｻｳﾅﾄﾂﾀﾏｺ".into()));
        assert!(CharacterSet::default_repertoire().read(&sjis("ｽｽﾞｷ ｲﾁﾛｳ"), VR::LO).is_shift_jis());
        // Shift_JIS text is not valid EUC-JP.
        assert!(cs("ISO_IR 100").read(&sjis("山田太郎様の検査"), VR::LO).is_shift_jis());
    }

    #[test]
    fn euc_jp_kana_names_of_bytes_a1_to_df_are_read_as_euc_jp_and_half_width_kana_as_cp932() {
        // rv35: EUC-JP hiragana and katakana are `A4 xx`, `A5 xx`, all within A1-DF, so a kana
        // name read as CP932 half-width katakana under no set (`､ｵ､ﾈ､ｦ`).
        for name in ["さとう はなこ", "サトウ^ハナコ", "たなか けいこ", "すずき", "いとう"] {
            let bytes = euc(name);
            assert!(bytes.iter().all(|&b| b < 0x80 || (0xA1..=0xDF).contains(&b)), "{name}");
            for charset in [CharacterSet::default_repertoire(), cs("ISO_IR 100")] {
                let reading = charset.read(&bytes, VR::PN);
                assert!(matches!(reading, Reading::EucJp(..)), "{charset:?} {name}: {reading:?}");
                assert_eq!(reading.text(), name);
            }
        }
        // Real half-width katakana names stay CP932, also with a comma or a middle dot between
        // words and voiced sound marks after kana that take them.
        for name in ["ﾔﾏﾀﾞ ﾀﾛｳ", "ｽｽﾞｷ ｲﾁﾛｳ", "ｻﾄｳ ﾊﾅｺ", "ｼﾞｮﾝ･ｽﾐｽ", "ﾔﾏﾀﾞ､ﾀﾛｳ", "ﾊﾟｸ ｿﾝﾋﾞﾝ", "ｶﾞｰｾﾞ"]
        {
            let reading = CharacterSet::default_repertoire().read(&sjis(name), VR::PN);
            assert!(reading.is_shift_jis(), "{name}: {reading:?}");
            assert_eq!(reading.text(), name);
        }
        // Kanji alone read both ways plausibly: left to the declared set or CP932 as before.
        assert!(CharacterSet::default_repertoire().read(&euc("山田太郎"), VR::PN).is_shift_jis());
        assert!(implausible_half_width("､ｵ､ﾈ､ｦ"));
        assert!(implausible_half_width("ｱﾞ"), "ｱ takes no voiced sound mark");
        assert!(!implausible_half_width("ｶﾞｰｾﾞ ｼﾞｮﾝ･ｽﾐｽ"));
    }

    #[test]
    fn unknown_term_is_an_error_naming_the_term() {
        let error = CharacterSet::from_value(b"ISO_IR 999").expect_err("unknown term");
        assert_eq!(error.term, "ISO_IR 999");
        assert!(error.to_string().contains("ISO_IR 999"));
        let second =
            CharacterSet::from_value(b"\\ISO 2022 IR 87\\iso 2022 ir 149 ").expect_err("terms are case-sensitive");
        assert_eq!(second.term, "iso 2022 ir 149");
    }

    #[test]
    fn utf8_in_multi_valued_set_is_an_error() {
        let error = CharacterSet::from_value(b"ISO_IR 192\\ISO 2022 IR 87").expect_err("forbidden");
        assert_eq!(error.term, "ISO_IR 192");
    }

    #[test]
    fn unrepresentable_characters_encode_as_question_mark() {
        let encoded = cs("\\ISO 2022 IR 87").encode("Kim^한", VR::PN);
        assert_eq!((encoded.bytes, encoded.exact), (b"Kim^?".to_vec(), false));
        let latin = cs("ISO_IR 100").encode("Жанна", VR::PN);
        assert_eq!((latin.bytes, latin.exact), (b"?????".to_vec(), false));
        let ascii = CharacterSet::default_repertoire().encode("Zoë", VR::PN);
        assert_eq!((ascii.bytes, ascii.exact), (b"Zo?".to_vec(), false));
    }

    #[test]
    fn unrepresentable_after_kanji_returns_to_ascii_for_question_mark() {
        let encoded = cs("\\ISO 2022 IR 87").encode("山한", VR::LO);
        assert_eq!(encoded.bytes, hex("1b 24 42 3b 33 1b 28 42 3f"));
        assert!(!encoded.exact);
    }

    #[test]
    fn escape_character_is_never_encoded() {
        for charset in ["\\ISO 2022 IR 87", "ISO_IR 100", "ISO_IR 192", "GB18030"] {
            let encoded = cs(charset).encode("a\u{1b}$Bb", VR::LO);
            assert_eq!(encoded.bytes, b"a?$Bb", "{charset}");
            assert!(!encoded.exact);
        }
    }

    #[test]
    fn multi_valued_lo_backslash_resets_state() {
        let charset = cs("\\ISO 2022 IR 87");
        let encoded = charset.encode("山田\\太郎", VR::LO);
        assert_eq!(encoded.bytes, hex("1b 24 42 3b 33 45 44 1b 28 42 5c 1b 24 42 42 40 4f 3a 1b 28 42"));
        assert_eq!(charset.decode(&encoded.bytes, VR::LO).text, "山田\\太郎");
    }

    #[test]
    fn backslash_does_not_reset_in_lt() {
        let charset = cs("ISO 2022 IR 100\\ISO 2022 IR 144");
        // In LT, `\` is text: G1 stays Cyrillic after it.
        let bytes = hex("1b 2d 4c b6 5c b6");
        assert_eq!(charset.decode(&bytes, VR::LT).text, "Ж\\Ж");
        // In LO, `\` returns G1 to value 1's Latin-1, where 0xB6 is ¶.
        assert_eq!(charset.decode(&bytes, VR::LO).text, "Ж\\¶");
    }

    #[test]
    fn encoder_restores_value_1_g1_before_delimiter() {
        let charset = cs("ISO 2022 IR 100\\ISO 2022 IR 144");
        let encoded = charset.encode("Ж^é", VR::PN);
        assert_eq!(encoded.bytes, hex("1b 2d 4c b6 1b 2d 41 5e e9"));
        assert_eq!(charset.decode(&encoded.bytes, VR::PN).text, "Ж^é");
    }

    #[test]
    fn value_1_g1_needs_no_designation() {
        let encoded = cs("ISO 2022 IR 100\\ISO 2022 IR 87").encode("Jérôme^山", VR::PN);
        assert_eq!(encoded.bytes, hex("4a e9 72 f4 6d 65 5e 1b 24 42 3b 33 1b 28 42"));
    }

    #[test]
    fn decoder_resets_at_delimiter_encoder_did_not_switch_before() {
        // `ESC $ B 山田 ^` with no `ESC ( B` before `^`, then Latin-1 G1 resumes for value 1.
        let charset = cs("ISO 2022 IR 100\\ISO 2022 IR 87");
        let bytes = hex("1b 24 42 3b 33 45 44 5e e9");
        let decoded = charset.decode(&bytes, VR::PN);
        assert_eq!(decoded.text, "山田^é");
        assert!(decoded.exact);
        // G1 designated in one component does not leak into the next.
        let cyrillic = cs("ISO 2022 IR 100\\ISO 2022 IR 144");
        assert_eq!(cyrillic.decode(&hex("1b 2d 4c b6 5e e9"), VR::PN).text, "Ж^é");
    }

    #[test]
    fn delimiter_bytes_inside_kanji_codes_do_not_split() {
        // JIS 0x5E5C 湃, 0x3D5E 殉, 0x5C3D 椽 (Python iso2022_jp).
        let bytes = hex("1b 24 42 5e 5c 3d 5e 5c 3d 1b 28 42");
        assert_eq!(decode_exact("\\ISO 2022 IR 87", &bytes, VR::PN), "湃殉椽");
        let encoded = cs("\\ISO 2022 IR 87").encode("湃殉椽", VR::PN);
        assert_eq!(encoded.bytes, bytes);
    }

    #[test]
    fn control_characters_reset_state_in_text() {
        let charset = cs("\\ISO 2022 IR 87");
        let encoded = charset.encode("山田\r\n太郎\t様", VR::LT);
        assert_eq!(
            encoded.bytes,
            hex("1b 24 42 3b 33 45 44 1b 28 42 0d 0a 1b 24 42 42 40 4f 3a 1b 28 42 09 1b 24 42 4d \
                 4d 1b 28 42")
        );
        assert_eq!(charset.decode(&encoded.bytes, VR::LT).text, "山田\r\n太郎\t様");
    }

    #[test]
    fn jis_0x2141_and_0x215d_pinned_to_jis_mapping() {
        let charset = cs("\\ISO 2022 IR 87");
        let bytes = hex("1b 24 42 21 41 21 5d 1b 28 42");
        assert_eq!(charset.decode(&bytes, VR::LO).text, "\u{301C}\u{2212}");
        for text in ["\u{301C}\u{2212}", "\u{FF5E}\u{FF0D}"] {
            let encoded = charset.encode(text, VR::LO);
            assert!(encoded.exact);
            assert_eq!(encoded.bytes, bytes);
        }
    }

    #[test]
    fn cp932_vendor_rows_are_not_jis_x_0208() {
        // ① is NEC row 13 (0x2D21) in CP932: not JIS X 0208.
        let decoded = cs("\\ISO 2022 IR 87").decode(&hex("1b 24 42 2d 21 1b 28 42"), VR::LO);
        assert!(!decoded.exact);
        assert!(!cs("\\ISO 2022 IR 87").encode("①", VR::LO).exact);
    }

    #[test]
    fn escape_in_set_without_extensions_is_inexact() {
        let decoded = cs("ISO_IR 100").decode(&hex("1b 24 42 3b 33 1b 28 42"), VR::PN);
        assert!(!decoded.exact);
        assert_eq!(decoded.text, "\u{FFFD};3\u{FFFD}");
        assert!(!cs("ISO_IR 192").decode(b"\x1b$B;3", VR::PN).exact);
    }

    #[test]
    fn undeclared_designation_is_not_followed() {
        let decoded = cs("\\ISO 2022 IR 87").decode(&hex("41 1b 2d 41 e9"), VR::LO);
        assert_eq!(decoded.text, "A\u{FFFD}\u{FFFD}");
        assert!(!decoded.exact);
    }

    #[test]
    fn jis_c_6226_1978_designation_reads_as_jis_x_0208() {
        // PS3.5 H.3.1 with every `ESC $ B` written `ESC $ @`, as JIS C 6226-1978 systems do.
        let old = hex(YAMADA_IR87);
        let mut bytes = old.clone();
        for i in 0..bytes.len().saturating_sub(2) {
            if bytes[i..i + 3] == *b"\x1b$B" {
                bytes[i + 2] = b'@';
            }
        }
        assert_ne!(bytes, old);
        let decoded = cs("\\ISO 2022 IR 87").decode(&bytes, VR::PN);
        assert_eq!(decoded.text, "Yamada^Tarou=山田^太郎=やまだ^たろう");
        assert!(decoded.exact && !decoded.unfollowed_escape);
        // Also after IR 13, and in free text.
        let lt = cs("ISO 2022 IR 13\\ISO 2022 IR 87").decode(b"Pt \x1b$@;3ED\x1b(J ok", VR::LT);
        assert_eq!(lt.text, "Pt 山田 ok");
        // Encoding still designates with `ESC $ B`.
        assert_eq!(cs("\\ISO 2022 IR 87").encode("山田", VR::LT).bytes, b"\x1b$B;3ED\x1b(B");
    }

    #[test]
    fn jis_c_6226_1978_designation_is_not_followed_where_ir_87_is_not_declared() {
        let decoded = cs("\\ISO 2022 IR 149").decode(b"\x1b$@;3ED\x1b(B", VR::LT);
        assert!(decoded.unfollowed_escape && !decoded.exact);
    }

    #[test]
    fn an_escape_sequence_that_is_not_followed_flags_the_value() {
        // Unknown (`ESC $ A`, GB 2312 in G0, which DICOM does not define), undeclared, in a set
        // without code extensions, in UTF-8 and GBK, truncated.
        for (charset, bytes) in [
            ("\\ISO 2022 IR 87", &b"\x1b$A;3ED\x1b(B"[..]),
            ("\\ISO 2022 IR 87", b"A\x1b-A\xe9"),
            ("ISO_IR 100", b"\x1b$B;3\x1b(B"),
            ("ISO_IR 192", b"\x1b$B;3"),
            ("GBK", b"\x1b$B;3"),
            ("\\ISO 2022 IR 87", b"\x1b"),
        ] {
            let decoded = cs(charset).decode(bytes, VR::LT);
            assert!(decoded.unfollowed_escape && !decoded.exact, "{charset} {bytes:?}");
        }
        // Followed escapes, and bytes that are merely invalid, do not.
        assert!(!cs("\\ISO 2022 IR 87").decode(&hex(KAKUU_IR87), VR::PN).unfollowed_escape);
        let stray = cs("\\ISO 2022 IR 87").decode(b"A\xe9", VR::LO);
        assert!(!stray.exact && !stray.unfollowed_escape);
    }

    #[test]
    fn a_shift_jis_id_not_valid_in_the_declared_set_is_read_as_cp932() {
        // `１２３４５６７` in CP932: 0x82 0x50 ... 0x82 0x56.
        let sjis = hex("82 50 82 51 82 52 82 53 82 54 82 55 82 56");
        let default = CharacterSet::default_repertoire();
        for charset in [&default, &cs("ISO_IR 13"), &cs("ISO_IR 100"), &cs("ISO_IR 192"), &cs("\\ISO 2022 IR 87")] {
            assert_eq!(charset.shift_jis_reading(&sjis, VR::LO).as_deref(), Some("１２３４５６７"), "{charset:?}");
        }
        // 山田 (0x8E 0x52 0x93 0x63) under ISO_IR 100, where 0x8E and 0x93 are C1 controls.
        assert_eq!(cs("ISO_IR 100").shift_jis_reading(&hex("8e 52 93 63"), VR::LO).as_deref(), Some("山田"));
    }

    #[test]
    fn rv26_01_a_utf8_id_not_clean_in_the_declared_set_is_read_as_utf8() {
        let utf8 = "１２３４５６７".as_bytes();
        for charset in [CharacterSet::default_repertoire(), cs("ISO_IR 100"), cs("ISO_IR 13")] {
            assert_eq!(charset.utf8_reading(utf8, VR::LO).as_deref(), Some("１２３４５６７"), "{charset:?}");
        }
        // Declared UTF-8 is read in its set; ASCII needs no other reading.
        assert_eq!(cs("ISO_IR 192").utf8_reading(utf8, VR::LO), None);
        assert_eq!(cs("ISO_IR 100").utf8_reading(b"PID0012", VR::LO), None);
    }

    #[test]
    fn rv26_01_text_not_clean_in_its_set_and_clearly_utf8_is_read_and_written_back_as_utf8() {
        let reading = CharacterSet::default_repertoire().read("ヤマダ タロウ 様".as_bytes(), VR::LO);
        assert_eq!(reading, Reading::Utf8("ヤマダ タロウ 様".into()));
        assert_eq!(reading.undeclared_set(), Some("UTF-8"));
        let back = CharacterSet::default_repertoire().write_back(&reading, "*** 様", VR::LO);
        assert_eq!(back.as_deref(), Some("*** 様".as_bytes()));
    }

    #[test]
    fn rv26_01_cp932_that_is_also_two_byte_utf8_stays_cp932() {
        // ﾅｶ ﾐｷ in CP932 (C5 B6 20 D0 B7) is valid UTF-8 too (`Ŷ з`): two-byte UTF-8 alone is
        // not taken for UTF-8.
        let sjis = hex("c5 b6 20 d0 b7");
        assert!(std::str::from_utf8(&sjis).is_ok());
        assert_eq!(
            CharacterSet::default_repertoire().read(&sjis, VR::LO),
            Reading::ShiftJis("ﾅｶ ﾐｷ".into(), OwnCodes::default())
        );
        assert_eq!(CharacterSet::default_repertoire().utf8_reading(&sjis, VR::LO), None);
    }

    #[test]
    fn an_id_valid_in_the_declared_set_or_not_valid_cp932_has_no_shift_jis_reading() {
        // ASCII; Latin-1 é; JIS X 0201 katakana; UTF-8 full-width digits; IR 87 kanji.
        assert_eq!(cs("ISO_IR 100").shift_jis_reading(b"PID0012", VR::LO), None);
        assert_eq!(cs("ISO_IR 100").shift_jis_reading(b"Ren\xe9", VR::LO), None);
        assert_eq!(cs("ISO_IR 13").shift_jis_reading(b"\xb6\xb8\xb3", VR::LO), None);
        assert_eq!(cs("ISO_IR 192").shift_jis_reading("１２３".as_bytes(), VR::LO), None);
        assert_eq!(cs("\\ISO 2022 IR 87").shift_jis_reading(b"\x1b$B#1#2\x1b(B", VR::LO), None);
        // Not valid in the default repertoire, and not CP932 (a lone lead byte at the end).
        assert_eq!(CharacterSet::default_repertoire().shift_jis_reading(b"123\x82", VR::LO), None);
    }

    #[test]
    fn truncated_sequences_are_inexact() {
        let charset = cs("\\ISO 2022 IR 87\\ISO 2022 IR 149");
        for bytes in [&b"\x1b"[..], b"\x1b$", b"\x1b$B;", b"\x1b$)C\xb1", b"\xb1\xe8"] {
            let decoded = charset.decode(bytes, VR::PN);
            assert!(!decoded.exact, "{bytes:?}");
        }
    }

    #[test]
    fn terms_are_parsed_and_trimmed() {
        assert_eq!(cs("\\ISO 2022 IR 87").terms(), ["", "ISO 2022 IR 87"]);
        let padded = CharacterSet::from_value(b" ISO_IR 100\0").expect("supported");
        assert_eq!(padded.terms(), ["ISO_IR 100"]);
        assert_eq!(padded, cs("ISO_IR 100"));
    }

    #[test]
    fn default_repertoire_is_default() {
        assert!(CharacterSet::default_repertoire().is_default());
        assert_eq!(cs(""), CharacterSet::default_repertoire());
        assert_eq!(cs("  "), CharacterSet::default_repertoire());
        assert!(cs("ISO_IR 6").is_default());
        assert!(!cs("ISO_IR 100").is_default());
        assert!(!cs("\\ISO 2022 IR 87").is_default());
        assert!(CharacterSet::default_repertoire().terms().is_empty());
    }

    #[test]
    fn default_repertoire_marks_high_bytes_inexact() {
        let decoded = CharacterSet::default_repertoire().decode(b"Ab\xe9", VR::PN);
        assert_eq!(decoded.text, "Ab\u{FFFD}");
        assert!(!decoded.exact);
    }

    #[test]
    fn jis_x_0208_has_6879_codes() {
        let count = (0x21..=0x7E_u8)
            .flat_map(|b1| (0x21..=0x7E_u8).map(move |b2| (b1, b2)))
            .filter(|&(b1, b2)| jis0208_decode(b1, b2).is_some())
            .count();
        assert_eq!(count, 6879);
    }

    #[test]
    fn jis_x_0212_has_6067_codes() {
        let count = (0x21..=0x7E_u8)
            .flat_map(|b1| (0x21..=0x7E_u8).map(move |b2| (b1, b2)))
            .filter(|&(b1, b2)| jis0212_decode(b1, b2).is_some())
            .count();
        assert_eq!(count, 6067);
    }

    #[test]
    fn gb_2312_has_7445_codes() {
        let count = (0x21..=0x7E_u8)
            .flat_map(|b1| (0x21..=0x7E_u8).map(move |b2| (b1, b2)))
            .filter(|&(b1, b2)| gb2312_decode(b1, b2).is_some())
            .count();
        assert_eq!(count, 7445);
    }

    #[test]
    fn double_byte_sets_round_trip_every_code() {
        for set in [Graphic::Jis0208, Graphic::Jis0212, Graphic::Ksx1001, Graphic::Gb2312] {
            let high = if set.is_g0() { 0 } else { 0x80 };
            for b1 in 0x21..=0x7E_u8 {
                for b2 in 0x21..=0x7E_u8 {
                    let (b1, b2) = (b1 | high, b2 | high);
                    // JIS X 0212 0x2237 reads as `~`, which is always written as ASCII.
                    if let Some(c) = set.decode_pair(b1, b2).filter(|c| !c.is_ascii()) {
                        assert_eq!(set.encode(c), Some(Code::Two([b1, b2])), "{set:?} {c}");
                    }
                }
            }
        }
    }

    #[test]
    fn single_byte_sets_round_trip_every_byte() {
        for set in Upper::ALL {
            for b in 0xA0..=0xFF_u8 {
                if let Some(c) = set.decode(b) {
                    assert_eq!(set.encode(c), Some(b), "{set:?} {b:02x}");
                }
            }
        }
    }

    const ALL_SETS: [&str; 38] = [
        "",
        "ISO_IR 6",
        "ISO_IR 100",
        "ISO_IR 101",
        "ISO_IR 109",
        "ISO_IR 110",
        "ISO_IR 144",
        "ISO_IR 127",
        "ISO_IR 126",
        "ISO_IR 138",
        "ISO_IR 148",
        "ISO_IR 203",
        "ISO_IR 166",
        "ISO_IR 13",
        "ISO_IR 192",
        "GB18030",
        "GBK",
        "ISO 2022 IR 6",
        "ISO 2022 IR 100",
        "ISO 2022 IR 101",
        "ISO 2022 IR 109",
        "ISO 2022 IR 110",
        "ISO 2022 IR 144",
        "ISO 2022 IR 127",
        "ISO 2022 IR 126",
        "ISO 2022 IR 138",
        "ISO 2022 IR 148",
        "ISO 2022 IR 203",
        "ISO 2022 IR 13",
        "ISO 2022 IR 166",
        "\\ISO 2022 IR 87",
        "ISO 2022 IR 13\\ISO 2022 IR 87",
        "\\ISO 2022 IR 87\\ISO 2022 IR 159",
        "\\ISO 2022 IR 149",
        "\\ISO 2022 IR 58",
        "ISO 2022 IR 100\\ISO 2022 IR 144\\ISO 2022 IR 126",
        "ISO 2022 IR 6\\ISO 2022 IR 87\\ISO 2022 IR 13",
        "ISO_IR 13\\ISO 2022 IR 87",
    ];

    const VRS: [VR; 5] = [VR::PN, VR::LO, VR::LT, VR::CS, VR::UN];

    #[test]
    fn every_listed_set_parses() {
        for charset in ALL_SETS {
            assert!(CharacterSet::from_value(charset.as_bytes()).is_ok(), "{charset}");
        }
    }

    fn japanese_char() -> impl Strategy<Value = char> {
        prop_oneof![
            (0x20_u32..=0x7E).prop_map(|c| char::from_u32(c).unwrap_or(' ')),
            Just('\r'),
            Just('\n'),
            Just('\t'),
            (0x4E00_u32..=0x9FA5).prop_map(|c| char::from_u32(c).unwrap_or('亜')),
            (0x3041_u32..=0x3093).prop_map(|c| char::from_u32(c).unwrap_or('あ')),
            (0x30A1_u32..=0x30F6).prop_map(|c| char::from_u32(c).unwrap_or('ア')),
            (0xFF61_u32..=0xFF9F).prop_map(|c| char::from_u32(c).unwrap_or('ｱ')),
        ]
    }

    /// What `text` should read back as: each character alone, encoded and decoded, or `?`.
    fn expected_round_trip(charset: &CharacterSet, text: &str, vr: VR) -> String {
        text.chars()
            .map(|c| {
                let alone = charset.encode(&c.to_string(), vr);
                if alone.exact { charset.decode(&alone.bytes, vr).text } else { "?".to_owned() }
            })
            .collect()
    }

    fn assert_round_trip(charset: &CharacterSet, text: &str, vr: VR) {
        let encoded = charset.encode(text, vr);
        let decoded = charset.decode(&encoded.bytes, vr);
        assert!(decoded.exact, "{:?} {vr:?} {text:?}", charset.terms());
        assert_eq!(decoded.text, expected_round_trip(charset, text, vr), "{:?} {vr:?}", charset.terms());
    }

    proptest! {
        #[test]
        fn japanese_text_round_trips(
            text in proptest::collection::vec(japanese_char(), 0..40)
                .prop_map(|chars| chars.into_iter().collect::<String>()),
            vr in proptest::sample::select(vec![VR::PN, VR::LO, VR::LT]),
        ) {
            for raw in ["\\ISO 2022 IR 87", "ISO 2022 IR 13\\ISO 2022 IR 87"] {
                let charset = cs(raw);
                assert_round_trip(&charset, &text, vr);
                // No pinned code is in these ranges: every representable character reads back
                // as itself, the others as `?`.
                let encoded = charset.encode(&text, vr);
                let decoded = charset.decode(&encoded.bytes, vr);
                prop_assert_eq!(decoded.text.chars().count(), text.chars().count());
                for (original, read) in text.chars().zip(decoded.text.chars()) {
                    prop_assert!(read == original || read == '?');
                }
                if encoded.exact {
                    prop_assert_eq!(&decoded.text, &text);
                }
            }
        }

        #[test]
        fn any_text_round_trips_in_every_set(
            text in "[ -~\u{a0}-\u{17f}\u{370}-\u{3ff}\u{400}-\u{45f}\u{5d0}-\u{5ea}\u{621}-\u{64a}\u{e01}-\u{e5b}\u{3041}-\u{30ff}\u{4e00}-\u{9fa5}\u{ac00}-\u{d7a3}\u{ff61}-\u{ff9f}^=\\\\\r\n]{0,24}",
            vr in proptest::sample::select(VRS.to_vec()),
        ) {
            for raw in ALL_SETS {
                assert_round_trip(&cs(raw), &text, vr);
            }
        }

        #[test]
        fn decode_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
            vr in proptest::sample::select(VRS.to_vec()),
        ) {
            for raw in ALL_SETS {
                let charset = cs(raw);
                let decoded = charset.decode(&bytes, vr);
                if !matches!(raw, "ISO_IR 192" | "GB18030" | "GBK") {
                    // U+FFFD is in none of these sets: it appears exactly when decoding failed.
                    prop_assert_eq!(decoded.exact, !decoded.text.contains(REPLACEMENT));
                }
            }
        }

        #[test]
        fn decode_never_panics_on_escape_heavy_bytes(
            bytes in proptest::collection::vec(
                prop_oneof![Just(0x1B_u8), Just(b'$'), Just(b'('), Just(b')'), Just(b'-'),
                            Just(b'B'), Just(b'^'), Just(b'\\'), any::<u8>()],
                0..64,
            ),
            vr in proptest::sample::select(VRS.to_vec()),
        ) {
            for raw in ALL_SETS {
                let _ = cs(raw).decode(&bytes, vr);
            }
        }
    }

    #[test]
    fn every_defined_term_of_the_lenient_list_is_a_term_and_unique_without_separators() {
        let mut keys = std::collections::HashSet::new();
        for term in DEFINED_TERMS {
            let value = if term.starts_with("ISO 2022") { format!("\\{term}") } else { term.to_string() };
            assert!(CharacterSet::from_value(value.as_bytes()).is_ok(), "{term}");
            assert!(keys.insert(squeeze(term)), "{term} is not unique without separators");
        }
    }

    #[test]
    fn a_defined_term_spelled_with_other_separators_is_read_leniently() {
        for (misspelled, defined) in
            [("ISO-IR 100", "ISO_IR 100"), ("\\ISO 2022 IR87", "\\ISO 2022 IR 87"), ("iso_ir 192", "ISO_IR 192")]
        {
            assert!(CharacterSet::from_value(misspelled.as_bytes()).is_err(), "{misspelled}");
            let lenient = CharacterSet::from_value_lenient(misspelled.as_bytes()).unwrap();
            assert_eq!(lenient, CharacterSet::from_value(defined.as_bytes()).unwrap(), "{misspelled}");
        }
        assert!(CharacterSet::from_value_lenient(b"KLINGON").is_err());
    }
}
