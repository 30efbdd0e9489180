//! Exact overlap and cover decisions between two normalised patterns
//! (docs/semantics.md §2), section by section.
//!
//! A caller is a partition, an account and a kind-specific resource, chosen
//! independently; a pattern matches it when it matches one of its forms. So
//! the set of callers a pattern matches is a product `partitions × accounts ×
//! resources`, and:
//!
//! * two patterns **overlap** iff their partition sets intersect, their
//!   account sets intersect, and for some caller kind their resource sets
//!   intersect;
//! * `a` **covers** `b` (every caller `b` matches, `a` matches) iff `b`
//!   matches nothing, or each of `b`'s three sets is inside `a`'s.
//!
//! Partitions are a finite list, checked one by one. Accounts (exactly 12
//! digits) and resources (per caller kind, through every ARN form of that
//! kind: an assumed role's raw, session-less and `iam` role forms) are decided
//! by `automaton::search`. Name-length upper bounds (64 bytes) and the
//! 512-byte path limit are not modelled: a pattern would need more than 64
//! literal or `?` characters in one name for that to matter.

use crate::arn::partition::Partition;
use crate::arn::pattern::Pattern;
use crate::arn::wildcard;
use crate::lint::automaton::{self, FormRun, FormShape, Glob, Runs, TooComplex, Valid};

/// The caller kinds (docs/semantics.md §1), each with its caller string `w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    /// `user/` + `w` (`w` = `PATH/NAME`).
    User,
    /// `root` (`w` empty).
    Root,
    /// `federated-user/` + `w`.
    FederatedUser,
    /// `assumed-role/` + `w` (`w` = `ROLE/SESSION`).
    AssumedRole,
}

impl CallerKind {
    /// Every kind.
    pub const ALL: [CallerKind; 4] = [
        CallerKind::User,
        CallerKind::Root,
        CallerKind::FederatedUser,
        CallerKind::AssumedRole,
    ];

    fn valid(self) -> Valid {
        match self {
            CallerKind::User => Valid::UserPath,
            CallerKind::Root => Valid::Empty,
            CallerKind::FederatedUser => Valid::Name,
            CallerKind::AssumedRole => Valid::RoleSession,
        }
    }

    /// The caller ARN with this partition, account and caller string.
    pub fn arn(self, partition: &str, account: &str, w: &str) -> String {
        match self {
            CallerKind::User => format!("arn:{partition}:iam::{account}:user/{w}"),
            CallerKind::Root => format!("arn:{partition}:iam::{account}:root"),
            CallerKind::FederatedUser => {
                format!("arn:{partition}:sts::{account}:federated-user/{w}")
            }
            CallerKind::AssumedRole => format!("arn:{partition}:sts::{account}:assumed-role/{w}"),
        }
    }
}

/// The runs of a pattern's resource over the caller strings of one kind.
fn resource_runs(pattern: &Pattern, kind: CallerKind) -> Runs<'_> {
    let glob = Glob::new(pattern.resource());
    let iam = wildcard::matches(pattern.service(), "iam");
    let sts = wildcard::matches(pattern.service(), "sts");
    let run = |shape| FormRun { glob, shape };
    let mut runs = Vec::new();
    match kind {
        CallerKind::User if iam => runs.push(run(FormShape::Whole("user/"))),
        CallerKind::Root if iam => runs.push(run(FormShape::Whole("root"))),
        CallerKind::FederatedUser if sts => runs.push(run(FormShape::Whole("federated-user/"))),
        CallerKind::AssumedRole => {
            // A role-name pattern is never compared with the raw form
            // (docs/semantics.md §2): only its session-less run.
            if sts && !pattern.names_role() {
                runs.push(run(FormShape::Whole("assumed-role/")));
            }
            if sts {
                runs.push(run(FormShape::UpToSlash("assumed-role/")));
            }
            if iam {
                runs.push(run(FormShape::UpToSlash("role/")));
            }
        }
        _ => {}
    }
    runs
}

fn account_runs(pattern: &Pattern) -> Runs<'_> {
    vec![FormRun {
        glob: Glob::new(pattern.account()),
        shape: FormShape::Whole(""),
    }]
}

