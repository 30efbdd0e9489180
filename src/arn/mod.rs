//! ARNs: partitions, caller identities (one set of IAM name and path rules),
//! `*`/`?` wildcards, and patterns (docs/semantics.md §1–2).

pub mod identity;
pub mod partition;
pub mod pattern;
pub mod wildcard;
