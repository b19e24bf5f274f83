use super::*;
use crate::pixels::decode;
use crate::transfer::TransferSyntax;

const BASELINE: &str = "1.2.840.10008.1.2.4.50";

/// A 48 × 32 grey picture with a gradient and a bright square.
fn grey() -> Vec<u8> {
    (0..48 * 32).map(|i| if (i % 48 > 20 && i % 48 < 30) && i / 48 > 8 { 240 } else { (i % 48 * 4) as u8 }).collect()
}

/// A JPEG baseline stream of [`grey`] (JFIF APP0 only), with `apps` (number, data) added.
fn encode(apps: &[(u8, &[u8])], setup: impl FnOnce(&mut jpeg_encoder::Encoder<&mut Vec<u8>>)) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = jpeg_encoder::Encoder::new(&mut out, 90);
    for (n, data) in apps {
        e.add_app_segment(*n, data).unwrap();
    }
    setup(&mut e);
    e.encode(&grey(), 48, 32, jpeg_encoder::ColorType::Luma).unwrap();
    out
}

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&(body.len() as u16 + 2).to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// `stream` with `bytes` inserted at `at`.
fn insert(stream: &[u8], at: usize, bytes: &[u8]) -> Vec<u8> {
    let mut s = stream[..at].to_vec();
    s.extend_from_slice(bytes);
    s.extend_from_slice(&stream[at..]);
    s
}

