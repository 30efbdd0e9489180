//! Map targets: literal account identifiers and `{placeholder}` templates,
//! and what counts as a valid account identifier.
//!
//! An account identifier is an email address (`alice@example.com`), a UUID
//! (`0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10`) or a handle (a letter or digit,
//! then up to 63 letters, digits, `.`, `_` or `-`). A template that renders
//! anything else makes the decision an error: it never falls through.

use std::borrow::Cow;
use std::fmt;

use crate::rule::condition::Caller;
use crate::text::{SharedStr, Text};

/// The longest account identifier.
pub const MAX_ACCOUNT_ID_LEN: usize = 254;

/// A value a template can insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placeholder {
    /// `{account}`
    Account,
    /// `{name}`: user, role or federated-user name.
    Name,
    /// `{session}`: an assumed role's session.
    Session,
    /// `{partition}`
    Partition,
    /// `{principal_id}`: the UserId before `:`.
    PrincipalId,
}

impl Placeholder {
    /// Every placeholder.
    pub const ALL: [Placeholder; 5] = [
        Placeholder::Account,
        Placeholder::Name,
        Placeholder::Session,
        Placeholder::Partition,
        Placeholder::PrincipalId,
    ];

    /// The placeholder's name between braces.
    pub const fn as_str(self) -> &'static str {
        match self {
            Placeholder::Account => "account",
            Placeholder::Name => "name",
            Placeholder::Session => "session",
            Placeholder::Partition => "partition",
            Placeholder::PrincipalId => "principal_id",
        }
    }

    fn value<'a>(self, caller: &Caller<'a>) -> Option<&'a str> {
        let id = caller.identity;
        match self {
            Placeholder::Account => Some(id.account()),
            Placeholder::Name => id.name(),
            Placeholder::Session => id.session(),
            Placeholder::Partition => Some(id.partition().as_str()),
            Placeholder::PrincipalId => id.principal_id(),
        }
    }
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Text(Box<str>),
    /// A value of the caller.
    Value(Placeholder),
}

/// A map target. 16 bytes, and so is an [`Effect`](crate::Effect) that holds
/// one: it sits in every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A fixed, already validated account identifier (a range of the policy
    /// source when it is written there without escapes).
    Literal(Text),
    /// A template rendered per caller.
    Template(Pieces),
}

/// A template's pieces, behind one thin pointer (templates are rare: the
/// common literal target decides the size of [`Target`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::box_collection)]
pub struct Pieces(Box<Vec<Piece>>);

impl std::ops::Deref for Pieces {
    type Target = [Piece];
    fn deref(&self) -> &[Piece] {
        &self.0
    }
}

/// A target that does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// `{something}` that is not a placeholder.
    #[error("unknown placeholder `{{{name}}}`")]
    UnknownPlaceholder {
        /// The name between the braces.
        name: String,
        /// Byte offset of `{` in the target.
        at: usize,
        /// The closest placeholder, if any.
        suggestion: Option<&'static str>,
    },
    /// A `{` without `}` or a `}` without `{`.
    #[error("unbalanced brace in target")]
    Brace {
        /// Byte offset of the brace.
        at: usize,
    },
    /// A literal target that is not an account identifier.
    #[error("`{0}` is not an account identifier (an email, a UUID or a handle)")]
    Invalid(String),
}

/// Why a template could not be rendered for a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The caller has no such value (`{session}` of an IAM user).
    #[error("the caller has no `{{{0}}}` to fill the template with")]
    Missing(&'static str),
    /// The rendered text is not an account identifier.
    #[error(
        "the template rendered `{0}`, which is not an account identifier (an email, a UUID or a handle)"
    )]
    Invalid(String),
}

impl Target {
    /// Parses a target, checking placeholders and (for literals) validity.
    pub fn parse(text: &str) -> Result<Target, TargetError> {
        Target::parse_in(text, None, 0)
    }

