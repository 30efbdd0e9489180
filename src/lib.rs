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
pub mod lint;
mod policy;
mod rule;
#[cfg(feature = "serve")]
pub mod service;

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
    pub use crate::arn::identity::{Form, FormKind};
    pub use crate::arn::wildcard;
    pub use crate::auth::proof::{parse_sts_host, wire};
    pub use crate::engine::index::IndexStats;
    pub use crate::engine::policy::OrgPolicy;
    pub use crate::engine::policy_tests;
    pub use crate::engine::precedence;
    pub use crate::rule::{Org, TestCase};
}
