//! kamei: de-identify DICOM archives per DICOM PS3.15 Annex E.
//!
//! The pipeline, one module per stage: [`walk`] finds the inputs; [`read`] loads and parses a
//! file into a [`dataset::DataSet`] that keeps every value's bytes; [`plan`] decides, from a
//! compiled [`profile::RuleSet`] and a [`pseudo::Pseudonymizer`], what happens to every element
//! (a pure function); [`apply`] carries the plan out in memory; [`write`](mod@write) encodes the result and
//! commits it atomically; [`audit`] records what was done. [`pipeline`] is the only module that
//! knows the order and runs it in parallel.
//!
//! Supporting modules: [`charset`] (Specific Character Set with ISO 2022 code extensions),
//! [`scrub`] (a patient's identifiers inside text, in the spellings [`names`] and [`addresses`]
//! give, which `verify` searches for too; variant kanji folded by [`itaiji`]), [`dates`] (date shifting), [`layout`]
//! (output paths), [`linkage`] (the re-identification table), [`dict`] and [`transfer`]
//! (dictionary and transfer syntax lookups over dicom-rs), [`standard_uids`] (the UIDs the standard registers). [`pixels`] cleans burned-in text from
//! pixel data (`clean-pixel-data`), writing cleaned images through [`transcode`]; [`stream_metadata`] removes EXIF, comments and
//! other metadata segments from compressed frames in every mode.
//!
//! # Example
//!
//! De-identify one file held in memory with the basic profile and a key:
//!
//! ```no_run
//! use kamei::profile::Profile;
//! use kamei::pseudo::{PseudonymKey, Pseudonymizer};
//!
//! let profile = Profile::builtin("basic")?;
//! let pseudo = Pseudonymizer::new(&PseudonymKey::from_bytes([7; 32]), profile.date_shift());
//! let input = std::fs::read("image.dcm")?;
//! let output = kamei::pipeline::deidentify_bytes(input, &profile.compile(), &pseudo, "basic")?;
//! std::fs::write("image.deid.dcm", output)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

/// Write one line to standard error, like `eprintln!`, but never panic when it cannot be written.
///
/// `eprintln!` panics when stderr is a pipe whose reader has gone (`kamei deid ... 2>&1 | head`,
/// a log shipper that died) or a file on a full disk; a run of a million files must not stop
/// for that. The audit log, not stderr, is the record of every input, so a lost line is lost
/// for the reader only. Every message kamei prints to stderr goes through this macro.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod addresses;
pub mod annotated;
pub mod apply;
pub mod audit;
pub mod case_fold;
pub mod charset;
pub mod class_uids;
pub mod clinical;
pub mod cohort;
pub mod dataset;
pub mod dates;
pub mod dict;
pub mod ids;
pub mod itaiji;
pub mod kana_romaji;
pub mod kept_reading;
pub mod layout;
pub mod linkage;
pub mod lock;
pub mod names;
pub mod odd_fragments;
pub mod overlay_bits;
pub mod pipeline;
pub mod pixel_length;
pub mod pixels;
pub mod plan;
pub mod profile;
pub mod pseudo;
pub mod read;
pub mod release_report;
pub mod scrub;
pub mod setting_file;
pub mod shown;
pub mod stale_failures;
pub mod standard_uids;
pub mod stream_metadata;
pub mod supersede;
pub mod text_dates;
pub mod transcode;
pub mod transfer;
pub mod truncated;
pub mod uid_clues;
pub mod unlinked_moves;
pub mod verify;
pub mod walk;
pub mod write;
pub mod wrong_length;
