//! konform: a policy-as-code compliance checker for school IT.
pub mod engine;
pub mod finding;
pub mod pack;
pub mod problem;
pub mod record;
pub mod source;
