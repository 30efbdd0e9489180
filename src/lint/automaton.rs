//! Exact language questions about IAM wildcard patterns, decided by an
//! automaton product.
//!
//! A glob (`*` any run, `?` one character) is an NFA whose state `i` means
//! "the first `i` pattern bytes are consumed". A pattern is run on a *caller
//! string* `w` through one or more [`FormRun`]s (one per ARN form a caller
//! kind has), intersected with a small DFA of the valid caller strings
//! ([`Valid`]). [`search`] explores the deterministic product (subset
//! construction of both patterns × the validity DFA) breadth-first over a
//! reduced alphabet — the literal bytes of both patterns plus one
//! representative of every other class of caller byte — which is exact:
//! bytes that neither pattern names literally and that the validity DFA puts in
//! the same class behave identically everywhere.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use crate::arn::identity::{is_name_byte, is_path_byte};

/// The most product states one question may explore before giving up.
pub const MAX_STATES: usize = 20_000;

/// The analysis gave up: the patterns are too intricate to decide within [`MAX_STATES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the overlap analysis gave up after {MAX_STATES} states")]
pub struct TooComplex;

/// Sorted, deduplicated NFA states of one glob.
type States = Box<[u32]>;

/// A glob's NFA.
#[derive(Debug, Clone, Copy)]
pub struct Glob<'a> {
    pattern: &'a [u8],
}

impl<'a> Glob<'a> {
    /// The NFA of a glob.
    pub fn new(pattern: &'a str) -> Glob<'a> {
        Glob {
            pattern: pattern.as_bytes(),
        }
    }

    fn close(&self, mut states: Vec<u32>) -> States {
        let mut i = 0;
        while let Some(&s) = states.get(i) {
            if self.pattern.get(s as usize) == Some(&b'*') && !states.contains(&(s + 1)) {
                states.push(s + 1);
            }
            i += 1;
        }
        states.sort_unstable();
        states.dedup();
        states.into_boxed_slice()
    }

    /// The start states.
    pub fn start(&self) -> States {
        self.close(vec![0])
    }

    /// The states after reading `byte`.
    pub fn step(&self, states: &[u32], byte: u8) -> States {
        let mut next = Vec::with_capacity(states.len() + 1);
        for &s in states {
            match self.pattern.get(s as usize) {
                Some(b'*') => next.push(s),
                Some(b'?') => next.push(s + 1),
                Some(&c) if c == byte => next.push(s + 1),
                _ => {}
            }
        }
        self.close(next)
    }

    /// The states after reading `text`.
    pub fn feed(&self, states: &[u32], text: &str) -> States {
        text.bytes()
            .fold(States::from(states), |s, b| self.step(&s, b))
    }

    /// The glob's literal bytes before its first wildcard.
    pub fn literal_prefix(&self) -> &'a [u8] {
        let end = self
            .pattern
            .iter()
            .position(|&b| b == b'*' || b == b'?')
            .unwrap_or(self.pattern.len());
        self.pattern.get(..end).unwrap_or_default()
    }

    /// The glob's bytes after its last `*` (all of it when it has none):
    /// every string it matches ends with a string of this length that this
    /// tail matches.
    pub fn tail(&self) -> &'a [u8] {
        let start = self
            .pattern
            .iter()
            .rposition(|&b| b == b'*')
            .map_or(0, |i| i + 1);
        self.pattern.get(start..).unwrap_or_default()
    }

    /// Do the states accept?
    pub fn accepts(&self, states: &[u32]) -> bool {
        states.contains(&(self.pattern.len() as u32))
    }
}

