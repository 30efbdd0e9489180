//! The `arnmap` command-line interface.
fn main() {}
