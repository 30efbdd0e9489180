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

mod arn;
mod auth;
mod engine;
pub mod huge_pages;
pub mod lint;
mod parallel;
mod policy;
mod rule;
#[cfg(feature = "serve")]
pub mod service;
mod text;

pub use arn::identity::{CallerIdentity, IdentityError, IdentityKind};
pub use arn::partition::Partition;
pub use arn::pattern::{Pattern, PatternError};
pub use engine::decision::{Decision, DecisionError, Verdict};
pub use engine::explain::{Explanation, MatchedRule, explain};
pub use engine::policy::CompiledPolicy;
pub use engine::policy_tests::{TestOutcome, run as run_tests};
pub use engine::reload::{PolicyHandle, ReloadError, prepare};
pub use policy::datadog;
pub use policy::diagnostic::{Code, Diagnostic, Diagnostics, Severity};
pub use policy::format::format as format_policy;
pub use policy::source::{LoadError, SourceMap};
pub use rule::condition::Caller;
pub use rule::target::Target;
pub use rule::{Effect, Rule, RuleId};
pub use text::{SharedStr, Text};

#[cfg(feature = "token")]
pub use auth::exchange::{ExchangeError, Exchanged, TokenExchange};
#[cfg(feature = "sign")]
pub use auth::proof::sign::{AwsCredentials, make_proof};
pub use auth::proof::{
    Authorization, CheckedProof, DecodedProof, PrecheckConfig, ProofError, StsHost, precheck,
};
#[cfg(feature = "sts")]
pub use auth::sts::{
    HttpTransport, MalformedResponse, StsConfig, StsError, StsRequest, StsResponse, Transport,
    TransportError, XmlError,
};
#[cfg(feature = "token")]
pub use auth::token::{
    Claims, IssueError, IssuedToken, KeyPair, KeyRing, KeyStoreError, SigningAlgorithm,
    TokenConfig, TokenIssuer, TokenSubject, VerifyTokenError,
};
#[cfg(feature = "sts")]
pub use auth::verifier::{ReplayConfig, Verified, Verifier, VerifierConfig, VerifyError};

/// Unstable: what the CLI, the benches, the fuzz targets and the tests reach
/// beyond the public API. Anything here may change in any release.
#[doc(hidden)]
pub mod internals {
    pub use crate::arn::identity::{Form, FormKind, FormList};
    pub use crate::arn::wildcard;
    pub use crate::auth::proof::{parse_sts_host, wire};
    pub use crate::engine::index::IndexStats;
    pub use crate::engine::policy::OrgPolicy;
    pub use crate::engine::policy_tests;
    pub use crate::engine::precedence;
    pub use crate::rule::{Org, TestCase};

    /// The front end's two readers of a policy text, for the tests and the
    /// fuzz target that check they agree (docs/semantics.md §3.1).
    pub mod front {
        pub use crate::policy::ast;
        use crate::policy::diagnostic::Diagnostic;
        pub use crate::policy::fast::MAX_DEPTH;
        use crate::policy::source::SourceId;

        /// The fast path alone: the file, or `None` where it leaves the text to pest.
        pub fn parse_fast(text: &str) -> Option<ast::File<'_>> {
            crate::policy::fast::parse(SourceId(0), text)
        }

        /// The fast path cut into up to `pieces` pieces read in parallel, as
        /// it reads a large file: `None` also when a cut was not between two
        /// org blocks.
        pub fn parse_fast_in_pieces(text: &str, pieces: usize) -> Option<ast::File<'_>> {
            crate::policy::fast::parse_pieces(SourceId(0), text, pieces)
                .map(|orgs| ast::File { orgs })
        }

        /// pest and the lowering alone: the file (`None` after a syntax error)
        /// and every diagnostic they report.
        pub fn parse_pest(text: &str) -> (Option<ast::File<'_>>, Vec<Diagnostic>) {
            let mut diags = Vec::new();
            let file = crate::policy::parse_slow(SourceId(0), text, &mut diags);
            (file, diags)
        }
    }
}
