//! kamei: de-identify DICOM archives per DICOM PS3.15 Annex E.
#![deny(missing_docs)]

pub mod charset;
pub mod dataset;
pub mod dates;
pub mod dict;
pub mod profile;
pub mod pseudo;
pub mod read;
pub mod transfer;
pub mod write;
