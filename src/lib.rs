#![doc = include_str!("../README.md")]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod compile;
pub mod condition;
pub mod datadog;
pub mod decision;
pub mod diagnostic;
pub mod engine;
#[cfg(feature = "token")]
pub mod exchange;
pub mod explain;
pub mod fmt;
pub mod identity;
pub mod index;
pub mod lint;
pub mod partition;
pub mod pattern;
pub mod policy;
pub mod proof;
pub mod reference;
#[cfg(feature = "serve")]
pub mod service;
pub mod source;
#[cfg(feature = "sts")]
pub mod sts;
pub mod target;
pub mod testing;
#[cfg(feature = "token")]
pub mod token;
#[cfg(feature = "sts")]
pub mod verifier;
pub mod wildcard;
/// Subcommands of the `arnmap` binary that live in the library (wired by `src/main.rs`).
#[cfg(all(feature = "cli", feature = "sts", feature = "sign"))]
pub mod cli {
    pub mod proof;
    pub mod verify;
}

pub use compile::CompiledPolicy;
pub use condition::Caller;
pub use decision::{Decision, Verdict};
pub use diagnostic::{Diagnostic, Diagnostics};
pub use engine::PolicyHandle;
pub use identity::{CallerIdentity, IdentityError};
pub use pattern::{Pattern, PatternError};
pub use source::SourceMap;
