//! Hot reload: a handle that always serves one fully compiled, tested and
//! linted policy.
//!
//! A reload reads, parses, compiles, runs the `test` blocks of and lints
//! ([`crate::lint`]) the new sources before one atomic swap; if any step
//! fails — a compile error, a failing test, or a lint *error* such as two map
//! rules that match one caller with equal specificity and different targets —
//! the handle keeps serving the old policy and the error says why. Lint
//! warnings and notes do not block a reload. Readers load the current snapshot
//! once per request and never hold it across an `.await`.

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::engine::policy::CompiledPolicy;
use crate::engine::policy_tests as testing;
use crate::policy::diagnostic::{Diagnostic, Diagnostics};
use crate::policy::source::{LoadError, SourceMap};

/// Why a policy was not (re)loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// The files could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The policy does not compile.
    #[error("the policy does not compile ({} error(s))", .diagnostics.0.iter().filter(|d| d.is_error()).count())]
    Compile {
        /// The sources, to render the diagnostics.
        sources: SourceMap,
        /// What is wrong.
        diagnostics: Diagnostics,
    },
    /// Some `test` blocks fail.
    #[error("{} test(s) of the policy fail", .failures.len())]
    Tests {
        /// The sources, to render the diagnostics.
        sources: SourceMap,
        /// One diagnostic per failed test.
        failures: Vec<Diagnostic>,
    },
    /// Lint found errors.
    #[error("lint found {} error(s) in the policy", .errors.len())]
    Lint {
        /// The sources, to render the diagnostics.
        sources: SourceMap,
        /// The lint errors.
        errors: Vec<Diagnostic>,
    },
}

impl ReloadError {
    /// The error with every diagnostic rendered.
    pub fn render(&self, color: bool) -> String {
        match self {
            ReloadError::Load(e) => e.to_string(),
            ReloadError::Compile {
                sources,
                diagnostics,
            } => diagnostics.render(sources, color),
            ReloadError::Tests { sources, failures }
            | ReloadError::Lint {
                sources,
                errors: failures,
            } => failures
                .iter()
                .map(|d| d.render(sources, color))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

/// Compiles sources, runs their tests and lints them: the policy a reload would swap in.
pub fn prepare(sources: &SourceMap) -> Result<CompiledPolicy, ReloadError> {
    let policy = CompiledPolicy::compile(sources).map_err(|diagnostics| ReloadError::Compile {
        sources: sources.clone(),
        diagnostics,
    })?;
    let failures: Vec<Diagnostic> = testing::run(&policy)
        .iter()
        .filter_map(testing::TestOutcome::diagnostic)
        .collect();
    if !failures.is_empty() {
        return Err(ReloadError::Tests {
            sources: sources.clone(),
            failures,
        });
    }
    let errors: Vec<Diagnostic> = crate::lint::lint(&policy, crate::lint::Options::default())
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    if !errors.is_empty() {
        return Err(ReloadError::Lint {
            sources: sources.clone(),
            errors,
        });
    }
    Ok(policy)
}

/// A shared, hot-reloadable policy.
#[derive(Debug)]
pub struct PolicyHandle {
    current: ArcSwap<CompiledPolicy>,
}

impl PolicyHandle {
    /// A handle serving `policy`.
    pub fn new(policy: CompiledPolicy) -> PolicyHandle {
        PolicyHandle {
            current: ArcSwap::from_pointee(policy),
        }
    }

    /// A handle over policy files and directories, compiled and tested.
    pub fn open<P: AsRef<Path>>(paths: &[P]) -> Result<PolicyHandle, ReloadError> {
        Ok(PolicyHandle::new(prepare(&SourceMap::load(paths)?)?))
    }

    /// The current policy; hold it for one request.
    pub fn load(&self) -> Arc<CompiledPolicy> {
        self.current.load_full()
    }

    /// Swaps in the policy of `sources` if it compiles, its tests pass and
    /// lint finds no error; otherwise keeps the current one and says why.
    pub fn reload(&self, sources: &SourceMap) -> Result<Arc<CompiledPolicy>, ReloadError> {
        let policy = Arc::new(prepare(sources)?);
        self.current.store(Arc::clone(&policy));
        Ok(policy)
    }

    /// [`PolicyHandle::reload`] from files and directories.
    pub fn reload_paths<P: AsRef<Path>>(
        &self,
        paths: &[P],
    ) -> Result<Arc<CompiledPolicy>, ReloadError> {
        self.reload(&SourceMap::load(paths)?)
    }
}
