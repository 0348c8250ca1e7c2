//! konform
pub mod problem;
pub mod record;
pub mod source;
