//! Compilation: typed AST → rules with compiled patterns, conditions and
//! targets ([`crate::engine::policy`] then ranks them by precedence and
//! indexes them). Every semantic error is reported
//! with its span, all in one pass.

use std::borrow::Cow;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::arn::identity::CallerIdentity;
use crate::arn::pattern::{Pattern, PatternError, PatternWarning};
use crate::policy::ast::{self, EffectDecl, Expr, Operand};
use crate::policy::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::policy::source::{SourceMap, Span, Spanned};
use crate::rule::condition::{self, Condition, Operator, Test};
use crate::rule::target::{Target, TargetError};
use crate::rule::{Effect, Org, OrgId, Rule, RuleId, TestCase};
use crate::text::{SharedStr, Text};

/// What compiling the sources produced, before ranking and indexing.
pub(crate) struct Compiled {
    pub(crate) orgs: Vec<Org>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) warnings: Vec<Diagnostic>,
}

/// Parses, lowers and compiles every source. Errors are collected from all
/// sources; warnings are returned with the rules.
pub(crate) fn compile(sources: &SourceMap) -> Result<Compiled, Diagnostics> {
    let (files, mut diags) = crate::policy::parse_all(sources);
    let decls: Vec<&ast::RuleDecl> = files
        .iter()
        .flat_map(|(_, file)| file.orgs.iter().flat_map(|org| org.rules.iter()))
        .collect();
    // Each source's text, shared by the rules written in it (ranges of it).
    let shared: Vec<SharedStr> = sources
        .iter()
        .map(|(_, source)| SharedStr::new(Arc::clone(&source.text)))
        .collect();
    let mut prepared = prepare(&decls, &shared).into_iter().flatten();
    let decls_len = decls.len();
    drop(decls);
    // At most one org per block (fewer when an org has several blocks).
    let blocks = files.iter().map(|(_, file)| file.orgs.len()).sum();
    let mut compiler = Compiler {
        sources,
        shared: &shared,
        file_names: sources
            .iter()
            .map(|(_, source)| SharedStr::new(Arc::clone(&source.name)))
            .collect(),
        diags: &mut diags,
        orgs: Vec::with_capacity(blocks),
        org_ids: FxHashMap::with_capacity_and_hasher(blocks, Default::default()),
        rules: Vec::with_capacity(decls_len),
        line_hint: 0,
        names: FxHashMap::default(),
        regexes: FxHashMap::default(),
        globs: FxHashMap::default(),
    };
    for (_, file) in &files {
        compiler.file(file, &mut prepared);
    }
    let Compiler {
        mut orgs, rules, ..
    } = compiler;
    orgs.shrink_to_fit();
    diags.sort_by_key(|d| (d.span.source, d.span.start));
    // Kept with the compiled policy (50k warnings per 1M rules of the bench).
    diags.shrink_to_fit();
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(diags));
    }
    Ok(Compiled {
        orgs,
        rules,
        warnings: diags,
    })
}

struct Compiler<'a> {
    sources: &'a SourceMap,
    /// Each source's text, by [`SourceId`](crate::policy::source::SourceId).
    shared: &'a [SharedStr],
    /// Each source's name, shared by its unnamed rules' ids.
    file_names: Vec<SharedStr>,
    diags: &'a mut Vec<Diagnostic>,
    orgs: Vec<Org>,
    org_ids: FxHashMap<Box<str>, OrgId>,
    rules: Vec<Rule>,
    /// The 0-based line of the last unnamed rule (rules come in order).
    line_hint: usize,
    /// `(org, name)` → span of the first rule with that name.
    names: FxHashMap<(OrgId, Box<str>), Span>,
    /// Compiled regexes and globs by source, shared between rules.
    regexes: FxHashMap<Box<str>, Arc<regex::Regex>>,
    globs: FxHashMap<Box<str>, Arc<globset::GlobMatcher>>,
}

/// What compiling a rule needs from its own text alone: its pattern and its
/// target, parsed (docs/semantics.md §2, §3.4). Every rule's is computed up
/// front by [`prepare`], on several threads for a large policy; the
/// diagnostics are made from them afterwards, in declaration order.
struct Prepared {
    pattern: Result<Pattern, PatternError>,
    /// `None` for a deny.
    target: Option<Result<Target, TargetError>>,
}

