//! Compilation: typed AST → rules with compiled patterns, conditions and
//! targets, ranked by precedence and indexed. Every semantic error is reported
//! with its span, all in one pass.

use std::borrow::Cow;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use crate::condition::{self, Caller, Condition, Operator, Test};
use crate::decision::{self, Decision, Verdict};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::identity::CallerIdentity;
use crate::index::Index;
use crate::pattern::{Pattern, PatternError, PatternWarning};
use crate::policy::ast::{self, EffectDecl, Expectation, Expr, Operand};
use crate::source::{SourceMap, Span, Spanned};
use crate::target::{Target, TargetError};

/// Index of an org in a [`CompiledPolicy`].
pub type OrgId = u32;

/// What a rule does when it wins.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Map the caller to the rendered target.
    Map(Target),
    /// Refuse the caller.
    Deny,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The org the rule belongs to.
    pub org: OrgId,
    /// Map or deny.
    pub effect: Effect,
    /// The normalised pattern.
    pub pattern: Pattern,
    /// The `when` condition.
    pub condition: Option<Box<Condition>>,
    /// The `as NAME`, if any.
    pub name: Option<Box<str>>,
    /// Where the rule is written.
    pub span: Span,
    /// Declaration order across all sources.
    pub decl: u32,
}

/// A compiled `test` block.
#[derive(Debug, Clone)]
pub struct TestCase {
    /// The org whose rules it tests.
    pub org: OrgId,
    /// The caller.
    pub identity: CallerIdentity,
    /// The signing region, if given.
    pub region: Option<String>,
    /// What it expects.
    pub expect: Expectation,
    /// Where it is written.
    pub span: Span,
}

/// One org's rules and tests.
#[derive(Debug, Clone)]
pub struct Org {
    /// The org id as written.
    pub id: Box<str>,
    /// Its rules (indices into [`CompiledPolicy::rules`]), in declaration order.
    pub rules: Vec<u32>,
    /// Its tests, in declaration order.
    pub tests: Vec<TestCase>,
}

/// A compiled, immutable, `Send + Sync` policy.
#[derive(Debug)]
pub struct CompiledPolicy {
    sources: SourceMap,
    orgs: Vec<Org>,
    org_ids: FxHashMap<Box<str>, OrgId>,
    /// Rules sorted by precedence within each org: a lower index wins.
    rules: Vec<Rule>,
    index: Index,
    warnings: Vec<Diagnostic>,
}

impl CompiledPolicy {
    /// Parses, lowers and compiles every source. Errors are collected from
    /// all sources; warnings are kept on the compiled policy.
    pub fn compile(sources: &SourceMap) -> Result<CompiledPolicy, Diagnostics> {
        let (files, mut diags) = crate::policy::parse_all(sources);
        let mut compiler = Compiler {
            sources,
            diags: &mut diags,
            orgs: Vec::new(),
            org_ids: FxHashMap::default(),
            rules: Vec::new(),
            names: FxHashMap::default(),
            regexes: FxHashMap::default(),
            globs: FxHashMap::default(),
        };
        for (_, file) in &files {
            compiler.file(file);
        }
        let Compiler {
            orgs,
            org_ids,
            rules,
            ..
        } = compiler;
        diags.sort_by_key(|d| (d.span.source, d.span.start));
        if diags.iter().any(Diagnostic::is_error) {
            return Err(Diagnostics(diags));
        }
        Ok(CompiledPolicy::assemble(
            sources.clone(),
            orgs,
            org_ids,
            rules,
            diags,
        ))
    }

    /// Compiles one text (handy for tests and embedding).
    pub fn compile_str(name: &str, text: &str) -> Result<CompiledPolicy, Diagnostics> {
        let mut sources = SourceMap::new();
        sources.add(name, text);
        CompiledPolicy::compile(&sources)
    }

    fn assemble(
        sources: SourceMap,
        mut orgs: Vec<Org>,
        org_ids: FxHashMap<Box<str>, OrgId>,
        rules: Vec<Rule>,
        warnings: Vec<Diagnostic>,
    ) -> CompiledPolicy {
        // Order rules by precedence; org lists keep declaration order.
        let mut order: Vec<u32> = (0..rules.len() as u32).collect();
        order.sort_by_cached_key(|&i| rules.get(i as usize).map(decision::precedence_key));
        let mut new_index = vec![0u32; rules.len()];
        for (new, &old) in order.iter().enumerate() {
            if let Some(slot) = new_index.get_mut(old as usize) {
                *slot = new as u32;
            }
        }
        let mut slots: Vec<Option<Rule>> = rules.into_iter().map(Some).collect();
        let rules: Vec<Rule> = order
            .iter()
            .filter_map(|&old| slots.get_mut(old as usize).and_then(Option::take))
            .collect();
        for org in &mut orgs {
            for r in &mut org.rules {
                *r = new_index.get(*r as usize).copied().unwrap_or(*r);
            }
            org.rules
                .sort_by_key(|&r| rules.get(r as usize).map_or(0, |rule| rule.decl));
            org.rules.shrink_to_fit();
        }
        let index = Index::build(&rules, orgs.len());
        CompiledPolicy {
            sources,
            orgs,
            org_ids,
            rules,
            index,
            warnings,
        }
    }

    /// The sources it was compiled from.
    pub fn sources(&self) -> &SourceMap {
        &self.sources
    }

    /// Warnings found while compiling.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Every rule, in precedence order within each org.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Every org.
    pub fn orgs(&self) -> &[Org] {
        &self.orgs
    }

