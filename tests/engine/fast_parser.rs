//! Property: the front end's fast path (`src/policy/fast.rs`) reads exactly
//! what pest and the lowering read (docs/semantics.md §3.1). Whenever it
//! reads a file, pest and the lowering read the same AST — spans, unescaped
//! strings and conditions included — without a diagnostic; whenever pest
//! fails or the lowering reports a diagnostic, it gives up; and it reads every
//! text they read cleanly (its nesting bound is not reached here). The check
//! itself is the `policy_parser` fuzz target's (`fast_path_agrees`).
//!
//! Texts are generated from the grammar (`grammar/policy.pest`): every item
//! and option, `as` ids, nested `and`/`or`/`not`/parentheses, lists with and
//! without a trailing comma, escapes, comments, tabs, CRLF and missing
//! whitespace; then, for the second property, wrong words (unknown
//! attributes and operators, `in` with a string, keywords glued to words) and
//! a mutation (a truncation, a deletion or an inserted token).

use proptest::prelude::*;
use proptest::sample::{Index, select};

use crate::fuzz_regressions::arnmap_fuzz::fast_path_agrees;

/// The alphabets: `valid` keeps to texts pest and the lowering accept.
#[derive(Debug, Clone, Copy)]
struct Alphabet {
    valid: bool,
}

const GAPS: &[&str] = &[
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\n\n  ",
    "# note\n",
    " # \"x\" map {\r\n",
    "#\n",
    " \t\r\n",
];

const BODIES: &[&str] = &[
    "",
    "a",
    "arn:aws:sts::123456789012:assumed-role/role-1",
    "arn:aws:iam::*:user/eng/*",
    "{session}@example.com",
    "alice@example.com",
    r"^[a-z]+\.[a-z]+$",
    r#"a\"b"#,
    r"a\\b",
    r"\\",
    r#"\""#,
    r"\.\d",
    r"x\é",
    "é ü #{}()[],",
    "tab\there",
    "map to as when",
];

const BAD_BODIES: &[&str] = &[r"a\", "a\nb", "a\rb", "\\"];

const ATTRIBUTES: &[&str] = &[
    "partition",
    "account",
    "kind",
    "name",
    "path",
    "session",
    "user_id",
    "principal_id",
    "region",
];

const BAD_ATTRIBUTES: &[&str] = &["sesion", "Session", "_x", "not", "and", "or", "in", "x-y"];

const BAD_OPERATORS: &[&str] = &[
    "=", "~=", "<>", "!", "===", "=~~", "!==", "inx", "matchesx", "like", "==~",
];

const IDS: &[&str] = &[
    "r1",
    "_a",
    "1-2",
    "a-b_c",
    "0b5c9b6e-8a3e",
    "when",
    "as",
    "map",
    "org",
];

const BAD_IDS: &[&str] = &["-x", "é", "\"r\""];

const INSERTS: &[&str] = &[
    "\"",
    "\\",
    "(",
    ")",
    "[",
    "]",
    ",",
    "{",
    "}",
    "#",
    "\n",
    "not ",
    " and ",
    " or ",
    "->",
    "==",
    "é",
    "map",
    "org \"x\" {",
    "\r",
    "\u{feff}",
    "\u{a0}",
    "-",
    "\u{c}",
    "\u{b}",
    "_",
    "x",
    "0",
    " as",
    "to ",
];

fn gap(a: Alphabet) -> BoxedStrategy<String> {
    let some = prop::collection::vec(select(GAPS), 1..3).prop_map(|v| v.concat());
    if a.valid {
        prop_oneof![4 => Just(" ".to_owned()), 1 => some].boxed()
    } else {
        // A word character glued to a keyword makes it another word.
        let glued = select(&["-", "_", "x", "0"][..]).prop_map(str::to_owned);
        prop_oneof![8 => Just(" ".to_owned()), 2 => Just(String::new()), 2 => some, 1 => glued]
            .boxed()
    }
}

fn string(a: Alphabet) -> BoxedStrategy<String> {
    let good = select(BODIES).prop_map(|b| format!("\"{b}\""));
    if a.valid {
        good.boxed()
    } else {
        prop_oneof![8 => good, 1 => select(BAD_BODIES).prop_map(|b| format!("\"{b}\""))].boxed()
    }
}

fn list(a: Alphabet) -> BoxedStrategy<String> {
    (
        prop::collection::vec((string(a), gap(a), gap(a)), 0..4),
        any::<bool>(),
        gap(a),
    )
        .prop_map(|(items, trailing, end)| {
            let mut out = String::from("[");
            let n = items.len();
            for (i, (s, g1, g2)) in items.into_iter().enumerate() {
                out.push_str(&g1);
                out.push_str(&s);
                if i + 1 < n || trailing {
                    out.push_str(&g2);
                    out.push(',');
                }
            }
            out.push_str(&end);
            out.push(']');
            out
        })
        .boxed()
}

fn comparison(a: Alphabet) -> BoxedStrategy<String> {
    let attribute = if a.valid {
        select(ATTRIBUTES).boxed()
    } else {
        prop_oneof![6 => select(ATTRIBUTES), 1 => select(BAD_ATTRIBUTES)].boxed()
    };
    let with_string = (select(&["==", "!=", "=~", "matches"][..]), string(a));
    let with_list = (Just("in"), list(a));
    let operation = if a.valid {
        prop_oneof![3 => with_string, 1 => with_list].boxed()
    } else {
        prop_oneof![
            6 => with_string,
            2 => with_list,
            1 => (Just("in"), string(a)),
            1 => (select(&["==", "=~"][..]), list(a)),
            2 => (select(BAD_OPERATORS), string(a)),
        ]
        .boxed()
    };
    (attribute, gap(a), operation, gap(a))
        .prop_map(|(attr, g1, (op, operand), g2)| format!("{attr}{g1}{op}{g2}{operand}"))
        .boxed()
}

fn condition(a: Alphabet) -> BoxedStrategy<String> {
    comparison(a)
        .prop_recursive(4, 24, 4, move |inner| {
            prop_oneof![
                prop::collection::vec((inner.clone(), gap(a), gap(a)), 2..4)
                    .prop_map(|parts| join(parts, "and")),
                prop::collection::vec((inner.clone(), gap(a), gap(a)), 2..4)
                    .prop_map(|parts| join(parts, "or")),
                (1..4usize, gap(a), inner.clone())
                    .prop_map(|(n, g, c)| format!("{}{c}", format!("not{g}").repeat(n))),
                (gap(a), inner, gap(a)).prop_map(|(g1, c, g2)| format!("({g1}{c}{g2})")),
            ]
        })
        .boxed()
}

fn join(parts: Vec<(String, String, String)>, word: &str) -> String {
    let mut out = String::new();
    for (i, (part, g1, g2)) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push_str(&g1);
            out.push_str(word);
            out.push_str(&g2);
        }
        out.push_str(&part);
    }
    out
}

