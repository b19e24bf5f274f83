//! kamei: de-identify DICOM archives per DICOM PS3.15 Annex E.
#![deny(missing_docs)]

pub mod charset;
pub mod dataset;
pub mod profile;
