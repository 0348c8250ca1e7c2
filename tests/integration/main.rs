//! Integration tests: the `konform` binary end to end, and every pack's policy test cases.

mod cli;
mod commands;
mod policies;