fn rule(a: Alphabet) -> BoxedStrategy<String> {
    let id = if a.valid {
        select(IDS).boxed()
    } else {
        prop_oneof![6 => select(IDS), 1 => select(BAD_IDS)].boxed()
    };
    (
        any::<bool>(),
        (gap(a), string(a), gap(a), gap(a), string(a)),
        prop::option::weighted(0.4, (gap(a), gap(a), id)),
        prop::option::weighted(0.6, (gap(a), gap(a), condition(a))),
    )
        .prop_map(|(map, (g1, pattern, g2, g3, target), name, when)| {
            let mut out = if map {
                format!("map{g1}{pattern}{g2}to{g3}{target}")
            } else {
                format!("deny{g1}{pattern}")
            };
            if let Some((g1, g2, id)) = name {
                out.push_str(&format!("{g1}as{g2}{id}"));
            }
            if let Some((g1, g2, c)) = when {
                out.push_str(&format!("{g1}when{g2}{c}"));
            }
            out
        })
        .boxed()
}

fn test_case(a: Alphabet) -> BoxedStrategy<String> {
    let expect = prop_oneof![string(a), Just("deny".to_owned()), Just("none".to_owned())];
    (
        (gap(a), string(a)),
        prop::collection::vec(
            (
                gap(a),
                select(&["user_id", "region"][..]),
                gap(a),
                string(a),
            ),
            0..3,
        ),
        (gap(a), gap(a), expect),
    )
        .prop_map(|((g0, arn), options, (g1, g2, expect))| {
            let mut out = format!("test{g0}{arn}");
            for (g1, key, g2, value) in options {
                out.push_str(&format!("{g1}{key}{g2}{value}"));
            }
            out.push_str(&format!("{g1}->{g2}{expect}"));
            out
        })
        .boxed()
}

fn org(a: Alphabet) -> BoxedStrategy<String> {
    let item = prop_oneof![3 => rule(a), 1 => test_case(a)];
    (
        (gap(a), string(a), gap(a)),
        prop::collection::vec((gap(a), item), 0..5),
        gap(a),
    )
        .prop_map(|((g1, id, g2), items, end)| {
            let mut out = format!("org{g1}{id}{g2}{{");
            for (g, item) in items {
                out.push_str(&g);
                out.push_str(&item);
            }
            out.push_str(&end);
            out.push('}');
            out
        })
        .boxed()
}