impl Prepared {
    /// `shared` holds each source's text.
    fn of(decl: &ast::RuleDecl, shared: &[SharedStr]) -> Prepared {
        Prepared {
            // Written as normalised (most patterns): kept as a range of the
            // source.
            pattern: {
                let (source, start) = quoted_in(shared, decl.pattern.span);
                Pattern::parse_in(&decl.pattern.node, source, start)
            },
            target: match &decl.effect {
                EffectDecl::Map { target } => Some(parse_target(target, shared)),
                EffectDecl::Deny => None,
            },
        }
    }
}

/// Parses a target, keeping a literal one as a range of its source when it
/// is written there as is.
fn parse_target(
    target: &Spanned<Cow<'_, str>>,
    shared: &[SharedStr],
) -> Result<Target, TargetError> {
    let (source, start) = quoted_in(shared, target.span);
    Target::parse_in(&target.node, source, start)
}

/// The source text a quoted string's `span` is in (of `shared`, each
/// source's text) and where its contents start: the span includes the
/// opening quote. A value kept as a range of its source starts there.
fn quoted_in(shared: &[SharedStr], span: Span) -> (Option<&SharedStr>, usize) {
    (shared.get(span.source.0 as usize), span.start as usize + 1)
}

/// Below this many rules a policy is prepared on the calling thread alone.
const PARALLEL_MIN_RULES: usize = 20_000;

/// [`Prepared::of`] every rule, in order: on several threads, over
/// consecutive chunks of the rules, for a large policy.
fn prepare(decls: &[&ast::RuleDecl], shared: &[SharedStr]) -> Vec<Vec<Prepared>> {
    let threads = crate::parallel::threads();
    let run = |chunk: &[&ast::RuleDecl]| chunk.iter().map(|d| Prepared::of(d, shared)).collect();
    if threads < 2 || decls.len() < PARALLEL_MIN_RULES {
        return vec![run(decls)];
    }
    let chunks: Vec<&[&ast::RuleDecl]> = decls.chunks(decls.len().div_ceil(threads)).collect();
    crate::parallel::map(&chunks, |chunk| run(chunk))
}

