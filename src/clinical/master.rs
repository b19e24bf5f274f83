//! A patient master held in an SS-MIX2 standardized storage (`--identifiers-from ROOT`).
//!
//! A Japanese hospital's patient master is often its SS-MIX2 storage: the ADT messages give the
//! patient's names in every writing (PID-5 repetitions: kanji, kana, romaji), the address
//! (PID-11), phones (PID-13/14), birth date (PID-7) and next of kin (NK1-2 name, NK1-4 address,
//! NK1-5/6 phones). Other files (a CSV notes table, a DICOM Study Description, another storage's
//! free text) name the patient or a relative by them without holding them. This module reads a
//! storage's messages only for those values, per patient folder, with the parsing
//! `kamei clinical ss-mix2` uses ([`super::ssmix2::parse_path`], [`Message::parse`]); it writes
//! nothing and never reports a value or a path (an entry is named by its place in sorted order).

use super::columns::Role;
use super::hl7::Message;
use super::ssmix2;
use super::values::BirthPrecision;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether `path` is a folder, which `--identifiers-from` reads as an SS-MIX2 storage root (a
/// CSV master is a file).
pub fn is_storage(path: &Path) -> bool {
    path.is_dir()
}

/// Read every message of the storage at `root` and give each identifying value to `add` with
/// its patient folder's ID and the role it would have as a CSV master's column
/// ([`message_values`]). Returns the SHA-256 of the storage's content (each entry's path below
/// the root and the hash of its bytes, in sorted order), for the run's settings.
///
/// # Errors
/// A message (never a value or a path) when the folder holds no file in the SS-MIX2 layout, an
/// entry is not in the layout or cannot be read, a message does not parse or is not the patient
/// folder's: the identifiers it holds would be missing from every cleaning. `interrupted` on
/// Ctrl-C.
pub fn read_storage(
    root: &Path,
    interrupt: &AtomicBool,
    add: &mut dyn FnMut(&str, Role, &str),
) -> Result<[u8; 32], String> {
    let (content, messages) = visit(root, interrupt, true, add)?;
    if messages == 0 {
        return Err("the folder holds no message in the SS-MIX2 layout (ROOT/ID[0:3]/ID[3:6]/ID/date/type/file); give a CSV file or an SS-MIX2 storage root".into());
    }
    Ok(content)
}

/// As [`read_storage`], for a folder that may or may not be an SS-MIX2 storage (`kamei verify
/// --against`, whose inputs are DICOM folders too): an entry outside the layout, or a message
/// that cannot be read, gives nothing and is passed over. Returns how many messages gave
/// their values.
pub fn read_storage_lenient(root: &Path, add: &mut dyn FnMut(&str, Role, &str)) -> usize {
    visit(root, &AtomicBool::new(false), false, add).map_or(0, |(_, n)| n)
}

/// One message of a storage as [`visit`] reads it: its place in the layout, the message, its
/// bytes and its path below the root.
type ReadMessage = (ssmix2::Entry, Message, Vec<u8>, std::path::PathBuf);

/// Walk `root` in sorted order for [`read_storage`] (`strict`: the first entry that cannot be
/// read is the error) or [`read_storage_lenient`]: the content digest and the number of
/// messages read.
fn visit(
    root: &Path,
    interrupt: &AtomicBool,
    strict: bool,
    add: &mut dyn FnMut(&str, Role, &str),
) -> Result<([u8; 32], usize), String> {
    use sha2::Digest;
    let mut content = sha2::Sha256::new();
    let mut messages = 0usize;
    let walk = walkdir::WalkDir::new(root).min_depth(1).follow_links(true).sort_by_file_name();
    for (i, e) in walk.into_iter().enumerate() {
        if interrupt.load(Ordering::Relaxed) {
            return Err("interrupted".into());
        }
        let n = i + 1;
        let one = || -> Result<Option<ReadMessage>, String> {
            let e = e.map_err(|_| format!("entry #{n} cannot be read (a link to nothing, a loop, no permission)"))?;
            if !e.file_type().is_file() {
                return Ok(None);
            }
            let rel = e.path().strip_prefix(root).unwrap_or(e.path()).to_path_buf();
            let entry =
                ssmix2::parse_path(&rel).map_err(|why| format!("entry #{n} is not in the SS-MIX2 layout: {why}"))?;
            let bytes = std::fs::read(e.path()).map_err(|err| format!("entry #{n} cannot be read: {}", err.kind()))?;
            let msg = Message::parse(&bytes).map_err(|err| format!("entry #{n}: the message does not parse: {err}"))?;
            ssmix2::check_patient(&msg, &entry.id).map_err(|why| format!("entry #{n}: {why}"))?;
            Ok(Some((entry, msg, bytes, rel)))
        };
        let (entry, msg, bytes, rel) = match one() {
            Ok(Some(found)) => found,
            Ok(None) => continue,
            Err(why) if strict => return Err(why),
            Err(_) => continue,
        };
        content.update(crate::linkage::path_bytes(&rel));
        content.update([0]);
        content.update(sha2::Sha256::digest(&bytes));
        for (role, value) in message_values(&msg) {
            add(&entry.id, role, &value);
        }
        messages += 1;
    }
    Ok((content.finalize().into(), messages))
}

/// The identifying values of one message of a patient's storage, each with the role a CSV
/// master's column of it would have: PID-5 and NK1-2 names (each repetition: family, given and
/// middle name joined by spaces) as [`Role::Name`]; PID-7 birth date as [`Role::BirthDate`];
/// PID-2/3/4 IDs, PID-11 and NK1-4 addresses (street, other designation, city, other geographic
/// designation, and the whole address run together) and PID-13/14, NK1-5/6 phones (number,
/// area code with local number, unformatted number) as [`Role::Identifier`]; the addresses'
/// postal codes as [`Role::PostalCode`]. A number of fewer than six digits alone is left out
/// (an area code, a house number: cleaned from every text it would clobber codes and results).
pub fn message_values(msg: &Message) -> Vec<(Role, String)> {
    let mut out = Vec::new();
    let mut push = |role: Role, v: &str| {
        let v = v.trim();
        let short_number = v.len() < 6 && v.bytes().all(|b| b.is_ascii_digit());
        let short_id = role == Role::Identifier && short_number;
        if !v.is_empty() && !short_id {
            out.push((role, v.to_string()));
        }
    };
    for seg in &msg.segments {
        let (names, ids, addresses, phones): (&[usize], &[usize], &[usize], &[usize]) = match seg.name.as_str() {
            "PID" => (&[5, 9], &[2, 3, 4], &[11], &[13, 14]),
            "NK1" => (&[2], &[], &[4], &[5, 6]),
            _ => continue,
        };
        for &f in names {
            for rep in ssmix2::components(msg, seg.field(f)) {
                let parts: Vec<&str> = (1..=3).map(|n| ssmix2::get(&rep, n)).filter(|p| !p.is_empty()).collect();
                push(Role::Name, &parts.join(" "));
            }
        }
        for &f in ids {
            for rep in ssmix2::components(msg, seg.field(f)) {
                push(Role::Identifier, ssmix2::get(&rep, 1));
            }
        }
        for &f in addresses {
            for rep in ssmix2::components(msg, seg.field(f)) {
                for n in [1, 2, 3, 8] {
                    push(Role::Identifier, ssmix2::get(&rep, n));
                }
                push(Role::PostalCode, ssmix2::get(&rep, 5));
                let whole: String = [4, 3, 1, 2].iter().map(|&n| ssmix2::get(&rep, n)).collect();
                push(Role::Identifier, &whole);
            }
        }
        for &f in phones {
            for rep in ssmix2::components(msg, seg.field(f)) {
                for n in [1, 12] {
                    push(Role::Identifier, ssmix2::get(&rep, n));
                }
                push(Role::Identifier, &format!("{}{}", ssmix2::get(&rep, 6), ssmix2::get(&rep, 7)));
            }
        }
        if seg.name == "PID" {
            for rep in ssmix2::components(msg, seg.field(7)) {
                if let Some(d) = ssmix2::get(&rep, 1).get(..8).filter(|d| d.bytes().all(|b| b.is_ascii_digit())) {
                    push(Role::BirthDate { precision: BirthPrecision::Year }, d);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> Message {
        Message::parse(body.replace('\n', "\r").as_bytes()).unwrap()
    }

    #[test]
    fn names_of_every_repetition_relatives_phones_and_birth_date_are_given_with_roles() {
        let msg = message(
            "MSH|^~\\&|HIS||||20240102||ADT^A08|1|P|2.5||||||UNICODE UTF-8\n\
             PID|||1234567^^^^PI||YAMADA^TARO^^^^^L^A~ヤマダ^タロウ^^^^^L^P||19850315|M|||^^静岡市^^4220000||^PRN^PH^^^054^1234567\n\
             NK1|1|YAMADA^JIRO^^^^^L^A|SPO|^^^^4220001||",
        );
        let values = message_values(&msg);
        let has = |role: Role, v: &str| values.iter().any(|(r, x)| *r == role && x == v);
        assert!(has(Role::Name, "YAMADA TARO"));
        assert!(has(Role::Name, "ヤマダ タロウ"));
        assert!(has(Role::Name, "YAMADA JIRO"));
        assert!(has(Role::Identifier, "1234567"));
        assert!(has(Role::Identifier, "静岡市"));
        assert!(has(Role::Identifier, "0541234567"));
        assert!(has(Role::PostalCode, "4220000"));
        assert!(has(Role::PostalCode, "4220001"));
        assert!(has(Role::BirthDate { precision: BirthPrecision::Year }, "19850315"));
        // A number of fewer than six digits alone is no identifier to clean text of.
        assert!(!values.iter().any(|(_, v)| v == "054"));
    }
}