fn policy(a: Alphabet) -> BoxedStrategy<String> {
    (
        gap(a),
        prop::collection::vec((org(a), gap(a)), 0..4),
        select(&["", "", "# end without a newline", "\n"][..]),
    )
        .prop_map(|(start, orgs, end)| {
            let mut out = start;
            for (o, g) in orgs {
                out.push_str(&o);
                out.push_str(&g);
            }
            out.push_str(end);
            out
        })
        .boxed()
}

/// The byte offset of the `at`-th character boundary of `text`.
fn boundary(text: &str, at: Index) -> usize {
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    bounds[at.index(bounds.len())]
}

#[derive(Debug, Clone)]
enum Mutation {
    None,
    Truncate(Index),
    Delete(Index, Index),
    Insert(Index, &'static str),
    /// Replace one occurrence (chosen by the index) of the first text with the second.
    Replace(Index, (&'static str, &'static str)),
}

/// One small defect each, applied to a valid text: wrong operators and
/// attributes, words glued to keywords, odd whitespace, broken strings and
/// brackets.
const REPLACEMENTS: &[(&str, &str)] = &[
    ("==", "="),
    ("==", "==="),
    ("=~", "~="),
    ("=~", "=~~"),
    ("!=", "<>"),
    ("!=", "!"),
    (" in ", " inx "),
    ("in [", "== ["),
    ("== \"", "in \""),
    ("matches", "matchesx"),
    ("session", "sesion"),
    ("session", "not"),
    ("account", "or"),
    ("name ", "and "),
    ("as ", "as-"),
    ("as ", "as_"),
    ("as ", "as0"),
    ("as ", "as -"),
    ("as ", "as é"),
    ("map ", "map-"),
    ("map ", "mapx"),
    ("to ", "to_"),
    ("when ", "when-"),
    ("not ", "not_"),
    ("and ", "and-"),
    ("or ", "or0"),
    ("test ", "test_"),
    ("org ", "org-"),
    ("deny ", "deny_"),
    ("none", "nonex"),
    ("user_id ", "user_id-"),
    ("region ", "regionx "),
    (" ", "\u{c}"),
    (" ", "\u{a0}"),
    ("\n", "\r"),
    ("\n", "\n\""),
    ("\\\\", "\\"),
    ("\\\"", "\""),
    ("\"", ""),
    ("(", ""),
    (")", ""),
    ("[", ""),
    ("]", ""),
    (",", ",,"),
    ("->", "- >"),
    ("{", ""),
    ("}", ""),
    ("#", ""),
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => Just(Mutation::None),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Delete(a, b)),
        2 => (any::<Index>(), select(INSERTS)).prop_map(|(a, t)| Mutation::Insert(a, t)),
        4 => (any::<Index>(), select(REPLACEMENTS)).prop_map(|(a, r)| Mutation::Replace(a, r)),
    ]
}

fn mutate(text: &str, mutation: &Mutation) -> String {
    match mutation {
        Mutation::None => text.to_owned(),
        Mutation::Truncate(at) => text[..boundary(text, *at)].to_owned(),
        Mutation::Delete(a, b) => {
            let (a, b) = (boundary(text, *a), boundary(text, *b));
            let (a, b) = (a.min(b), a.max(b).min(a.min(b) + 8));
            let b = (b..=text.len())
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(text.len());
            format!("{}{}", &text[..a], &text[b..])
        }
        Mutation::Insert(at, token) => {
            let at = boundary(text, *at);
            format!("{}{token}{}", &text[..at], &text[at..])
        }
        Mutation::Replace(which, (from, to)) => {
            let found: Vec<usize> = text.match_indices(from).map(|(i, _)| i).collect();
            if found.is_empty() {
                return text.to_owned();
            }
            let at = found[which.index(found.len())];
            format!("{}{to}{}", &text[..at], &text[at + from.len()..])
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Texts of the language: pest and the lowering read them cleanly (else
    /// the generator is wrong), and the fast path reads the same file.
    #[test]
    fn the_fast_path_reads_every_valid_text_as_pest_does(text in policy(Alphabet { valid: true })) {
        let (pest, diags) = arnmap::internals::front::parse_pest(&text);
        prop_assert!(pest.is_some() && diags.is_empty(), "generated an invalid text: {:?}", diags);
        prop_assert!(arnmap::internals::front::parse_fast(&text).is_some());
        fast_path_agrees(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Any text, with wrong words and a mutation: the two agree.
    #[test]
    fn the_fast_path_agrees_with_pest_on_any_text(
        text in prop_oneof![
            2 => policy(Alphabet { valid: true }),
            1 => policy(Alphabet { valid: false }),
        ],
        mutation in mutation(),
    ) {
        fast_path_agrees(&mutate(&text, &mutation));
    }
}