    /// [`Target::parse`] of a target written in `source` from byte `start`:
    /// a literal written there as is is kept as a range of it, not copied.
    pub(crate) fn parse_in(
        text: &str,
        source: Option<&SharedStr>,
        start: usize,
    ) -> Result<Target, TargetError> {
        // Without a brace the text is one literal piece (the common case,
        // docs/semantics.md §3.4): check it without building the pieces.
        if !text.contains(['{', '}']) {
            if !is_account_identifier(text) {
                return Err(TargetError::Invalid(text.to_owned()));
            }
            return Ok(Target::Literal(Text::shared_or_new(source, start, text)));
        }
        let mut pieces = Vec::new();
        let mut rest = text;
        let mut offset = 0;
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                None => {
                    pieces.push(Piece::Text(rest.into()));
                    break;
                }
                Some(at) => {
                    if at > 0 {
                        pieces.push(Piece::Text(rest.get(..at).unwrap_or_default().into()));
                    }
                    let brace_at = offset + at;
                    let after = rest.get(at..).unwrap_or_default();
                    if after.starts_with('}') {
                        return Err(TargetError::Brace { at: brace_at });
                    }
                    let Some(close) = after.find('}') else {
                        return Err(TargetError::Brace { at: brace_at });
                    };
                    let name = after.get(1..close).unwrap_or_default();
                    if name.contains('{') {
                        return Err(TargetError::Brace { at: brace_at });
                    }
                    let placeholder = Placeholder::ALL.into_iter().find(|p| p.as_str() == name);
                    let Some(placeholder) = placeholder else {
                        return Err(TargetError::UnknownPlaceholder {
                            name: name.to_owned(),
                            at: brace_at,
                            suggestion: crate::policy::lower::did_you_mean(
                                name,
                                Placeholder::ALL.map(Placeholder::as_str),
                            ),
                        });
                    };
                    pieces.push(Piece::Value(placeholder));
                    rest = after.get(close + 1..).unwrap_or_default();
                    offset = brace_at + close + 1;
                }
            }
        }
        if pieces.iter().all(|p| matches!(p, Piece::Text(_))) {
            if !is_account_identifier(text) {
                return Err(TargetError::Invalid(text.to_owned()));
            }
            return Ok(Target::Literal(Text::shared_or_new(source, start, text)));
        }
        Ok(Target::Template(Pieces(Box::new(pieces))))
    }

    /// Renders the target for a caller; the result is a valid account identifier.
    #[inline]
    pub fn render<'t>(&'t self, caller: &Caller<'_>) -> Result<Cow<'t, str>, RenderError> {
        match self {
            // Inline: most targets are literal, and a decision renders one.
            Target::Literal(s) => Ok(Cow::Borrowed(s.as_str())),
            Target::Template(pieces) => render_template(pieces, caller).map(Cow::Owned),
        }
    }

    /// The placeholders a template uses.
    pub fn placeholders(&self) -> impl Iterator<Item = Placeholder> + '_ {
        let pieces: &[Piece] = match self {
            Target::Literal(_) => &[],
            Target::Template(p) => p,
        };
        pieces.iter().filter_map(|p| match p {
            Piece::Value(v) => Some(*v),
            Piece::Text(_) => None,
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Literal(s) => f.write_str(s),
            Target::Template(pieces) => {
                for p in pieces.iter() {
                    match p {
                        Piece::Text(t) => f.write_str(t)?,
                        Piece::Value(v) => write!(f, "{{{}}}", v.as_str())?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// A template's pieces with the caller's values, checked to be an account
/// identifier.
fn render_template(pieces: &[Piece], caller: &Caller<'_>) -> Result<String, RenderError> {
    let mut out = String::with_capacity(64);
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Value(p) => {
                out.push_str(p.value(caller).ok_or(RenderError::Missing(p.as_str()))?)
            }
        }
    }
    if is_account_identifier(&out) {
        Ok(out)
    } else {
        Err(RenderError::Invalid(out))
    }
}

/// Is `s` an email address, a UUID or a handle?
pub fn is_account_identifier(s: &str) -> bool {
    s.len() <= MAX_ACCOUNT_ID_LEN && (is_uuid(s) || is_email(s) || is_handle(s))
}

/// `8-4-4-4-12` hexadecimal digits.
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `local@domain.tld` with a conservative character set: a local part of 1
/// to 64 letters, digits or `._%+-`, neither starting nor ending with `.` and
/// without `..`; a domain of at most 253 bytes and at least two labels, each
/// 1 to 63 letters, digits or inner `-`. One pass over the bytes: a mapped
/// template's rendered target is checked with it on every decision.
pub fn is_email(s: &str) -> bool {
    let bytes = s.as_bytes();
    let Some(at) = bytes.iter().position(|&b| b == b'@') else {
        return false;
    };
    let (local, domain) = bytes.split_at(at);
    is_email_local(local) && domain.get(1..).is_some_and(is_email_domain)
}

fn is_email_local(local: &[u8]) -> bool {
    if !(1..=64).contains(&local.len())
        || local.first() == Some(&b'.')
        || local.last() == Some(&b'.')
    {
        return false;
    }
    let mut after_dot = false;
    local.iter().all(|&b| {
        let dot = b == b'.';
        let ok = (b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-'))
            && !(dot && after_dot);
        after_dot = dot;
        ok
    })
}

fn is_email_domain(domain: &[u8]) -> bool {
    if domain.len() > 253 {
        return false;
    }
    let mut dots = 0;
    let mut label = 0;
    let mut last = b'.';
    for &b in domain {
        if b == b'.' {
            if label == 0 || last == b'-' {
                return false;
            }
            dots += 1;
            label = 0;
        } else {
            if !(b.is_ascii_alphanumeric() || b == b'-') || (label == 0 && b == b'-') || label == 63
            {
                return false;
            }
            label += 1;
        }
        last = b;
    }
    dots > 0 && label > 0 && last != b'-'
}

/// A letter or digit, then up to 63 letters, digits, `.`, `_` or `-`.
pub fn is_handle(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.len() <= 64
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The email check as its definition reads (splits and substring
    /// searches), to hold the one-pass check to.
    fn is_email_by_definition(s: &str) -> bool {
        let Some((local, domain)) = s.split_once('@') else {
            return false;
        };
        let local_ok = (1..=64).contains(&local.len())
            && local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(&b))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        let domain_ok = domain.contains('.')
            && domain.len() <= 253
            && domain.split('.').all(|l| {
                (1..=63).contains(&l.len())
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            });
        local_ok && domain_ok
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]
        /// The one-pass email check agrees with its definition, on short
        /// strings of the characters that matter and on long runs of them.
        #[test]
        fn the_email_check_agrees_with_its_definition(
            s in "[a.\\-_%+@Z9 ]{0,24}",
            local in "[a.\\-_%+Z9]{0,8}",
            domain in "[a.\\-Z9@]{0,10}",
            near_local in "[a.]{1,6}",
            near_domain in "[a\\-]{0,3}(\\.[a\\-]{0,3}){0,2}",
            run in 0usize..80,
            at in 0usize..4,
        ) {
            prop_assert_eq!(is_email(&s), is_email_by_definition(&s), "{:?}", s);
            let shaped = format!("{local}@{domain}");
            prop_assert_eq!(is_email(&shaped), is_email_by_definition(&shaped), "{:?}", shaped);
            // Near the edges: dots in the local part, dashes in the labels.
            let near = format!("{near_local}@{near_domain}");
            prop_assert_eq!(is_email(&near), is_email_by_definition(&near), "{:?}", near);
            let long = format!("{}{}{}.c", "a".repeat(run), ["@", "@x.", "", "@-"][at], "b".repeat(run));
            prop_assert_eq!(is_email(&long), is_email_by_definition(&long), "{:?}", long);
            let labels = format!("a@{}.{}", "b".repeat(run), "c".repeat(250 - run));
            prop_assert_eq!(is_email(&labels), is_email_by_definition(&labels), "{:?}", labels);
        }
    }

    #[test]
    fn identifiers() {
        assert!(is_account_identifier("terraform-service-account@myorg.com"));
        assert!(is_account_identifier(
            "0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10"
        ));
        assert!(is_account_identifier("alice.smith"));
        assert!(!is_account_identifier(""));
        assert!(!is_account_identifier("@myorg.com"));
        assert!(!is_account_identifier("a b"));
        assert!(!is_account_identifier("x@y"));
    }

    #[test]
    fn templates() {
        assert!(matches!(
            Target::parse("{session}@myorg.com"),
            Ok(Target::Template(_))
        ));
        assert!(matches!(
            Target::parse("{sesion}@myorg.com"),
            Err(TargetError::UnknownPlaceholder {
                suggestion: Some("session"),
                ..
            })
        ));
        assert!(matches!(
            Target::parse("{session@x.com"),
            Err(TargetError::Brace { at: 0 })
        ));
        assert!(matches!(
            Target::parse("not an id"),
            Err(TargetError::Invalid(_))
        ));
    }

    #[test]
    fn literals() {
        assert_eq!(
            Target::parse("alice@myorg.com"),
            Ok(Target::Literal("alice@myorg.com".into()))
        );
        assert_eq!(Target::parse(""), Err(TargetError::Invalid(String::new())));
        assert_eq!(
            Target::parse("a b"),
            Err(TargetError::Invalid("a b".into()))
        );
    }

    /// A literal written in the source as is is kept as a range of it and
    /// renders, prints and compares like one kept on its own; one written
    /// with an escape is kept on its own.
    #[test]
    fn literal_in_source() {
        let source = SharedStr::new(r#"map "x" to "alice@myorg.com""#.into());
        let shared = Target::parse_in("alice@myorg.com", Some(&source), 12).unwrap();
        let own = Target::parse("alice@myorg.com").unwrap();
        assert!(matches!(&shared, Target::Literal(t) if t.is_range()));
        assert!(matches!(&own, Target::Literal(t) if !t.is_range()));
        assert_eq!(shared, own);
        assert_eq!(shared.to_string(), own.to_string());
        let id = crate::arn::identity::CallerIdentity::parse_arn("arn:aws:iam::123456789012:root")
            .unwrap();
        let caller = Caller::new(&id);
        assert_eq!(shared.render(&caller), own.render(&caller));
        // Written `"alice\\@…"` would not read as the target: kept on its own.
        let escaped = SharedStr::new(r#"to "a\b@myorg.com""#.into());
        let kept = Target::parse_in("ab@myorg.com", Some(&escaped), 4).unwrap();
        assert!(matches!(&kept, Target::Literal(t) if !t.is_range()));
        assert_eq!(kept.to_string(), "ab@myorg.com");
    }

    #[test]
    fn sizes() {
        assert_eq!(std::mem::size_of::<Target>(), 16);
        assert_eq!(std::mem::size_of::<crate::rule::Effect>(), 16);
    }
}
