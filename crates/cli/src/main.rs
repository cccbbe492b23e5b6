//! `portcullis`: the one binary.
fn main() {}
