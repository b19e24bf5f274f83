//! Integration tests: they run the real `kamei` binary on fixtures the tests build.

mod util;

mod actions;
mod broken;
mod charsets;
mod class_uids;
mod cli;
mod clinical;
mod cohort;
mod collisions;
mod corpus;
mod deid;
mod determinism;
mod end_of_run;
mod interrupt;
mod kept_ids;
mod kept_text;
mod large;
mod masters;
mod net_and_verify;
mod options;
mod pixel_fit;
mod pixel_rules;
mod pixels;
mod profile_conformance;
mod report;
mod rerun;
mod resilience;
mod robustness;
mod scale;
mod spellings;
mod stream_metadata;
mod uids;
mod verify;
mod verify_release;
