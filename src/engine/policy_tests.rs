//! Running a policy's `test` blocks.

use crate::engine::decision::Decision;
use crate::engine::policy::CompiledPolicy;
use crate::policy::ast::Expectation;
use crate::policy::diagnostic::{Code, Diagnostic};
use crate::rule::TestCase;
use crate::rule::condition::Caller;

/// The outcome of one `test` block.
#[derive(Debug, Clone)]
pub struct TestOutcome<'p> {
    /// The org id.
    pub org: &'p str,
    /// The test.
    pub test: &'p TestCase,
    /// What the policy decided.
    pub decision: Decision,
    /// What the reference matcher decided, when it differs (a bug in arnmap).
    pub reference_disagrees: Option<Decision>,
}

impl TestOutcome<'_> {
    /// Did the decision meet the expectation (and both matchers agree)?
    pub fn passed(&self) -> bool {
        self.reference_disagrees.is_none() && expectation_met(&self.test.expect, &self.decision)
    }

    /// A located `test-failed` diagnostic for a failed test.
    pub fn diagnostic(&self) -> Option<Diagnostic> {
        if self.passed() {
            return None;
        }
        let got = self.decision.to_string();
        let message = match &self.reference_disagrees {
            Some(reference) => format!(
                "internal error: the indexed matcher decided {got} but the reference matcher {}",
                reference
            ),
            None => format!(
                "expected {}, got {got}",
                describe_expectation(&self.test.expect)
            ),
        };
        Some(
            Diagnostic::error(Code::TestFailed, self.test.span, message)
                .with_label("this test")
                .with_help("`arnmap check --format json` shows the decision for one caller"),
        )
    }
}

/// Does a decision meet an expectation? An error never meets one.
pub fn expectation_met(expect: &Expectation, decision: &Decision) -> bool {
    match (expect, decision) {
        (Expectation::User(u), Decision::Mapped { user, .. }) => u == user,
        (Expectation::Deny, Decision::Denied { .. }) => true,
        (Expectation::NoMatch, Decision::NoMatch) => true,
        _ => false,
    }
}

fn describe_expectation(expect: &Expectation) -> String {
    match expect {
        Expectation::User(u) => format!("\"{u}\""),
        Expectation::Deny => "deny".into(),
        Expectation::NoMatch => "none".into(),
    }
}

/// Runs every test block, through both matchers.
pub fn run(policy: &CompiledPolicy) -> Vec<TestOutcome<'_>> {
    policy
        .orgs()
        .iter()
        .flat_map(|org| org.tests.iter().map(move |t| (org, t)))
        .map(|(org, test)| {
            let caller = Caller {
                identity: &test.identity,
                region: test.region.as_deref(),
            };
            let decision = policy.decide(&org.id, &caller);
            let reference = policy.evaluate_reference(&org.id, &caller).to_decision();
            TestOutcome {
                org: &org.id,
                test,
                reference_disagrees: (reference != decision).then_some(reference),
                decision,
            }
        })
        .collect()
}