impl Compiler<'_> {
    fn file(&mut self, file: &ast::File, prepared: &mut impl Iterator<Item = Prepared>) {
        for org in &file.orgs {
            let org_id = self.org_id(&org.id);
            for rule in &org.rules {
                // INVARIANT: `prepare` made one `Prepared` per rule, in this order.
                let Some(ready) = prepared.next() else {
                    debug_assert!(false, "fewer prepared rules than rules");
                    return;
                };
                if let Some(rule) = self.rule(org_id, rule, ready) {
                    self.rules.push(rule);
                }
            }
            for test in &org.tests {
                if let Some(test) = self.test(org_id, test)
                    && let Some(o) = self.orgs.get_mut(org_id as usize)
                {
                    o.tests.push(test);
                }
            }
        }
    }

    fn org_id(&mut self, written: &Spanned<Cow<'_, str>>) -> OrgId {
        let id: &str = &written.node;
        if let Some(&existing) = self.org_ids.get(id) {
            return existing;
        }
        let org_id = self.orgs.len() as OrgId;
        // Kept as a range of the source.
        let (source, start) = quoted_in(self.shared, written.span);
        self.orgs.push(Org {
            id: Text::shared_or_new(source, start, id),
            rules: Vec::new(),
            tests: Vec::new(),
        });
        self.org_ids.insert(id.into(), org_id);
        org_id
    }

    fn rule(&mut self, org: OrgId, decl: &ast::RuleDecl, ready: Prepared) -> Option<Rule> {
        let pattern = self.pattern(&decl.pattern, ready.pattern);
        // `None`: the condition had errors; `Some(None)`: there is none.
        let condition = match &decl.condition {
            Some(expr) => self.expr(expr).map(Some),
            None => Some(None),
        };
        let effect = match (&decl.effect, ready.target) {
            (EffectDecl::Map { target }, Some(parsed)) => {
                self.target(target, parsed).map(Effect::Map)
            }
            (EffectDecl::Map { target }, None) => self
                .target(target, parse_target(target, self.shared))
                .map(Effect::Map),
            (EffectDecl::Deny, _) => Some(Effect::Deny),
        };
        if let Some(n) = &decl.name
            && let Some(first) = self.names.get(&(org, (*n.node).into()))
        {
            let first = self
                .sources
                .locate(*first)
                .map_or(String::new(), |(f, l, c)| format!(" at {f}:{l}:{c}"));
            self.diags.push(
                Diagnostic::error(
                    Code::DuplicateRuleName,
                    n.span,
                    format!("rule name `{}` is used twice in this org", n.node),
                )
                .with_label("second use")
                .with_help(format!(
                    "rule ids must be unique within an org; the first use is{first}"
                )),
            );
            return None;
        }
        if let Some(n) = &decl.name {
            self.names.insert((org, (*n.node).into()), n.span);
        }
        let (pattern, condition, effect) = (pattern?, condition?, effect?);
        if !decl.valid {
            return None;
        }
        let id = self.rule_id(decl)?;
        let org_rules = &mut self.orgs.get_mut(org as usize)?.rules;
        org_rules.push(self.rules.len() as u32);
        Some(Rule {
            org,
            effect,
            pattern,
            condition: condition.map(Box::new),
            id,
            span: decl.span,
            decl: self.rules.len() as u32,
        })
    }

    /// The rule's `as NAME`, else where it is written. `None` only for a
    /// span outside every source, which the parser never produces.
    fn rule_id(&mut self, decl: &ast::RuleDecl) -> Option<RuleId> {
        if let Some(name) = &decl.name {
            return Some(RuleId::Named(SharedStr::from(name.node)));
        }
        let source = self.sources.get(decl.span.source)?;
        let line = source.line(decl.span.start, &mut self.line_hint);
        Some(RuleId::At {
            file: self.file_names.get(decl.span.source.0 as usize)?.clone(),
            line,
        })
    }

    /// The diagnostics of a parsed pattern (`parsed` is `Pattern::parse(text)`,
    /// its text kept as a range of the source where it can be).
    fn pattern(
        &mut self,
        text: &Spanned<Cow<'_, str>>,
        parsed: Result<Pattern, PatternError>,
    ) -> Option<Pattern> {
        match parsed {
            Ok(pattern) => {
                for warning in pattern.warnings() {
                    self.diags.push(pattern_warning(warning, text));
                }
                Some(pattern)
            }
            Err(error) => {
                let code = match &error {
                    PatternError::Empty
                    | PatternError::TooLong(_)
                    | PatternError::Sections(_)
                    | PatternError::Prefix(_) => Code::PatternSyntax,
                    PatternError::Partition(_) => Code::PatternPartition,
                    PatternError::Service(_) => Code::PatternService,
                    PatternError::Region(_) => Code::PatternRegion,
                    PatternError::Account(_) => Code::PatternAccount,
                    PatternError::Resource { .. } => Code::PatternResource,
                    PatternError::RolePathWildcard(_) => Code::RolePathWildcard,
                };
                self.diags.push(
                    Diagnostic::error(code, text.span, error.to_string())
                        .with_label("this pattern")
                        .with_help(error.help()),
                );
                None
            }
        }
    }

    /// The diagnostic of a parsed target (`parsed` is `Target::parse(text)`).
    fn target(
        &mut self,
        text: &Spanned<Cow<'_, str>>,
        parsed: Result<Target, TargetError>,
    ) -> Option<Target> {
        match parsed {
            Ok(target) => Some(target),
            Err(error) => {
                let (code, help) = match &error {
                    TargetError::UnknownPlaceholder { suggestion, .. } => (
                        Code::UnknownPlaceholder,
                        match suggestion {
                            Some(s) => format!("did you mean `{{{s}}}`? placeholders are {{account}} {{name}} {{session}} {{partition}} {{principal_id}}"),
                            None => "placeholders are {account} {name} {session} {partition} {principal_id}".to_owned(),
                        },
                    ),
                    TargetError::Brace { .. } => (
                        Code::TemplateSyntax,
                        "placeholders are written {name}; braces are not allowed elsewhere".to_owned(),
                    ),
                    TargetError::Invalid(_) => (
                        Code::InvalidTarget,
                        "a target is an email (alice@example.com), a UUID or a handle (alice.smith)".to_owned(),
                    ),
                };
                self.diags.push(
                    Diagnostic::error(code, text.span, error.to_string())
                        .with_label("this target")
                        .with_help(help),
                );
                None
            }
        }
    }

    fn expr(&mut self, expr: &Expr) -> Option<Condition> {
        Some(match expr {
            Expr::Or(parts) | Expr::And(parts) => {
                let compiled: Vec<Option<Condition>> = parts.iter().map(|p| self.expr(p)).collect();
                let compiled: Box<[Condition]> = compiled.into_iter().collect::<Option<_>>()?;
                if matches!(expr, Expr::Or(_)) {
                    Condition::Any(compiled)
                } else {
                    Condition::All(compiled)
                }
            }
            Expr::Not(inner) => Condition::Not(Box::new(self.expr(inner)?)),
            Expr::Compare(cmp) => {
                let test = match (cmp.operator.node, &cmp.operand) {
                    (Operator::In, Operand::List(items)) => {
                        Test::In(items.node.iter().map(|s| (*s.node).into()).collect())
                    }
                    (Operator::Eq, o) => Test::Eq((*one(o)?.node).into()),
                    (Operator::Ne, o) => Test::Ne((*one(o)?.node).into()),
                    (Operator::Matches, o) => {
                        let s = one(o)?;
                        let compiled = shared(&mut self.globs, &s.node, condition::compile_glob);
                        match compiled {
                            Ok(g) => Test::Glob(g),
                            Err(e) => {
                                self.diags.push(
                                    Diagnostic::error(Code::InvalidGlob, s.span, e.to_string())
                                        .with_label("this glob")
                                        .with_help(
                                            "globs use * ? [abc] {a,b}; escape a literal with \\\\",
                                        ),
                                );
                                return None;
                            }
                        }
                    }
                    (Operator::Regex, o) => {
                        let s = one(o)?;
                        let compiled = shared(&mut self.regexes, &s.node, condition::compile_regex);
                        match compiled {
                            Ok(r) => Test::Regex(r),
                            Err(e) => {
                                self.diags.push(
                                    Diagnostic::error(Code::InvalidRegex, s.span, e.to_string())
                                        .with_label("this regex")
                                        .with_help("regexes use the `regex` crate's syntax; anchor with ^…$ to match the whole value"),
                                );
                                return None;
                            }
                        }
                    }
                    (Operator::In, Operand::Str(_)) => return None,
                };
                Condition::Compare {
                    attribute: cmp.attribute.node,
                    test,
                }
            }
        })
    }

    fn test(&mut self, org: OrgId, decl: &ast::TestDecl) -> Option<TestCase> {
        let parsed = match &decl.user_id {
            Some(uid) => CallerIdentity::parse(&decl.arn.node, &uid.node),
            None => CallerIdentity::parse_arn(&decl.arn.node),
        };
        match parsed {
            Ok(identity) => Some(TestCase {
                org,
                identity,
                region: decl.region.as_ref().map(|r| r.node.clone().into_owned()),
                expect: decl.expect.node.clone(),
                span: decl.span,
            }),
            Err(error) => {
                self.diags.push(
                    Diagnostic::error(Code::InvalidTestCaller, decl.arn.span, format!("test caller is not a caller identity: {error}"))
                        .with_label("this caller")
                        .with_help("test callers are ARNs STS returns: user, assumed-role/ROLE/SESSION, federated-user or root"),
                );
                None
            }
        }
    }
}

