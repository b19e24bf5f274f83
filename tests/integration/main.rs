//! Integration tests: they run the real `kamei` binary on fixtures the tests build.

mod util;

mod cli;
mod clinical;
mod cohort;
mod corpus;
mod deid;
mod report;
mod resilience;
mod verify;
