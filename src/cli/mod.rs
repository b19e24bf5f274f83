//! The command-line interface: argument parsing, configuration, reporting. Declared only from
//! `main.rs`; the library knows nothing of it.

pub mod args;
pub mod clinical;
pub mod config;
pub mod report;
pub mod verify;