/// The operand's one string (`None` for a list).
fn one<'a, 's>(operand: &'a Operand<'s>) -> Option<&'a Spanned<Cow<'s, str>>> {
    match operand {
        Operand::Str(s) => Some(s),
        Operand::List(_) => None,
    }
}

fn pattern_warning(warning: &PatternWarning, text: &Spanned<Cow<'_, str>>) -> Diagnostic {
    match warning {
        PatternWarning::RolePathIgnored { path } => Diagnostic::warning(
            Code::RolePathIgnored,
            text.span,
            format!("role path `{path}` is ignored: STS never reports a role's path"),
        )
        .with_label("path dropped")
        .with_help("role names are unique in an account; write the role without its path"),
        PatternWarning::UserWildcardCrossesPath => Diagnostic::warning(
            Code::UserWildcardCrossesPath,
            text.span,
            "a wildcard in the middle of a user pattern also matches `/`, so it matches users in other paths too",
        )
        .with_label("this wildcard can span path segments")
        .with_help("end the pattern with `/*` for everything under a path (user/eng/*), or add a condition such as `path == \"/eng/\"`"),
    }
}

/// The compiled form of `source` from `cache`, compiled and kept on first use,
/// so rules with the same regex or glob share one compiled matcher.
fn shared<T, E>(
    cache: &mut FxHashMap<Box<str>, Arc<T>>,
    source: &str,
    compile: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Arc<T>, E> {
    if let Some(compiled) = cache.get(source) {
        return Ok(Arc::clone(compiled));
    }
    let compiled = Arc::new(compile(source)?);
    cache.insert(source.into(), Arc::clone(&compiled));
    Ok(compiled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::source::SourceId;

    /// A compiled policy keeps org ids, literal targets and patterns written
    /// as normalised as ranges of its source (no copy each); the rest keep
    /// their own text.
    #[test]
    fn values_written_as_kept_are_ranges_of_the_source() {
        let text = "org \"o-1\" {\n\
            \x20 map \"arn:aws:sts::123456789012:assumed-role/a\" to \"a@example.com\"\n\
            \x20 map \"arn:aws:iam::123456789012:role/b\" to \"{session}@example.com\"\n\
            }\n";
        let mut sources = SourceMap::new();
        sources.add("t.policy", text);
        let compiled = compile(&sources).unwrap();
        assert!(compiled.orgs.iter().all(|org| org.id.is_range()));
        let [written, rewritten] = &compiled.rules[..] else {
            panic!("two rules")
        };
        assert!(written.pattern.text_is_shared());
        assert!(matches!(&written.effect, Effect::Map(Target::Literal(t)) if t.is_range()));
        // `role/b` is rewritten to `assumed-role/b`, which is not written there.
        assert!(!rewritten.pattern.text_is_shared());
        assert!(matches!(
            &rewritten.effect,
            Effect::Map(Target::Template(_))
        ));
    }

    /// A policy large enough to be prepared on several threads: every rule's
    /// pattern and target (good ones and bad ones, maps and denies) come
    /// back in declaration order, as one thread would have made them.
    #[test]
    fn parallel_preparation_keeps_declaration_order() {
        let mut text = String::from("org \"o\" {\n");
        for i in 0..PARALLEL_MIN_RULES + 1_234 {
            match i % 4 {
                0 => text.push_str(&format!(
                    "map \"arn:aws:sts::{:012}:assumed-role/r{i}\" to \"u{i}@example.com\"\n",
                    i
                )),
                1 => text.push_str(&format!("deny \"arn:aws:iam::*:user/u{i}\"\n")),
                2 => text.push_str(&format!("map \"arn:aws:s3:::b{i}\" to \"{{bad{i}}}\"\n")),
                _ => text.push_str(&format!(
                    "map \"arn:aws:iam::{:012}:role/p/r{i}\" to \"{{session}}-{i}\"\n",
                    i
                )),
            }
        }
        text.push('}');
        let file = crate::policy::fast::parse(SourceId(0), &text).expect("the fast path reads it");
        let decls: Vec<&ast::RuleDecl> = file.orgs.iter().flat_map(|o| o.rules.iter()).collect();
        let shared = [SharedStr::from(text.as_str())];
        let parts = prepare(&decls, &shared);
        if std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get) > 1 {
            assert!(parts.len() > 1, "prepared on one thread");
        }
        let parallel: Vec<Prepared> = parts.into_iter().flatten().collect();
        assert_eq!(parallel.len(), decls.len());
        for (decl, got) in decls.iter().zip(&parallel) {
            let want = Prepared::of(decl, &shared);
            assert_eq!(format!("{:?}", got.pattern), format!("{:?}", want.pattern));
            assert_eq!(format!("{:?}", got.target), format!("{:?}", want.target));
        }
    }
}
