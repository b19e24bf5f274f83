//! Integration tests: they run the real `kamei` binary on fixtures the tests build.

mod util;

mod cli;
mod corpus;
mod deid;
mod pixels;
