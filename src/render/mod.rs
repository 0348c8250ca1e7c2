//! Renderers: turn a [`crate::finding::Report`] into text for people and machines.
//!
//! Renderers share nothing but the report; each returns a `String` and never prints.

pub mod human;
pub mod json;

pub use human::{HumanOptions, human};
pub use json::json;