/// How a pattern's section is compared with one ARN form built from the caller string `w`.
#[derive(Debug, Clone, Copy)]
pub enum FormShape {
    /// The section is `prefix + w`.
    Whole(&'static str),
    /// The section is `prefix + (w up to its first '/')` (the role name of `ROLE/SESSION`).
    UpToSlash(&'static str),
}

/// One way a pattern can match: a glob compared with one form.
#[derive(Debug, Clone, Copy)]
pub struct FormRun<'a> {
    /// The pattern's section.
    pub glob: Glob<'a>,
    /// How the form's section is built from `w`.
    pub shape: FormShape,
}

/// A pattern's runs, one per ARN form it may match: it matches `w` when one run accepts.
pub type Runs<'a> = Vec<FormRun<'a>>;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum RunState {
    Dead,
    Live(States),
    /// `UpToSlash` saw the `/` in an accepting state: accepts whatever follows.
    Done,
}

fn run_start(run: &FormRun<'_>) -> RunState {
    let (FormShape::Whole(prefix) | FormShape::UpToSlash(prefix)) = run.shape;
    let s = run.glob.feed(&run.glob.start(), prefix);
    if s.is_empty() {
        RunState::Dead
    } else {
        RunState::Live(s)
    }
}

fn run_step(run: &FormRun<'_>, state: &RunState, byte: u8) -> RunState {
    match state {
        RunState::Dead => RunState::Dead,
        RunState::Done => RunState::Done,
        RunState::Live(s) => {
            if byte == b'/' && matches!(run.shape, FormShape::UpToSlash(_)) {
                return if run.glob.accepts(s) {
                    RunState::Done
                } else {
                    RunState::Dead
                };
            }
            let next = run.glob.step(s, byte);
            if next.is_empty() {
                RunState::Dead
            } else {
                RunState::Live(next)
            }
        }
    }
}

fn run_accepts(run: &FormRun<'_>, state: &RunState) -> bool {
    match state {
        RunState::Dead => false,
        RunState::Done => true,
        RunState::Live(s) => run.glob.accepts(s),
    }
}

/// The valid caller strings of one caller kind (a small DFA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Valid {
    /// `w` is empty (the root).
    Empty,
    /// `w` is a name: 1+ name bytes (a federated user).
    Name,
    /// `w` is `PATH/NAME` of an IAM user: `(segment /)* name`.
    UserPath,
    /// `w` is `ROLE/SESSION`: 1+ name bytes, `/`, 2+ name bytes.
    RoleSession,
    /// `w` is exactly 12 digits (an account).
    Account,
}

/// A state of a [`Valid`] DFA; `None` is the dead state.
type VState = Option<u8>;

impl Valid {
    fn start(self) -> VState {
        Some(0)
    }

    fn step(self, state: VState, b: u8) -> VState {
        let s = state?;
        match self {
            Valid::Empty => None,
            Valid::Name => is_name_byte(b).then_some(1),
            // 0: segment start; 1: all name bytes so far; 2: a path-only byte seen.
            Valid::UserPath => match (s, b) {
                (0, b'/') => None,
                (1 | 2, b'/') => Some(0),
                (0 | 1, b) if is_name_byte(b) => Some(1),
                (_, b) if is_path_byte(b) => Some(2),
                _ => None,
            },
            // 0: role start; 1: in role; 2: after '/'; 3: one session byte; 4: two or more.
            Valid::RoleSession => match (s, b) {
                (1, b'/') => Some(2),
                (0 | 1, b) if is_name_byte(b) => Some(1),
                (2, b) if is_name_byte(b) => Some(3),
                (3 | 4, b) if is_name_byte(b) => Some(4),
                _ => None,
            },
            Valid::Account => (b.is_ascii_digit() && s < 12).then_some(s + 1),
        }
    }

    fn accepts(self, state: VState) -> bool {
        match (self, state) {
            (_, None) => false,
            (Valid::Empty, Some(s)) => s == 0,
            (Valid::Name | Valid::UserPath, Some(s)) => s == 1,
            (Valid::RoleSession, Some(s)) => s == 4,
            (Valid::Account, Some(s)) => s == 12,
        }
    }

    /// Representatives of the byte classes this DFA tells apart.
    fn representatives(self) -> &'static [u8] {
        match self {
            Valid::Empty => &[],
            Valid::Name | Valid::RoleSession => b"/a",
            Valid::UserPath => b"/a!",
            Valid::Account => b"0",
        }
    }

    /// Is `b` a byte some valid string may hold?
    fn allows(self, b: u8) -> bool {
        match self {
            Valid::Empty => false,
            Valid::Name => is_name_byte(b),
            Valid::UserPath => is_path_byte(b) || b == b'/',
            Valid::RoleSession => is_name_byte(b) || b == b'/',
            Valid::Account => b.is_ascii_digit(),
        }
    }

    /// The class of a byte (bytes of one class behave alike in the DFA).
    fn class(self, b: u8) -> u8 {
        match b {
            b'/' => 0,
            b if b.is_ascii_digit() && self == Valid::Account => 1,
            b if is_name_byte(b) => 2,
            _ => 3,
        }
    }
}

