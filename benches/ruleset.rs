//! Generated, realistic rule sets for the benches: many orgs, one large org,
//! and the pattern shapes people write (seed-style exact assumed roles,
//! trailing-wildcard sessions, account wildcards, user paths, conditions).

use std::fmt::Write;

/// The org id of org number `i` (the large org is org 0).
pub fn org_id(i: usize) -> String {
    format!("{i:08x}-0000-4000-8000-000000000000")
}

fn account(i: usize) -> String {
    format!("{:012}", 100_000_000_000 + (i * 7919) % 900_000_000_000)
}

/// The rule for slot `i` of an org: mostly exact roles, with the other
/// shapes mixed in — per twenty rules, eleven seed-style exact assumed roles
/// and one each of: a `gh-*` session wildcard, an account wildcard, a user
/// path, a conditional template, a deny, and the four rule shapes of
/// [`Shape`] (suffix, session literal, user name, short prefix).
fn rule(i: usize, out: &mut String) {
    let acct = account(i);
    let _ = match i % 20 {
        5 => writeln!(
            out,
            "  map \"arn:aws:sts::{acct}:assumed-role/ci-{i}/gh-*\" to \"ci-{i}@example.com\""
        ),
        6 => writeln!(
            out,
            "  map \"arn:aws:sts::*:assumed-role/shared-{i}\" to \"shared-{i}@example.com\""
        ),
        7 => writeln!(
            out,
            "  map \"arn:aws:iam::{acct}:user/eng/team-{i}/*\" to \"team-{i}@example.com\""
        ),
        8 => writeln!(
            out,
            "  map \"arn:aws:sts::{acct}:assumed-role/oncall-{i}/*\" to \"{{session}}@example.com\" when session =~ \"^[a-z]+\\.[a-z]+$\""
        ),
        9 => writeln!(
            out,
            "  deny \"arn:aws:sts::{acct}:assumed-role/blocked-{i}\""
        ),
        14 => writeln!(
            out,
            "  map \"arn:aws:sts::{acct}:assumed-role/*-team{i}\" to \"suffix-{i}@example.com\""
        ),
        15 => writeln!(
            out,
            "  map \"arn:aws:sts::{acct}:assumed-role/*/sess{i}\" to \"session-{i}@example.com\""
        ),
        16 => writeln!(
            out,
            "  map \"arn:aws:iam::{acct}:user/*/name{i}\" to \"name-{i}@example.com\""
        ),
        17 => writeln!(
            out,
            "  map \"arn:aws:sts::*:assumed-role/svc-*-{i}\" to \"svc-{i}@example.com\""
        ),
        _ => writeln!(
            out,
            "  map \"arn:aws:sts::{acct}:assumed-role/role-{i}\" to \"user-{i}@example.com\""
        ),
    };
}

/// A policy of `rules` rules over `orgs` orgs, half of the rules in org 0.
pub fn policy_text(rules: usize, orgs: usize) -> String {
    let mut out = String::with_capacity(rules * 100);
    let big = rules / 2;
    let _ = writeln!(out, "org \"{}\" {{", org_id(0));
    for i in 0..big {
        rule(i, &mut out);
    }
    out.push_str("}\n");
    let rest = orgs.saturating_sub(1).max(1);
    let per_org = (rules - big).div_ceil(rest);
    let mut slot = big;
    for o in 1..=rest {
        let _ = writeln!(out, "org \"{}\" {{", org_id(o));
        for _ in 0..per_org {
            if slot >= rules {
                break;
            }
            rule(slot, &mut out);
            slot += 1;
        }
        out.push_str("}\n");
    }
    out
}

/// The `n`th of the eleven exact-role slots of twenty (wrapping).
fn exact_slot(n: usize) -> usize {
    match n % 11 {
        n @ 0..=4 => n,
        n @ 5..=8 => n + 5,
        n => n + 9,
    }
}

/// Callers to look up in org 0 of a set with `rules` rules: matching ones of
/// every shape (the four [`Shape`]s included), and misses (one in ten).
pub fn callers(rules: usize, count: usize) -> Vec<(String, String, String)> {
    let big = (rules / 2).max(1);
    (0..count)
        .map(|k| {
            let base = (k * 104_729) % big / 20 * 20;
            let org = org_id(0);
            let (arn, uid) = match k % 10 {
                0 | 1 => {
                    let j = base + exact_slot(k / 10 * 2 + k % 10);
                    (
                        format!("arn:aws:sts::{}:assumed-role/role-{j}/s-{k}", account(j)),
                        format!("AROAEXAMPLE:s-{k}"),
                    )
                }
                2 => {
                    let j = base + 5;
                    (
                        format!("arn:aws:sts::{}:assumed-role/ci-{j}/gh-{k}", account(j)),
                        format!("AROAEXAMPLE:gh-{k}"),
                    )
                }
                3 => {
                    let j = base + 7;
                    (
                        format!("arn:aws:iam::{}:user/eng/team-{j}/alice", account(j)),
                        "AIDAEXAMPLE".to_owned(),
                    )
                }
                4 => {
                    let j = base + 8;
                    (
                        format!(
                            "arn:aws:sts::{}:assumed-role/oncall-{j}/jane.doe",
                            account(j)
                        ),
                        "AROAEXAMPLE:jane.doe".to_owned(),
                    )
                }
                5 => {
                    let j = base + 14;
                    (
                        format!(
                            "arn:aws:sts::{}:assumed-role/x{k}-team{j}/s-{k}",
                            account(j)
                        ),
                        format!("AROAEXAMPLE:s-{k}"),
                    )
                }
                6 => {
                    let j = base + 15;
                    (
                        format!("arn:aws:sts::{}:assumed-role/role-x{k}/sess{j}", account(j)),
                        format!("AROAEXAMPLE:sess{j}"),
                    )
                }
                7 => {
                    let j = base + 16;
                    (
                        format!("arn:aws:iam::{}:user/eng/t{k}/name{j}", account(j)),
                        "AIDAEXAMPLE".to_owned(),
                    )
                }
                8 => {
                    let j = base + 17;
                    (
                        format!(
                            "arn:aws:sts::{}:assumed-role/svc-x{k}-{j}/s-{k}",
                            account(k)
                        ),
                        format!("AROAEXAMPLE:s-{k}"),
                    )
                }
                _ => (
                    format!(
                        "arn:aws:sts::{}:assumed-role/nobody-{base}/s-{k}",
                        account(base)
                    ),
                    format!("AROAEXAMPLE:s-{k}"),
                ),
            };
            (org, arn, uid)
        })
        .collect()
}

