//! Templates that can render something that is not an account identifier.
//!
//! Witness-based: callers are built from the rule's own pattern (each
//! wildcard filled with a sample of valid name bytes, for example `a+b` or
//! `a@b`), kept when the rule matches them and its condition holds, and the
//! template is rendered for each. Every warning names a real caller the rule
//! matches whose rendering fails — no false positives — but a template can
//! still fail for callers no sample reaches.

use crate::arn::identity::CallerIdentity;
use crate::arn::partition::Partition;
use crate::arn::wildcard;
use crate::lint::Context;
use crate::policy::diagnostic::{Code, Diagnostic};
use crate::rule::condition::{Caller, Truth};
use crate::rule::target::{RenderError, Target};
use crate::rule::{Effect, OrgId, Rule};

/// What wildcards are filled with.
const FILLS: &[&str] = &[
    "a",
    "ab",
    "a.b",
    "a+b",
    "a=b",
    "a,b",
    "a@b",
    "a_b",
    "-a",
    ".a",
    "a..b",
    "a/b",
    "",
    // Long names: a rendering may outgrow a handle's 64 characters.
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
];

/// Session names appended to a session-less role pattern.
const SESSIONS: &[&str] = &["s1", "a.b", "a+b", "a@b", "a=b", "-s"];

/// Regions tried for conditions on `region`.
const REGIONS: &[Option<&str>] = &[None, Some("us-east-1"), Some("eu-west-1")];

/// Runs the check on one org.
pub fn check(ctx: &Context<'_>, org: OrgId, out: &mut Vec<Diagnostic>) {
    for rule in ctx.rules(org) {
        let Effect::Map(target @ Target::Template(_)) = &rule.effect else {
            continue;
        };
        if let Some((arn, error)) = failing_caller(rule, target) {
            out.push(
                Diagnostic::warning(
                    Code::TemplateInvalid,
                    ctx.target_span(rule),
                    format!(
                        "rule `{}`: for the caller {arn}, which it matches, {error}",
                        ctx.id(rule)
                    ),
                )
                .with_label("this template")
                .with_help("such a caller is refused (an error, never a fall-through); narrow the pattern or add a condition such as `name =~ \"^[a-z0-9][a-z0-9._-]*$\"`")
                .with_rule(ctx.id(rule)),
            );
        }
    }
}

fn fill(glob: &str, with: &str) -> String {
    let one = with.chars().next().unwrap_or('a');
    glob.chars()
        .map(|c| match c {
            '*' => with.to_owned(),
            '?' => one.to_string(),
            c => c.to_string(),
        })
        .collect()
}

fn account(glob: &str) -> String {
    let fixed = glob.chars().filter(|&c| c != '*').count();
    let mut pad = "0".repeat(12usize.saturating_sub(fixed));
    glob.chars()
        .map(|c| match c {
            '*' => std::mem::take(&mut pad),
            '?' => "1".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

fn user_id(id: &CallerIdentity) -> String {
    match (id.session(), id.kind().as_str()) {
        (Some(session), _) => format!("AROAEXAMPLE:{session}"),
        (None, "user") => "AIDAEXAMPLE".into(),
        (None, "federated-user") => format!("{}:{}", id.account(), id.name().unwrap_or("x")),
        _ => id.account().to_owned(),
    }
}

/// Callers built from the pattern.
fn candidates(rule: &Rule) -> Vec<CallerIdentity> {
    let p = &rule.pattern;
    let Some(partition) = Partition::ALL
        .iter()
        .find(|q| wildcard::matches(p.partition(), q.as_str()))
    else {
        return Vec::new();
    };
    let account = account(p.account());
    let mut out = Vec::new();
    for with in FILLS {
        let resource = fill(p.resource(), with);
        let mut resources = vec![resource.clone()];
        if let Some(role) = resource.strip_prefix("role/") {
            resources.push(format!("assumed-role/{role}"));
        }
        let more: Vec<String> = resources
            .iter()
            .filter(|r| r.starts_with("assumed-role/"))
            .flat_map(|r| SESSIONS.iter().map(move |s| format!("{r}/{s}")))
            .collect();
        resources.extend(more);
        for resource in resources {
            for service in ["iam", "sts"] {
                let arn = format!("arn:{partition}:{service}::{account}:{resource}");
                if let Ok(id) = CallerIdentity::parse_arn(&arn)
                    && let Ok(id) = id.clone().with_user_id(&user_id(&id))
                    && p.matches(&id)
                {
                    out.push(id);
                }
            }
        }
    }
    out
}

fn failing_caller(rule: &Rule, target: &Target) -> Option<(String, RenderError)> {
    for id in candidates(rule) {
        for &region in REGIONS {
            let caller = Caller {
                identity: &id,
                region,
            };
            let holds = rule
                .condition
                .as_ref()
                .is_none_or(|c| c.eval(&caller) == Truth::True);
            if !holds {
                continue;
            }
            match target.render(&caller) {
                Ok(_) => {}
                Err(e) => return Some((id.arn().to_owned(), e)),
            }
            break;
        }
    }
    None
}