    /// The org with this id.
    pub fn org(&self, id: &str) -> Option<(OrgId, &Org)> {
        let &org_id = self.org_ids.get(id)?;
        Some((org_id, self.orgs.get(org_id as usize)?))
    }

    /// A rule's id: its `as` name, else `file:line`.
    pub fn rule_id<'a>(&'a self, rule: &'a Rule) -> Cow<'a, str> {
        match &rule.name {
            Some(name) => Cow::Borrowed(name),
            None => match self.sources.locate(rule.span) {
                Some((file, line, _)) => Cow::Owned(format!("{file}:{line}")),
                None => Cow::Borrowed("?"),
            },
        }
    }

    /// Decides for a caller in an org with the indexed matcher. An unknown
    /// org has no rules: [`Verdict::NoMatch`].
    pub fn evaluate<'p>(&'p self, org: &str, caller: &Caller<'_>) -> Verdict<'p> {
        let Some(&org_id) = self.org_ids.get(org) else {
            return Verdict::NoMatch;
        };
        let mut candidates: SmallVec<[u32; 16]> = SmallVec::new();
        self.index
            .candidates(org_id, caller.identity, &mut candidates);
        // Match each candidate once: precedence walks the matches twice.
        let matched: SmallVec<[&Rule; 8]> = candidates
            .iter()
            .filter_map(|&i| self.rules.get(i as usize))
            .filter(|rule| rule.pattern.matches_fitting(caller.identity))
            .collect();
        decision::resolve(matched.iter().copied(), caller)
    }

    /// Decides with the reference matcher: SPEC §2–3 written literally.
    pub fn evaluate_reference<'p>(&'p self, org: &str, caller: &Caller<'_>) -> Verdict<'p> {
        match self.org(org) {
            Some((_, org)) => crate::reference::evaluate(&self.rules, org, caller),
            None => Verdict::NoMatch,
        }
    }

    /// Decides and returns an owned, self-explaining decision.
    pub fn decide(&self, org: &str, caller: &Caller<'_>) -> Decision {
        self.evaluate(org, caller).to_decision(self)
    }

    /// Statistics about the compiled form.
    pub fn stats(&self) -> crate::index::IndexStats {
        self.index.stats()
    }
}

struct Compiler<'a> {
    sources: &'a SourceMap,
    diags: &'a mut Vec<Diagnostic>,
    orgs: Vec<Org>,
    org_ids: FxHashMap<Box<str>, OrgId>,
    rules: Vec<Rule>,
    /// `(org, name)` → span of the first rule with that name.
    names: FxHashMap<(OrgId, Box<str>), Span>,
    /// Compiled regexes and globs by source, shared between rules.
    regexes: FxHashMap<Box<str>, Arc<regex::Regex>>,
    globs: FxHashMap<Box<str>, Arc<globset::GlobMatcher>>,
}

impl Compiler<'_> {
    fn file(&mut self, file: &ast::File) {
        for org in &file.orgs {
            let org_id = self.org_id(&org.id.node);
            for rule in &org.rules {
                if let Some(rule) = self.rule(org_id, rule) {
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

    fn org_id(&mut self, id: &str) -> OrgId {
        if let Some(&existing) = self.org_ids.get(id) {
            return existing;
        }
        let org_id = self.orgs.len() as OrgId;
        self.orgs.push(Org {
            id: id.into(),
            rules: Vec::new(),
            tests: Vec::new(),
        });
        self.org_ids.insert(id.into(), org_id);
        org_id
    }

    fn rule(&mut self, org: OrgId, decl: &ast::RuleDecl) -> Option<Rule> {
        let pattern = self.pattern(&decl.pattern);
        // `None`: the condition had errors; `Some(None)`: there is none.
        let condition = match &decl.condition {
            Some(expr) => self.expr(expr).map(Some),
            None => Some(None),
        };
        let effect = match &decl.effect {
            EffectDecl::Map { target } => self.target(target).map(Effect::Map),
            EffectDecl::Deny => Some(Effect::Deny),
        };
        let name = decl.name.as_ref().map(|n| n.node.as_str().into());
        if let Some(n) = &decl.name
            && let Some(first) = self.names.get(&(org, n.node.as_str().into()))
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
            self.names.insert((org, n.node.as_str().into()), n.span);
        }
        let (pattern, condition, effect) = (pattern?, condition?, effect?);
        if !decl.valid {
            return None;
        }
        let org_rules = &mut self.orgs.get_mut(org as usize)?.rules;
        org_rules.push(self.rules.len() as u32);
        Some(Rule {
            org,
            effect,
            pattern,
            condition: condition.map(Box::new),
            name,
            span: decl.span,
            decl: self.rules.len() as u32,
        })
    }

    fn pattern(&mut self, text: &Spanned<String>) -> Option<Pattern> {
        match Pattern::parse(&text.node) {
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

    fn target(&mut self, text: &Spanned<String>) -> Option<Target> {
        match Target::parse(&text.node) {
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
                let one = |operand: &Operand| match operand {
                    Operand::Str(s) => Some(s.clone()),
                    Operand::List(_) => None,
                };
                let test = match (cmp.operator.node, &cmp.operand) {
                    (Operator::In, Operand::List(items)) => {
                        Test::In(items.node.iter().map(|s| s.node.as_str().into()).collect())
                    }
                    (Operator::Eq, o) => Test::Eq(one(o)?.node.into()),
                    (Operator::Ne, o) => Test::Ne(one(o)?.node.into()),
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
                region: decl.region.as_ref().map(|r| r.node.clone()),
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

fn pattern_warning(warning: &PatternWarning, text: &Spanned<String>) -> Diagnostic {
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