/// The reduced alphabet: every literal byte of the runs that a valid string
/// may hold, plus one non-literal representative of each byte class.
fn alphabet(valid: Valid, a: &Runs<'_>, b: &Runs<'_>) -> Vec<u8> {
    let mut literal = [false; 256];
    for run in a.iter().chain(b) {
        for &c in run.glob.pattern {
            if c != b'*'
                && c != b'?'
                && let Some(slot) = literal.get_mut(usize::from(c))
            {
                *slot = true;
            }
        }
    }
    let is_literal = |c: u8| literal.get(usize::from(c)).copied().unwrap_or(false);
    let mut out: Vec<u8> = (0u8..=255)
        .filter(|&c| is_literal(c) && valid.allows(c))
        .collect();
    for &rep in valid.representatives() {
        let class = valid.class(rep);
        if let Some(c) =
            (0x21u8..=0x7e).find(|&c| valid.class(c) == class && valid.allows(c) && !is_literal(c))
        {
            out.push(c);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A product state: both patterns' run states and the validity state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Product {
    a: Vec<RunState>,
    b: Vec<RunState>,
    v: VState,
}

/// Searches for a valid caller string `w` such that `goal(a matches w, b matches w)`
/// holds, and returns the shortest one. Exact: `Ok(None)` means there is none.
pub fn search(
    valid: Valid,
    a: &Runs<'_>,
    b: &Runs<'_>,
    goal: impl Fn(bool, bool) -> bool,
) -> Result<Option<String>, TooComplex> {
    let sigma = alphabet(valid, a, b);
    let start = Product {
        a: a.iter().map(run_start).collect(),
        b: b.iter().map(run_start).collect(),
        v: valid.start(),
    };
    let accepts = |runs: &Runs<'_>, states: &[RunState]| {
        runs.iter()
            .zip(states)
            .any(|(run, state)| run_accepts(run, state))
    };
    // state → (parent index, byte); index 0 is the start.
    let mut seen: FxHashMap<Product, usize> = FxHashMap::default();
    let mut parents: Vec<(usize, u8)> = vec![(0, 0)];
    let mut queue = VecDeque::new();
    seen.insert(start.clone(), 0);
    queue.push_back((start, 0usize));
    while let Some((state, index)) = queue.pop_front() {
        if valid.accepts(state.v) && goal(accepts(a, &state.a), accepts(b, &state.b)) {
            return Ok(Some(witness(&parents, index)));
        }
        for &byte in &sigma {
            let v = valid.step(state.v, byte);
            if v.is_none() {
                continue;
            }
            let next = Product {
                a: a.iter()
                    .zip(&state.a)
                    .map(|(run, s)| run_step(run, s, byte))
                    .collect(),
                b: b.iter()
                    .zip(&state.b)
                    .map(|(run, s)| run_step(run, s, byte))
                    .collect(),
                v,
            };
            if seen.contains_key(&next) {
                continue;
            }
            if seen.len() >= MAX_STATES {
                return Err(TooComplex);
            }
            parents.push((index, byte));
            let at = parents.len() - 1;
            seen.insert(next.clone(), at);
            queue.push_back((next, at));
        }
    }
    Ok(None)
}

fn witness(parents: &[(usize, u8)], mut index: usize) -> String {
    let mut bytes = Vec::new();
    while index != 0 {
        let Some(&(parent, byte)) = parents.get(index) else {
            break;
        };
        bytes.push(byte);
        index = parent;
    }
    bytes.reverse();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(p: &str) -> Runs<'_> {
        vec![FormRun {
            glob: Glob::new(p),
            shape: FormShape::Whole(""),
        }]
    }

    #[test]
    fn intersections_of_names() {
        let both = |x, y| x && y;
        assert_eq!(
            search(Valid::Name, &whole("a*"), &whole("*b"), both).unwrap(),
            Some("ab".into())
        );
        assert_eq!(
            search(Valid::Name, &whole("a*"), &whole("b*"), both).unwrap(),
            None
        );
        assert_eq!(
            search(Valid::Name, &whole("a?"), &whole("*c"), both).unwrap(),
            Some("ac".into())
        );
    }

    #[test]
    fn inclusion() {
        let not_covered = |x: bool, y: bool| y && !x;
        // Every name of `a?` is matched by `a*`.
        assert_eq!(
            search(Valid::Name, &whole("a*"), &whole("a?"), not_covered).unwrap(),
            None
        );
        assert!(
            search(Valid::Name, &whole("a?"), &whole("a*"), not_covered)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn accounts_are_twelve_digits() {
        let both = |x, y| x && y;
        let w = search(Valid::Account, &whole("1*"), &whole("*2"), both)
            .unwrap()
            .unwrap();
        assert_eq!(w.len(), 12);
        assert!(w.starts_with('1') && w.ends_with('2'));
        assert_eq!(
            search(Valid::Account, &whole("1?"), &whole("*"), both).unwrap(),
            None
        );
    }
}