/// Where the JFIF segment after SOI ends.
fn after_jfif(s: &[u8]) -> usize {
    assert_eq!(&s[2..4], &[0xFF, 0xE0]);
    4 + usize::from(u16::from_be_bytes([s[4], s[5]]))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The decoded samples of one 48 × 32 grey frame, through kamei's own decoding path.
fn decoded(stream: &[u8]) -> Vec<u8> {
    let us = |v: u16| v.to_le_bytes().to_vec();
    let ds = DataSet::from_elements([
        Element::new(tags::SAMPLES_PER_PIXEL, VR::US, us(1)),
        Element::new(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, b"MONOCHROME2 ".to_vec()),
        Element::new(tags::ROWS, VR::US, us(32)),
        Element::new(tags::COLUMNS, VR::US, us(48)),
        Element::new(tags::BITS_ALLOCATED, VR::US, us(8)),
        Element::new(tags::BITS_STORED, VR::US, us(8)),
        Element::new(tags::HIGH_BIT, VR::US, us(7)),
        Element::new(tags::PIXEL_REPRESENTATION, VR::US, us(0)),
        Element {
            tag: tags::PIXEL_DATA,
            vr: VR::OB,
            value: Value::Fragments(Fragments { offset_table: Vec::new(), fragments: vec![stream.to_vec()] }),
        },
    ]);
    let ts = TransferSyntax::from_uid(BASELINE).unwrap();
    decode::decode(&ds, &ts, None).unwrap().data
}

fn stripped(stream: &[u8]) -> (Vec<u8>, Removed) {
    strip(Codec::Jpeg, stream).unwrap().expect("something to remove")
}

const EXIF: &[u8] = b"Exif\0\0MM\0*\0\0\0\x08Patient YAMADA TARO PID7788123";

#[test]
fn exif_app1_and_a_comment_are_removed_and_the_image_decodes_the_same() {
    let plain = encode(&[], |_| {});
    let with = encode(&[(1, EXIF)], |_| {});
    let with = insert(&with, after_jfif(&with), &segment(0xFE, b"YAMADA^TARO PID7788123"));
    let (out, removed) = stripped(&with);
    assert!(!contains(&out, b"YAMADA") && !contains(&out, b"Exif"));
    assert_eq!(removed.to_string(), "1 APP1, 1 COM");
    assert_eq!(out, plain, "exactly the segments are gone");
    assert_eq!(decoded(&out), decoded(&with));
}

#[test]
fn every_application_segment_but_jfif_is_removed() {
    let apps: Vec<(u8, Vec<u8>)> = (1..=15u8).map(|n| (n, format!("vendor {n} YAMADA").into_bytes())).collect();
    let refs: Vec<(u8, &[u8])> = apps.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    let with = encode(&refs, |e| e.add_icc_profile(b"ICC profile bytes").unwrap());
    let (out, removed) = stripped(&with);
    assert_eq!(out, encode(&[], |_| {}));
    let counts: Vec<(Kind, u32)> = removed.counts().collect();
    assert!(counts.contains(&(Kind::JpegApp(2), 2)), "the ICC profile is an APP2 too: {counts:?}");
    assert_eq!(counts.len(), 15);
}

#[test]
fn a_stream_with_only_jfif_is_left_byte_for_byte() {
    for stream in
        [encode(&[], |_| {}), encode(&[], |e| e.set_progressive(true)), encode(&[], |e| e.set_restart_interval(2))]
    {
        assert_eq!(strip(Codec::Jpeg, &stream), Ok(None));
    }
}

#[test]
fn a_jfif_thumbnail_is_dropped_and_the_jfif_segment_kept() {
    let plain = encode(&[], |_| {});
    let end = after_jfif(&plain);
    // JFIF 1.01, no units, density 1 × 1, a 2 × 1 RGB thumbnail.
    let mut body = b"JFIF\0\x01\x01\0\0\x01\0\x01\x02\x01".to_vec();
    body.extend_from_slice(&[200, 10, 10, 10, 200, 10]);
    let with = [&plain[..2], &segment(0xE0, &body), &plain[end..]].concat();
    let (out, removed) = stripped(&with);
    assert_eq!(removed.to_string(), "1 JFIF thumbnail");
    assert_eq!(&out[2..20], &segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")[..]);
    assert_eq!(decoded(&out), decoded(&plain));
}

#[test]
fn a_jfxx_thumbnail_segment_is_removed() {
    let plain = encode(&[], |_| {});
    let with = insert(&plain, after_jfif(&plain), &segment(0xE0, b"JFXX\0\x13\x02\x01\xff\xd8thumb"));
    let (out, removed) = stripped(&with);
    assert_eq!(out, plain);
    assert_eq!(removed.to_string(), "1 APP0");
}

#[test]
fn the_adobe_segment_is_kept_and_trimmed_to_what_decoders_read() {
    let plain = encode(&[], |_| {});
    let adobe = segment(0xEE, b"Adobe\0\x64\0\0\0\0\x01");
    let with = insert(&plain, after_jfif(&plain), &adobe);
    assert_eq!(strip(Codec::Jpeg, &with), Ok(None));
    let long = insert(&plain, after_jfif(&plain), &segment(0xEE, b"Adobe\0\x64\0\0\0\0\x01 YAMADA"));
    let (out, removed) = stripped(&long);
    assert_eq!(out, with);
    assert_eq!(removed.to_string(), "1 bytes past a kept segment's parameters");
}

#[test]
fn comments_between_and_after_the_scans_of_a_progressive_stream_are_removed() {
    let plain = encode(&[], |e| e.set_progressive(true));
    let sos: Vec<usize> = plain.windows(2).enumerate().filter(|(_, w)| *w == [0xFF, 0xDA]).map(|(i, _)| i).collect();
    assert!(sos.len() > 2, "several scans");
    let com = segment(0xFE, b"YAMADA");
    let eoi = plain.len() - 2;
    let with = insert(&insert(&plain, eoi, &com), sos[2], &com);
    let (out, removed) = stripped(&with);
    assert_eq!(out, plain);
    assert_eq!(removed.to_string(), "2 COM");
    assert_eq!(decoded(&out), decoded(&plain));
}

#[test]
fn restart_markers_stuffed_bytes_and_fill_bytes_stay_in_the_scan() {
    let plain = encode(&[], |e| e.set_restart_interval(1));
    let eoi = plain.len() - 2;
    assert!(contains(&plain[..eoi], &[0xFF, 0xD0]) && contains(&plain[..eoi], &[0xFF, 0x00]));
    // Fill bytes before the comment marker, and a comment before EOI.
    let with = insert(&plain, eoi, &[&[0xFF, 0xFF][..], &segment(0xFE, b"YAMADA")].concat());
    let (out, removed) = stripped(&with);
    assert_eq!(out, plain);
    assert_eq!(removed.to_string(), "1 COM");
}

#[test]
fn padding_after_the_end_of_image_is_kept_and_other_data_removed() {
    let plain = encode(&[], |_| {});
    assert_eq!(strip(Codec::Jpeg, &[&plain[..], &[0]].concat()), Ok(None));
    let (out, removed) = stripped(&[&plain[..], b"YAMADA TARO"].concat());
    assert_eq!(out, plain);
    assert_eq!(removed.to_string(), "1 data after the end of the codestream");
    // A second codestream right after the first is kept, its own comment removed.
    let second = insert(&plain, after_jfif(&plain), &segment(0xFE, b"YAMADA"));
    let (out, _) = stripped(&[&plain[..], &second].concat());
    assert_eq!(out, [&plain[..], &plain].concat());
}

#[test]
fn a_jpeg_ls_scan_keeps_its_bytes_after_ff_and_loses_its_comment() {
    // SOI, SOF55 (8 bits, 2 × 1, one component), SOS, coded data with FF 7F (a JPEG-LS
    // stuffed bit, which ends a baseline scan), COM, EOI.
    let mut s = vec![0xFF, 0xD8];
    s.extend(segment(0xF7, &[8, 0, 1, 0, 2, 1, 1, 0x11, 0]));
    s.extend(segment(0xDA, &[1, 1, 0, 0, 0, 0]));
    let data = [0x12, 0xFF, 0x7F, 0xFF, 0x00, 0x34];
    s.extend(data);
    let plain = [&s[..], &[0xFF, 0xD9]].concat();
    s.extend(segment(0xFE, b"YAMADA"));
    s.extend([0xFF, 0xD9]);
    let (out, removed) = stripped(&s);
    assert_eq!(out, plain);
    assert_eq!(removed.to_string(), "1 COM");
    // The HP colour transform segment CharLS reads is kept.
    let hp = insert(&plain, 2, &segment(0xE8, b"mrfx\x01"));
    assert_eq!(strip(Codec::Jpeg, &hp), Ok(None));
}

#[test]
fn a_truncated_or_garbage_stream_is_kept_only_when_it_cannot_hold_metadata() {
    let with = encode(&[(1, EXIF)], |_| {});
    // Cut inside the EXIF segment: its length runs past the end.
    let e = strip(Codec::Jpeg, &with[..30]).unwrap_err();
    assert!(e.0.contains("past the end"), "{e}");
    assert!(!e.0.contains("YAMADA"));
    // A stream cut inside its coded data ends there: what came before is still handled.
    let cut = &with[..with.len() - 40];
    let (out, _) = stripped(cut);
    assert!(!contains(&out, b"Exif"));
    // Not JPEG at all: kept when no byte pair could open a metadata segment, refused otherwise.
    assert_eq!(strip(Codec::Jpeg, b"not a JPEG stream"), Ok(None));
    assert!(strip(Codec::Jpeg, b"not\xff\xfe a JPEG stream").is_err());
    // A JFIF-only stream whose header is broken (bytes that are not a marker) stays as it is.
    let plain = encode(&[], |_| {});
    let broken = insert(&plain, after_jfif(&plain), b"??");
    assert_eq!(strip(Codec::Jpeg, &broken), Ok(None));
}

/// A JPEG 2000 codestream: SOC, SIZ (4 × 4, one component), COD, QCD, then tile-parts, EOC.
fn j2k(main_extra: &[u8], tiles: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut s = vec![0xFF, 0x4F];
    let mut siz = vec![0, 0];
    for v in [4u32, 4, 0, 0, 4, 4, 0, 0] {
        siz.extend(v.to_be_bytes());
    }
    siz.extend([0, 1, 7, 1, 1]);
    s.extend(j2k_segment(0x51, &siz));
    s.extend(j2k_segment(0x52, &[0, 0, 0, 1, 0, 5, 4, 4, 0, 0]));
    s.extend(j2k_segment(0x5C, &[0x40, 0x48]));
    s.extend(main_extra);
    for (n, (header, data)) in tiles.iter().enumerate() {
        let psot = (12 + header.len() + 2 + data.len()) as u32;
        let mut sot = vec![0xFF, 0x90, 0, 10, 0, 0];
        sot.extend(psot.to_be_bytes());
        sot.extend([n as u8, tiles.len() as u8]);
        s.extend(sot);
        s.extend(*header);
        s.extend([0xFF, 0x93]);
        s.extend(*data);
    }
    s.extend([0xFF, 0xD9]);
    s
}

fn j2k_segment(marker: u8, body: &[u8]) -> Vec<u8> {
    segment(marker, body).iter().enumerate().map(|(i, &b)| if i == 0 { 0xFF } else { b }).collect()
}

fn com(text: &[u8]) -> Vec<u8> {
    j2k_segment(0x64, &[&[0, 1][..], text].concat())
}

#[test]
fn a_jpeg_2000_comment_is_removed_from_the_main_header() {
    let data: &[u8] = &[0x01, 0xFF, 0x64, 0x02];
    let plain = j2k(&[], &[(&[], data)]);
    let with = j2k(&com(b"Kakadu YAMADA"), &[(&[], data)]);
    let (out, removed) = strip(Codec::J2k, &with).unwrap().unwrap();
    assert_eq!(out, plain, "FF 64 inside the coded data is not a marker");
    assert_eq!(removed.to_string(), "1 JPEG 2000 COM");
    assert_eq!(strip(Codec::J2k, &plain), Ok(None));
    // A marker without a segment (FF30–FF3F) before the comment is stepped over.
    let with = j2k(&[&[0xFF, 0x30][..], &com(b"YAMADA")].concat(), &[(&[], data)]);
    let (out, _) = strip(Codec::J2k, &with).unwrap().unwrap();
    assert_eq!(out, j2k(&[0xFF, 0x30], &[(&[], data)]));
}

#[test]
fn a_comment_in_a_tile_part_is_removed_and_its_psot_fixed() {
    let data: &[u8] = &[1, 2, 3, 4];
    let plain = j2k(&[], &[(&[], data), (&[], data)]);
    let c = com(b"YAMADA");
    let with = j2k(&[], &[(&c, data), (&[], data)]);
    let (out, _) = strip(Codec::J2k, &with).unwrap().unwrap();
    assert_eq!(out, plain, "the first tile-part's Psot is back to its length without the comment");
    // With tile-part lengths (TLM) in the main header, the TLM would need rewriting: refused.
    let tlm = j2k_segment(0x55, &[0, 0x40, 0, 0, 0, 30, 0, 0, 0, 20]);
    let e = strip(Codec::J2k, &j2k(&tlm, &[(&c, data), (&[], data)])).unwrap_err();
    assert!(e.0.contains("TLM"), "{e}");
    // A tile-part whose Psot runs past the end is broken, and FF 64 occurs: refused.
    let mut broken = with.clone();
    broken.truncate(broken.len() - 12);
    assert!(strip(Codec::J2k, &broken).is_err());
}

fn jp2_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    [&(body.len() as u32 + 8).to_be_bytes()[..], kind, body].concat()
}

#[test]
fn a_jp2_file_loses_its_xml_and_uuid_boxes_and_the_codestream_its_comments() {
    let data: &[u8] = &[1, 2, 3, 4];
    let header =
        [jp2_box(b"jP  ", &[0x0D, 0x0A, 0x87, 0x0A]), jp2_box(b"ftyp", b"jp2 \0\0\0\0jp2 "), jp2_box(b"jp2h", b"ihdr")]
            .concat();
    let plain = [header.clone(), jp2_box(b"jp2c", &j2k(&[], &[(&[], data)]))].concat();
    let with = [
        header,
        jp2_box(b"xml ", b"<patient>YAMADA</patient>"),
        jp2_box(b"uuid", b"0123456789abcdefYAMADA"),
        jp2_box(b"jp2c", &j2k(&com(b"YAMADA"), &[(&[], data)])),
    ]
    .concat();
    let (out, removed) = strip(Codec::J2k, &with).unwrap().unwrap();
    assert_eq!(out, plain);
    assert_eq!(removed.to_string(), "1 JPEG 2000 COM, 1 JP2 xml box, 1 JP2 uuid box");
}

fn pixel_data(offset_table: Vec<u8>, fragments: Vec<Vec<u8>>, frames: usize) -> DataSet {
    DataSet::from_elements([
        Element::new(tags::NUMBER_OF_FRAMES, VR::IS, frames.to_string().into_bytes()),
        Element { tag: tags::PIXEL_DATA, vr: VR::OB, value: Value::Fragments(Fragments { offset_table, fragments }) },
    ])
}

fn fragments_of(s: &Stripped) -> &Fragments {
    match &s.elements[0].value {
        Value::Fragments(f) => f,
        other => panic!("{other:?}"),
    }
}

/// A stream as a fragment holds it: padded to an even length with a zero byte.
fn even(mut s: Vec<u8>) -> Vec<u8> {
    if s.len() % 2 == 1 {
        s.push(0);
    }
    s
}

fn le32(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn le64(v: &[u64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn the_basic_offset_table_follows_the_shorter_frames_and_other_frames_stay_as_they_were() {
    let plain = even(encode(&[], |_| {}));
    let with = even(encode(&[(1, EXIF)], |_| {}));
    // Frame 1 in two fragments (split inside its coded data), frame 2 with EXIF, frame 3 plain.
    let (a, b) = plain.split_at((plain.len() / 2) & !1);
    let frags = vec![a.to_vec(), b.to_vec(), with.clone(), plain.clone()];
    let bot = le32(&[0, (16 + plain.len()) as u32, (24 + plain.len() + with.len()) as u32]);
    let s = strip_pixel_data(&pixel_data(bot, frags.clone(), 3), BASELINE).unwrap().unwrap();
    let f = fragments_of(&s);
    assert_eq!(f.fragments, vec![a.to_vec(), b.to_vec(), plain.clone(), plain.clone()]);
    let p = plain.len() as u32;
    assert_eq!(f.offset_table, le32(&[0, 16 + p, 24 + 2 * p]));
    assert_eq!(s.removed.to_string(), "1 APP1");
    // Without a table, one fragment per frame is found by the codestreams the fragments open.
    let s = strip_pixel_data(&pixel_data(Vec::new(), frags, 3), BASELINE).unwrap().unwrap();
    assert_eq!(fragments_of(&s).fragments.len(), 4);
    assert!(fragments_of(&s).offset_table.is_empty());
}

#[test]
fn a_frame_in_several_fragments_that_loses_a_segment_becomes_one_fragment() {
    let with = encode(&[(1, EXIF)], |_| {});
    let (a, b) = with.split_at(20);
    let s = strip_pixel_data(&pixel_data(Vec::new(), vec![a.to_vec(), b.to_vec()], 1), BASELINE).unwrap().unwrap();
    assert_eq!(fragments_of(&s).fragments, vec![encode(&[], |_| {})]);
}

#[test]
fn the_extended_offset_table_and_its_lengths_follow_the_shorter_frames() {
    let plain = even(encode(&[], |_| {}));
    let with = even(encode(&[(1, EXIF)], |_| {}));
    let (p, w) = (plain.len() as u64, with.len() as u64);
    let mut ds = pixel_data(Vec::new(), vec![with.clone(), plain.clone()], 2);
    ds.put(Element::new(tags::EXTENDED_OFFSET_TABLE, VR::OV, le64(&[0, 8 + w])));
    ds.put(Element::new(tags::EXTENDED_OFFSET_TABLE_LENGTHS, VR::OV, le64(&[w, p])));
    let s = strip_pixel_data(&ds, BASELINE).unwrap().unwrap();
    assert_eq!(s.elements[1].tag, tags::EXTENDED_OFFSET_TABLE);
    assert_eq!(s.elements[1].bytes().unwrap(), le64(&[0, 8 + p]));
    assert_eq!(s.elements[2].bytes().unwrap(), le64(&[p, p]));
}

#[test]
fn an_offset_table_that_does_not_point_at_fragments_is_not_rewritten_but_refused() {
    let with = encode(&[(1, EXIF)], |_| {});
    let ds = pixel_data(le32(&[0, 12]), vec![with.clone(), with], 2);
    let e = strip_pixel_data(&ds, BASELINE).unwrap_err();
    assert!(e.0.contains("offset table"), "{e}");
}

#[test]
fn pixel_data_without_metadata_or_of_other_codecs_is_left_alone() {
    let plain = encode(&[], |_| {});
    assert_eq!(strip_pixel_data(&pixel_data(le32(&[0]), vec![plain], 1), BASELINE), Ok(None));
    let with = encode(&[(1, EXIF)], |_| {});
    assert_eq!(strip_pixel_data(&pixel_data(Vec::new(), vec![with], 1), "1.2.840.10008.1.2.5"), Ok(None));
    assert_eq!(Codec::of("1.2.840.10008.1.2.4.80"), Some(Codec::Jpeg));
    assert_eq!(Codec::of("1.2.840.10008.1.2.4.201"), Some(Codec::J2k));
    assert_eq!(Codec::of("1.2.840.10008.1.2.4.100"), None);
}

#[test]
fn a_frame_that_cannot_be_parsed_and_may_hold_metadata_fails_naming_the_frame() {
    let plain = encode(&[], |_| {});
    let bad = [&plain[..20], b"\xff\xe1\x7f\x7f"].concat();
    let e = strip_pixel_data(&pixel_data(Vec::new(), vec![plain, bad], 2), BASELINE).unwrap_err();
    assert!(e.0.starts_with("frame 2:"), "{e}");
}