/// The rule shapes of issue 13 that a prefix index cannot key selectively,
/// each benchmarked alone in one org (org 0, one account, so that neither
/// the org nor the account scoping narrows the rules down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `assumed-role/*-team{i}` (a role-name pattern: literal suffix).
    Suffix,
    /// `assumed-role/*/sess{i}` (session literal, role wildcard).
    Session,
    /// `user/*/name{i}`.
    UserName,
    /// `sts::*:assumed-role/svc-*-{i}` (short prefix, literal after the wildcard).
    ShortPrefix,
}

impl Shape {
    /// Every shape, in table order.
    pub const ALL: [Shape; 4] = [
        Shape::Suffix,
        Shape::Session,
        Shape::UserName,
        Shape::ShortPrefix,
    ];

    /// A short name for bench ids.
    pub fn label(self) -> &'static str {
        match self {
            Shape::Suffix => "suffix",
            Shape::Session => "session",
            Shape::UserName => "user_name",
            Shape::ShortPrefix => "short_prefix",
        }
    }

    /// The pattern as the table shows it.
    pub fn display(self) -> &'static str {
        match self {
            Shape::Suffix => "`assumed-role/*-team{i}` (suffix)",
            Shape::Session => "`assumed-role/*/sess{i}` (session literal, role wildcard)",
            Shape::UserName => "`user/*/name{i}`",
            Shape::ShortPrefix => "`sts::*:assumed-role/svc-*-{i}` (short prefix)",
        }
    }

    fn pattern(self, i: usize) -> String {
        match self {
            Shape::Suffix => format!("arn:aws:sts::{SHAPE_ACCOUNT}:assumed-role/*-team{i}"),
            Shape::Session => format!("arn:aws:sts::{SHAPE_ACCOUNT}:assumed-role/*/sess{i}"),
            Shape::UserName => format!("arn:aws:iam::{SHAPE_ACCOUNT}:user/*/name{i}"),
            Shape::ShortPrefix => format!("arn:aws:sts::*:assumed-role/svc-*-{i}"),
        }
    }

    /// A caller the rule `i` maps (`k` varies the parts the rule leaves open).
    fn caller(self, i: usize, k: usize) -> (String, String) {
        let a = SHAPE_ACCOUNT;
        match self {
            Shape::Suffix => (
                format!("arn:aws:sts::{a}:assumed-role/x{k}-team{i}/s-{k}"),
                format!("AROAEXAMPLE:s-{k}"),
            ),
            Shape::Session => (
                format!("arn:aws:sts::{a}:assumed-role/role-{k}/sess{i}"),
                format!("AROAEXAMPLE:sess{i}"),
            ),
            Shape::UserName => (
                format!("arn:aws:iam::{a}:user/eng/t{k}/name{i}"),
                "AIDAEXAMPLE".to_owned(),
            ),
            Shape::ShortPrefix => (
                format!("arn:aws:sts::{a}:assumed-role/svc-x{k}-{i}/s-{k}"),
                format!("AROAEXAMPLE:s-{k}"),
            ),
        }
    }
}

const SHAPE_ACCOUNT: &str = "123456789012";

/// One org (org 0) of `rules` rules of one shape.
pub fn shape_policy_text(shape: Shape, rules: usize) -> String {
    let mut out = String::with_capacity(rules * 90);
    let _ = writeln!(out, "org \"{}\" {{", org_id(0));
    for i in 0..rules {
        let _ = writeln!(
            out,
            "  map \"{}\" to \"user-{i}@example.com\"",
            shape.pattern(i)
        );
    }
    out.push_str("}\n");
    out
}

/// Callers of a shape's org: one in six a miss (a number no rule has).
pub fn shape_callers(shape: Shape, rules: usize, count: usize) -> Vec<(String, String, String)> {
    (0..count)
        .map(|k| {
            let i = if k % 6 == 5 {
                rules + k
            } else {
                (k * 104_729) % rules.max(1)
            };
            let (arn, uid) = shape.caller(i, k);
            (org_id(0), arn, uid)
        })
        .collect()
}