fn partitions(pattern: &Pattern) -> impl Iterator<Item = &'static str> + '_ {
    Partition::ALL
        .iter()
        .map(|p| p.as_str())
        .filter(|p| wildcard::matches(pattern.partition(), p))
}

/// Searches `a` and `b` jointly: a caller for which `goal(a matches, b matches)` holds.
fn find(
    a: &Pattern,
    b: &Pattern,
    goal: impl Fn(bool, bool) -> bool + Copy,
) -> Result<Option<String>, TooComplex> {
    let partition = Partition::ALL.iter().map(|p| p.as_str()).find(|p| {
        goal(
            wildcard::matches(a.partition(), p),
            wildcard::matches(b.partition(), p),
        )
    });
    let Some(partition) = partition else {
        return Ok(None);
    };
    let Some(account) =
        automaton::search(Valid::Account, &account_runs(a), &account_runs(b), goal)?
    else {
        return Ok(None);
    };
    for kind in CallerKind::ALL {
        let (ra, rb) = (resource_runs(a, kind), resource_runs(b, kind));
        if let Some(w) = automaton::search(kind.valid(), &ra, &rb, goal)? {
            return Ok(Some(kind.arn(partition, &account, &w)));
        }
    }
    Ok(None)
}

/// A caller (its ARN) that both patterns match, or `None` when no caller
/// exists that both match. Exact.
pub fn overlap(a: &Pattern, b: &Pattern) -> Result<Option<String>, TooComplex> {
    find(a, b, |x, y| x && y)
}

/// A caller (its ARN) that the pattern matches, or `None` when it matches no caller.
pub fn example(pattern: &Pattern) -> Result<Option<String>, TooComplex> {
    find(pattern, pattern, |x, _| x)
}

/// Does `a` match every caller `b` matches? `Ok(None)` when it does, else a
/// caller (its ARN) that `b` matches and `a` does not. Exact.
pub fn uncovered(a: &Pattern, b: &Pattern) -> Result<Option<String>, TooComplex> {
    // The sets are products: b ⊆ a iff b is empty or each factor of b is
    // inside a's. A witness takes the failing factor from "b and not a" and
    // the others from b alone.
    let in_b = |x: bool, _: bool| x;
    let Some(b_partition) = partitions(b).next() else {
        return Ok(None);
    };
    let Some(b_account) =
        automaton::search(Valid::Account, &account_runs(b), &account_runs(b), in_b)?
    else {
        return Ok(None);
    };
    let mut b_resource = None;
    for kind in CallerKind::ALL {
        let rb = resource_runs(b, kind);
        if let Some(w) = automaton::search(kind.valid(), &rb, &rb, in_b)? {
            b_resource = Some((kind, w));
            break;
        }
    }
    let Some((b_kind, b_w)) = b_resource else {
        return Ok(None);
    };
    let missing = |x: bool, y: bool| y && !x;
    if let Some(p) = partitions(b).find(|p| !wildcard::matches(a.partition(), p)) {
        return Ok(Some(b_kind.arn(p, &b_account, &b_w)));
    }
    if let Some(account) =
        automaton::search(Valid::Account, &account_runs(a), &account_runs(b), missing)?
    {
        return Ok(Some(b_kind.arn(b_partition, &account, &b_w)));
    }
    for kind in CallerKind::ALL {
        let (ra, rb) = (resource_runs(a, kind), resource_runs(b, kind));
        if let Some(w) = automaton::search(kind.valid(), &ra, &rb, missing)? {
            return Ok(Some(kind.arn(b_partition, &b_account, &w)));
        }
    }
    Ok(None)
}

/// Does `a` match every caller `b` matches?
pub fn covers(a: &Pattern, b: &Pattern) -> Result<bool, TooComplex> {
    Ok(uncovered(a, b)?.is_none())
}

/// Does the pattern match every account?
pub fn any_account(pattern: &Pattern) -> Result<bool, TooComplex> {
    let runs = account_runs(pattern);
    Ok(automaton::search(Valid::Account, &runs, &runs, |x, _| !x)?.is_none())
}

