//! kamei: de-identify DICOM archives per DICOM PS3.15 Annex E.
#![deny(missing_docs)]

pub mod apply;
pub mod audit;
pub mod charset;
pub mod dataset;
pub mod dates;
pub mod dict;
pub mod layout;
pub mod linkage;
pub mod pipeline;
pub mod plan;
pub mod profile;
pub mod pseudo;
pub mod read;
pub mod scrub;
pub mod transfer;
pub mod walk;
pub mod write;