/// Does the pattern match every principal of an account: every IAM user,
/// every assumed role and the root (federated users aside), through the
/// callers' forms? (`…:iam::A:*` does.)
pub fn every_principal(pattern: &Pattern) -> Result<bool, TooComplex> {
    for kind in [CallerKind::User, CallerKind::Root, CallerKind::AssumedRole] {
        let runs = resource_runs(pattern, kind);
        let (valid, empty) = (kind.valid(), Vec::new());
        if automaton::search(valid, &empty, &runs, |_, y| !y)?.is_some() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The literal start every caller string `w` a run accepts must have, or
/// `None` when the run accepts nothing.
fn implied_prefix<'a>(run: &FormRun<'a>) -> Option<&'a [u8]> {
    let (FormShape::Whole(form) | FormShape::UpToSlash(form)) = run.shape;
    let literal = run.glob.literal_prefix();
    match literal.strip_prefix(form.as_bytes()) {
        // An up-to-slash run stops at the first `/` of `w`: a literal `/`
        // before any wildcard can never be matched.
        Some(rest) if matches!(run.shape, FormShape::UpToSlash(_)) && rest.contains(&b'/') => None,
        Some(rest) => Some(rest),
        None if form.as_bytes().starts_with(literal) => Some(&[]),
        None => None,
    }
}

fn prefixes_compatible(a: &[u8], b: &[u8]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// Can one string end with both tails ([`Glob::tail`])? Aligned at the end,
/// each byte must be equal or one of them a `?`.
fn tails_compatible(a: &[u8], b: &[u8]) -> bool {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .all(|(&x, &y)| x == y || x == b'?' || y == b'?')
}

/// What the prefilter keeps of one form run.
#[derive(Debug, Clone)]
struct RunShape<'a> {
    /// The implied literal prefix of `w`.
    prefix: &'a [u8],
    /// The glob's tail; sections of two runs of one shape end at one place
    /// in `w` (its end, or its first `/`), so their tails align there.
    tail: &'a [u8],
    whole: bool,
}

impl RunShape<'_> {
    fn compatible(&self, other: &RunShape<'_>) -> bool {
        prefixes_compatible(self.prefix, other.prefix)
            && (self.whole != other.whole || tails_compatible(self.tail, other.tail))
    }
}

/// A cheap *necessary* condition for [`overlap`]: the partition sets
/// intersect, the accounts' literal prefixes agree, and for some caller kind
/// two of the patterns' form runs have compatible literal prefixes (and, when
/// their sections end at the same place, compatible tails). `false`
/// is certain; `true` must be confirmed by [`overlap`].
pub fn may_overlap(a: &Pattern, b: &Pattern) -> bool {
    Prefilter::new(a).may_overlap(&Prefilter::new(b))
}

/// What [`may_overlap`] looks at, computed once per pattern.
#[derive(Debug, Clone)]
pub struct Prefilter<'a> {
    partitions: u16,
    account: &'a [u8],
    /// Per caller kind, the implied literal prefix and the tail of each live form run.
    prefixes: [Vec<RunShape<'a>>; 4],
}

impl<'a> Prefilter<'a> {
    /// The prefilter of a pattern.
    pub fn new(pattern: &'a Pattern) -> Prefilter<'a> {
        let partitions = Partition::ALL
            .iter()
            .enumerate()
            .filter(|(_, p)| wildcard::matches(pattern.partition(), p.as_str()))
            .fold(0u16, |bits, (i, _)| bits | (1 << i));
        let prefixes = CallerKind::ALL.map(|kind| {
            resource_runs(pattern, kind)
                .iter()
                .filter_map(|run| {
                    Some(RunShape {
                        prefix: implied_prefix(run)?,
                        tail: run.glob.tail(),
                        whole: matches!(run.shape, FormShape::Whole(_)),
                    })
                })
                .collect()
        });
        Prefilter {
            partitions,
            account: Glob::new(pattern.account()).literal_prefix(),
            prefixes,
        }
    }

    /// See [`may_overlap`].
    pub fn may_overlap(&self, other: &Prefilter<'_>) -> bool {
        self.partitions & other.partitions != 0
            && prefixes_compatible(self.account, other.account)
            && self
                .prefixes
                .iter()
                .zip(&other.prefixes)
                .any(|(xs, ys)| xs.iter().any(|x| ys.iter().any(|y| x.compatible(y))))
    }
}
