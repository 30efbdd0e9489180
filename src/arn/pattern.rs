//! ARN patterns (docs/semantics.md §2): parsing, normalisation, the compile errors for
//! patterns that can match no caller, and IAM `ArnLike` matching.
//!
//! A pattern is an ARN that may hold `*` and `?`. It matches a caller when it
//! matches at least one of the caller's forms (raw ARN; for an assumed role
//! also `…:assumed-role/ROLE` and `…:iam::A:role/ROLE`), section by section.
//! A role-name pattern (normalised `…:sts::A:assumed-role/NAME`) is compared
//! with the session-less form only ([`Pattern::names_role`]).

use std::borrow::Cow;
use std::fmt;

use crate::arn::identity::{CallerIdentity, Form, FormKind, is_name_byte, is_path_byte};
use crate::arn::partition::{Partition, PartitionNames};
use crate::arn::wildcard;
use crate::text::{SharedStr, written_at};

/// The longest pattern accepted.
pub const MAX_PATTERN_LEN: usize = 2048;

/// A pattern that can match no caller, or is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The pattern is empty.
    #[error("the pattern is empty")]
    Empty,
    /// Over `MAX_PATTERN_LEN` (2 KiB).
    #[error("the pattern is {0} bytes long; at most {MAX_PATTERN_LEN} are accepted")]
    TooLong(usize),
    /// Fewer than six sections.
    #[error(
        "a pattern has six `:`-separated sections (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE); this one has {0}"
    )]
    Sections(usize),
    /// The first section cannot match `arn`.
    #[error("the first section `{0}` cannot match `arn`")]
    Prefix(String),
    /// A partition no caller has.
    #[error(
        "partition `{0}` matches none of {names}",
        names = PartitionNames
    )]
    Partition(String),
    /// A service other than `iam`, `sts` or a wildcard that covers one of them.
    #[error("service `{0}` can match no caller: callers are `iam` or `sts` ARNs")]
    Service(String),
    /// A region section that cannot be empty.
    #[error("region `{0}` can match no caller: caller ARNs have an empty region")]
    Region(String),
    /// An account section that cannot match 12 digits.
    #[error("account `{0}` can match no caller: accounts are exactly 12 digits")]
    Account(String),
    /// A resource of no caller kind.
    #[error("resource `{resource}` can match no caller: {reason}")]
    Resource {
        /// The resource section.
        resource: String,
        /// Why it cannot match.
        reason: String,
    },
    /// `role/PATH/NAME` with a wildcard: STS never reports role paths.
    #[error(
        "role pattern `{0}` has a path and a wildcard: STS never reports a role's path, so it cannot be decided which roles this means"
    )]
    RolePathWildcard(String),
}

impl PatternError {
    /// A line of advice for the policy author.
    pub fn help(&self) -> &'static str {
        match self {
            PatternError::Empty | PatternError::Sections(_) | PatternError::Prefix(_) => {
                "write a full ARN, e.g. arn:aws:sts::123456789012:assumed-role/ROLE"
            }
            PatternError::TooLong(_) => "shorten the pattern",
            PatternError::Partition(_) => "use a known partition such as `aws`, or `*`",
            PatternError::Service(_) => {
                "use `sts` for assumed roles and federated users, `iam` for users, roles and root"
            }
            PatternError::Region(_) => "leave the region empty: arn:aws:sts::ACCOUNT:…",
            PatternError::Account(_) => "write the 12-digit account id, or `*`",
            PatternError::Resource { .. } => {
                "callers are user/[PATH/]NAME, root, assumed-role/ROLE[/SESSION], role/ROLE or federated-user/NAME"
            }
            PatternError::RolePathWildcard(_) => {
                "name the role without its path (role/NAME), or match on a name prefix (assumed-role/ci-*)"
            }
        }
    }
}

/// Something a pattern means that its author may not expect (lint material).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PatternWarning {
    /// A literal role path was dropped: STS never reports it.
    RolePathIgnored {
        /// The dropped path.
        path: String,
    },
    /// A `*` in a user pattern can span `/` and so match users in deeper paths.
    UserWildcardCrossesPath,
}

/// How normalisation rewrote the pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rewrite {
    /// Left as written.
    None,
    /// `iam::A:role/[PATH/]NAME` became `sts::A:assumed-role/NAME`.
    RoleToSessionless,
    /// `sts::A:assumed-role/NAME/*` became `sts::A:assumed-role/NAME`.
    SessionWildcardToSessionless,
    /// `*::A:assumed-role/NAME` (a wildcard service) became `sts::A:assumed-role/NAME`.
    ServiceToSts,
}

/// A literal section value, or a wildcard section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Literal<T> {
    /// The section has no wildcard: this is its value.
    Exact(T),
    /// The section holds a wildcard.
    Wild,
}

/// A parsed, normalised pattern. 40 bytes: it sits in every rule.
///
/// Equal patterns compare and hash equal whether their text is their own or
/// a range of the policy source it was written in.
#[derive(Clone)]
pub struct Pattern {
    /// The normalised text is `text[text_start..text_start + text_len]`:
    /// either a text of its own, or — for a pattern compiled from a policy
    /// and written there exactly as normalised (most are) — the policy
    /// source itself, which the compiled policy keeps anyway
    /// ([`Pattern::parse_in`]): no copy per rule. (`text_len` is at most
    /// [`MAX_PATTERN_LEN`].)
    text: SharedStr,
    text_start: u32,
    text_len: u16,
    /// Byte offsets (in the normalised text) where the account and the
    /// resource sections start, after the fourth and the fifth `:`.
    account_start: u16,
    resource_start: u16,
    /// Where the partition, service and region sections start, when each
    /// is below 256 (always, but for very long wildcard sections; 0: the
    /// first four sections are then split out of what precedes the account,
    /// which holds no other `:`). Three bytes the struct had spare: the
    /// reference matcher compares the service of every rule it scans.
    head_starts: [u8; 3],
    literal_len: u16,
    /// Bit `i` is set when section `i` holds a wildcard (`matches` compares
    /// the other sections with plain equality).
    wild_sections: u8,
    /// Bit `kind.index()` is set when the pattern may match a form of that
    /// kind (see [`Pattern::fits_form_kind`]).
    kinds: u8,
    /// A *role-name pattern*: the normalised resource is `assumed-role/NAME`
    /// (NAME without `/`). It matches an assumed role iff the role name
    /// matches NAME, so it is compared with the session-less form only, never
    /// with the raw `assumed-role/ROLE/SESSION` form, where a `*` could reach
    /// through the `/` into the caller-chosen session name (docs/semantics.md §2).
    /// All three spellings (`role/NAME`, `assumed-role/NAME/*`,
    /// `assumed-role/NAME`) thus match exactly the same callers.
    names_role: bool,
    rewrite: Rewrite,
    /// Behind one thin pointer (most patterns have none): 8 bytes per rule
    /// where a `Box<[_]>` or `Vec` would take 16 or 24.
    #[allow(clippy::box_collection)]
    warnings: Option<Box<Vec<PatternWarning>>>,
    /// The resource's literal head (before its first wildcard) and tail
    /// (after its last) in bytes, when it has a wildcard: matching compares
    /// them as plain bytes and runs the wildcard matcher on the rest only.
    resource_head: u16,
    resource_tail: u16,
    /// The partition, when the section is literal.
    partition: Option<Partition>,
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.as_str())
    }
}

impl Pattern {
    /// Everything but where the text is kept.
    #[allow(clippy::type_complexity)]
    fn key(
        &self,
    ) -> (
        &str,
        (u16, u16),
        u16,
        u8,
        u8,
        bool,
        Rewrite,
        &[PatternWarning],
        (u16, u16),
        Option<Partition>,
    ) {
        (
            self.as_str(),
            (self.account_start, self.resource_start),
            self.literal_len,
            self.wild_sections,
            self.kinds,
            self.names_role,
            self.rewrite,
            self.warnings(),
            (self.resource_head, self.resource_tail),
            self.partition,
        )
    }

    /// Is the text kept as a range of a larger shared text (a policy
    /// source) rather than on its own?
    #[cfg(test)]
    pub(crate) fn text_is_shared(&self) -> bool {
        self.text_start != 0 || self.text.as_str().len() != usize::from(self.text_len)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Pattern {}

impl std::hash::Hash for Pattern {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

struct Sections<'a> {
    arn: &'a str,
    partition: &'a str,
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

fn split(text: &str) -> Result<Sections<'_>, PatternError> {
    let mut parts = text.splitn(6, ':');
    let (Some(arn), Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(PatternError::Sections(text.splitn(6, ':').count()));
    };
    Ok(Sections {
        arn,
        partition,
        service,
        region,
        account,
        resource,
    })
}

impl Pattern {
    /// Parses and normalises a pattern, rejecting patterns that can match no caller.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        Pattern::parse_in(text, None, 0)
    }

    /// [`Pattern::parse`] of a pattern written in `source` from byte
    /// `start`: when it reads there exactly as normalised (most patterns are
    /// written so), its text is kept as a range of `source`, which the
    /// compiled policy keeps anyway, instead of a copy of its own.
    pub(crate) fn parse_in(
        text: &str,
        source: Option<&SharedStr>,
        start: usize,
    ) -> Result<Pattern, PatternError> {
        if text.is_empty() {
            return Err(PatternError::Empty);
        }
        if text.len() > MAX_PATTERN_LEN {
            return Err(PatternError::TooLong(text.len()));
        }
        let s = split(text)?;
        if !wildcard::matches(s.arn, "arn") {
            return Err(PatternError::Prefix(s.arn.to_owned()));
        }
        if !Partition::ALL
            .iter()
            .any(|p| wildcard::matches(s.partition, p.as_str()))
        {
            return Err(PatternError::Partition(s.partition.to_owned()));
        }
        let iam = wildcard::matches(s.service, "iam");
        let sts = wildcard::matches(s.service, "sts");
        if !iam && !sts {
            return Err(PatternError::Service(s.service.to_owned()));
        }
        if !wildcard::matches(s.region, "") {
            return Err(PatternError::Region(s.region.to_owned()));
        }
        if !account_can_match(s.account) {
            return Err(PatternError::Account(s.account.to_owned()));
        }
        let mut warnings = Vec::new();
        let (service, resource, rewrite) =
            normalise(s.service, s.resource, iam, sts, &mut warnings)?;
        check_resource(service, &resource)?;
        if resource.starts_with("user/") && user_wildcard_crosses_path(&resource) {
            warnings.push(PatternWarning::UserWildcardCrossesPath);
        }
        // Left as written unless rewritten (docs/semantics.md §2.3).
        let normalised: Cow<'_, str> = if rewrite == Rewrite::None {
            debug_assert_eq!((service, &*resource), (s.service, s.resource));
            Cow::Borrowed(text)
        } else {
            Cow::Owned([s.arn, s.partition, service, s.region, s.account, &resource].join(":"))
        };
        let len = normalised.len();
        let (text, text_start) = match source
            .and_then(|source| Some((source, written_at(source, start, &normalised)?)))
        {
            Some((source, (at, _))) => (source.clone(), at),
            None => (SharedStr::from(&*normalised), 0),
        };
        let mut colons = normalised.match_indices(':').map(|(i, _)| (i + 1) as u16);
        let mut head_starts = [0u8; 3];
        for start in &mut head_starts {
            *start = colons
                .next()
                .and_then(|at| u8::try_from(at).ok())
                .unwrap_or_default();
        }
        let (account_start, resource_start) = (
            colons.next().unwrap_or_default(),
            colons.next().unwrap_or_default(),
        );
        // INVARIANT: `split` found five `:` and the text is at most
        // MAX_PATTERN_LEN (2 KiB) long, so the offsets fit and are non-zero.
        debug_assert!(account_start > 0 && resource_start > account_start);
        let mut pattern = Pattern {
            literal_len: wildcard::literal_len(&normalised) as u16,
            text_start,
            text_len: len as u16,
            text,
            account_start,
            resource_start,
            head_starts,
            wild_sections: 0,
            kinds: 0,
            names_role: false,
            rewrite,
            warnings: (!warnings.is_empty()).then(|| Box::new(warnings)),
            resource_head: 0,
            resource_tail: 0,
            partition: None,
        };
        pattern.wild_sections = (0..6)
            .filter(|&i| wildcard::has_wildcard(pattern.section(i)))
            .fold(0, |bits, i| bits | 1 << i);
        let resource = pattern.resource().as_bytes();
        if let (Some(first), Some(last)) = (
            resource.iter().position(|b| matches!(b, b'*' | b'?')),
            resource.iter().rposition(|b| matches!(b, b'*' | b'?')),
        ) {
            let tail = resource.len() - last - 1;
            pattern.resource_head = first as u16;
            pattern.resource_tail = tail as u16;
        }
        pattern.partition = match pattern.literal_partition() {
            Literal::Exact(partition) => Some(partition),
            Literal::Wild => None,
        };
        pattern.names_role = pattern.service() == "sts"
            && pattern
                .resource()
                .strip_prefix("assumed-role/")
                .is_some_and(|name| !name.is_empty() && !name.contains('/'));
        pattern.kinds = FormKind::ALL
            .iter()
            .filter(|&&kind| {
                may_match_form_kind(pattern.service(), pattern.resource(), kind)
                    && slashes_fit(kind, pattern.resource())
                    && !(pattern.names_role && kind == FormKind::AssumedRole)
            })
            .fold(0, |bits, kind| bits | 1 << kind.index());
        Ok(pattern)
    }

    /// Does the resource section match `text` (`own`: the pattern's bytes)?
    /// A wildcard resource is `HEAD MIDDLE TAIL` with a literal head and
    /// tail: those are compared as bytes, and only the middle (which starts
    /// and ends with a wildcard) goes through the wildcard matcher.
    #[inline(always)]
    fn resource_matches_in(&self, own: &[u8], text: &str) -> bool {
        // As bytes: slicing a `str` checks char boundaries on every cut.
        let p = own
            .get(usize::from(self.resource_start)..)
            .unwrap_or_default();
        let t = text.as_bytes();
        if self.wild_sections & (1 << 5) == 0 {
            return same_bytes(Some(p), Some(t));
        }
        let (head, tail) = (
            usize::from(self.resource_head),
            usize::from(self.resource_tail),
        );
        if t.len() < head + tail {
            return false;
        }
        let (p_end, t_end) = (p.len() - tail, t.len() - tail);
        same_bytes(p.get(..head), t.get(..head))
            && same_bytes(p.get(p_end..), t.get(t_end..))
            && match (p.get(head..p_end), t.get(head..t_end)) {
                (Some(middle), Some(rest)) => wildcard::matches_bytes(middle, rest),
                _ => false,
            }
    }

    /// The normalised text as bytes (no char-boundary checks: matching
    /// compares bytes).
    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        self.text.bytes_at(self.text_start, self.text_len)
    }

    /// Does the account section match a caller's account (`own`: the
    /// pattern's bytes)? A literal one is 12 digits (`parse` checks it),
    /// compared as such.
    #[inline(always)]
    fn account_matches_in(&self, own: &[u8], account: &str) -> bool {
        let (start, end) = (
            usize::from(self.account_start),
            usize::from(self.resource_start).saturating_sub(1),
        );
        let own = own.get(start..end).unwrap_or_default();
        if self.wild_sections & (1 << 4) != 0 {
            return wildcard::matches_bytes(own, account.as_bytes());
        }
        match (
            <&[u8; 12]>::try_from(own),
            <&[u8; 12]>::try_from(account.as_bytes()),
        ) {
            (Ok(own), Ok(account)) => own == account,
            _ => own == account.as_bytes(),
        }
    }

    /// Does the partition section match a caller's partition?
    fn partition_matches(&self, partition: Partition) -> bool {
        match self.partition {
            Some(own) => own == partition,
            None => wildcard::matches(self.partition(), partition.as_str()),
        }
    }

    /// [`Pattern::matches_form`] for a form whose kind the pattern fits
    /// ([`Pattern::fits_form_kind`], which the indexed matcher has checked):
    /// the kind already settles the service (a fitting kind's service matches
    /// the pattern's) and keeps a role-name pattern off the raw assumed-role
    /// form, so only the resource, account, partition and any wildcard
    /// `arn`/region section are compared.
    pub fn matches_fitting_form(
        &self,
        partition: Partition,
        account: &str,
        form: &Form<'_>,
    ) -> bool {
        debug_assert!(self.fits_form_kind(form.kind));
        self.sections_match(partition, account, form)
    }

    /// Every section but the service against a form: the resource, account
    /// and partition, and any wildcard `arn` or region section (a literal one
    /// is `arn` or empty: `parse` rejects any other).
    fn sections_match(&self, partition: Partition, account: &str, form: &Form<'_>) -> bool {
        let own = self.bytes();
        self.resource_matches_in(own, form.resource)
            && self.account_matches_in(own, account)
            && self.partition_matches(partition)
            && (self.wild_sections & (1 << 3) == 0 || wildcard::matches(self.region(), ""))
            && (self.wild_sections & 1 == 0 || wildcard::matches(self.arn_section(), "arn"))
    }

    /// Does section `i` of the pattern match `text`?
    fn section_matches(&self, i: usize, text: &str) -> bool {
        if self.wild_sections & (1 << i) == 0 {
            self.section(i) == text
        } else {
            wildcard::matches(self.section(i), text)
        }
    }

    /// The normalised pattern text.
    pub fn as_str(&self) -> &str {
        self.text.str_at(self.text_start, self.text_len)
    }

    /// The number of literal (non-wildcard) characters, the first specificity key.
    pub fn literal_len(&self) -> usize {
        usize::from(self.literal_len)
    }

    /// How normalisation rewrote the pattern.
    pub fn rewrite(&self) -> Rewrite {
        self.rewrite
    }

    /// Is this a role-name pattern (normalised resource `assumed-role/NAME`,
    /// NAME without `/`)? It matches an assumed role through its role name
    /// only: the raw `assumed-role/ROLE/SESSION` form is never compared
    /// (docs/semantics.md §2).
    pub fn names_role(&self) -> bool {
        self.names_role
    }

    /// Things worth a lint warning.
    pub fn warnings(&self) -> &[PatternWarning] {
        self.warnings.as_deref().map_or(&[], Vec::as_slice)
    }

    fn section(&self, i: usize) -> &str {
        let account = usize::from(self.account_start);
        let text = self.as_str();
        // Section `i` of the first four runs from `starts[i]` to the `:`
        // before `starts[i + 1]`.
        let [partition, service, region] = self.head_starts.map(usize::from);
        let starts = [0, partition, service, region, account];
        if i < 4
            && partition != 0
            && service != 0
            && region != 0
            && let (Some(&start), Some(&next)) = (starts.get(i), starts.get(i + 1))
        {
            return text.get(start..next - 1).unwrap_or_default();
        }
        match i {
            0..=3 => text
                .get(..account.saturating_sub(1))
                .and_then(|head| head.split(':').nth(i))
                .unwrap_or_default(),
            4 => self.account(),
            _ => self.resource(),
        }
    }

    /// The first section (normally `arn`).
    pub fn arn_section(&self) -> &str {
        self.section(0)
    }
    /// The partition section.
    pub fn partition(&self) -> &str {
        self.section(1)
    }
    /// The service section.
    pub fn service(&self) -> &str {
        self.section(2)
    }
    /// The region section.
    pub fn region(&self) -> &str {
        self.section(3)
    }
    /// The account section.
    pub fn account(&self) -> &str {
        let (account, resource) = (
            usize::from(self.account_start),
            usize::from(self.resource_start),
        );
        self.as_str()
            .get(account..resource.saturating_sub(1))
            .unwrap_or_default()
    }
    /// The resource section.
    pub fn resource(&self) -> &str {
        self.as_str()
            .get(usize::from(self.resource_start)..)
            .unwrap_or_default()
    }

    /// The partition when the section is literal.
    pub fn literal_partition(&self) -> Literal<Partition> {
        let p = self.partition();
        match p.parse() {
            Ok(part) => Literal::Exact(part),
            Err(_) => Literal::Wild,
        }
    }

    /// The account when the section is literal.
    pub fn literal_account(&self) -> Literal<&str> {
        let a = self.account();
        if wildcard::has_wildcard(a) {
            Literal::Wild
        } else {
            Literal::Exact(a)
        }
    }

    /// Could this pattern match some form of kind `kind`? Conservative: a
    /// `true` may still match nothing, a `false` is certain.
    pub fn may_match_form_kind(&self, kind: FormKind) -> bool {
        may_match_form_kind(self.service(), self.resource(), kind)
    }

    /// Could this pattern match some form of kind `kind`? Sharper than
    /// [`Pattern::may_match_form_kind`] (it also counts the `/` a form of the
    /// kind has), and still certain when `false`. The index files a rule
    /// only under these kinds.
    pub fn fits_form_kind(&self, kind: FormKind) -> bool {
        self.kinds & (1 << kind.index()) != 0
    }

    /// [`Pattern::matches`], but forms of kinds the pattern cannot fit are
    /// not compared. (The indexed matcher makes the same two tests,
    /// [`Pattern::fits_form_kind`] then [`Pattern::matches_form`], on the one
    /// form whose index key found the rule.)
    pub fn matches_fitting(&self, identity: &CallerIdentity) -> bool {
        identity.forms().any(|form| {
            self.fits_form_kind(form.kind)
                && self.matches_form(identity.partition(), identity.account(), &form)
        })
    }

    /// Does this pattern match one form of a caller (partition and account are the caller's)?
    /// A role-name pattern never matches the raw assumed-role form
    /// ([`Pattern::names_role`]).
    pub fn matches_form(&self, partition: Partition, account: &str, form: &Form<'_>) -> bool {
        if self.names_role && form.kind == FormKind::AssumedRole {
            return false;
        }
        self.section_matches(2, form.service().as_str())
            && self.sections_match(partition, account, form)
    }

    /// docs/semantics.md §2's definition: does the pattern match at least one form of the caller?
    pub fn matches(&self, identity: &CallerIdentity) -> bool {
        identity
            .forms()
            .any(|form| self.matches_form(identity.partition(), identity.account(), &form))
    }
}

/// Can an account glob match some 12-digit string?
fn account_can_match(account: &str) -> bool {
    if !account
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'*' || b == b'?')
    {
        return false;
    }
    let fixed = account.bytes().filter(|&b| b != b'*').count();
    if account.contains('*') {
        fixed <= 12
    } else {
        fixed == 12
    }
}

/// Applies the normalisation of docs/semantics.md §2 to service and resource:
/// `role/NAME` (a literal path dropped), `assumed-role/NAME/*` and
/// `assumed-role/NAME` are all written `sts` + `assumed-role/NAME`, for a
/// literal or a wildcard NAME without `/`.
fn normalise<'a>(
    service: &'a str,
    resource: &'a str,
    iam: bool,
    sts: bool,
    warnings: &mut Vec<PatternWarning>,
) -> Result<(&'a str, Cow<'a, str>, Rewrite), PatternError> {
    if iam && let Some(rest) = resource.strip_prefix("role/") {
        let (path, name) = match rest.rsplit_once('/') {
            Some((path, name)) => (Some(path), name),
            None => (None, rest),
        };
        if path.is_some() && wildcard::has_wildcard(rest) {
            return Err(PatternError::RolePathWildcard(resource.to_owned()));
        }
        check_role_name(resource, name)?;
        if let Some(path) = path {
            warnings.push(PatternWarning::RolePathIgnored {
                path: format!("/{path}/"),
            });
        }
        return Ok((
            "sts",
            Cow::Owned(["assumed-role/", name].concat()),
            Rewrite::RoleToSessionless,
        ));
    }
    if sts && let Some(rest) = resource.strip_prefix("assumed-role/") {
        if let Some(name) = rest.strip_suffix("/*")
            && !name.contains('/')
            && !name.is_empty()
        {
            check_role_name(resource, name)?;
            return Ok((
                "sts",
                Cow::Owned(["assumed-role/", name].concat()),
                Rewrite::SessionWildcardToSessionless,
            ));
        }
        if !rest.contains('/') && !rest.is_empty() {
            check_role_name(resource, rest)?;
            let rewrite = if service == "sts" {
                Rewrite::None
            } else {
                Rewrite::ServiceToSts
            };
            return Ok(("sts", Cow::Borrowed(resource), rewrite));
        }
    }
    Ok((service, Cow::Borrowed(resource), Rewrite::None))
}

/// A literal role name must be valid; a wildcard one must be able to match
/// some valid name (name bytes besides the wildcards, at most 64 characters
/// besides the `*`s).
fn check_role_name(resource: &str, name: &str) -> Result<(), PatternError> {
    if !wildcard::has_wildcard(name) {
        return check_name(resource, "role", name);
    }
    let fixed = name.bytes().filter(|&b| b != b'*').count();
    if fixed <= 64
        && name
            .bytes()
            .all(|b| b == b'*' || b == b'?' || is_name_byte(b))
    {
        Ok(())
    } else {
        Err(PatternError::Resource {
            resource: resource.to_owned(),
            reason: format!(
                "`{name}` can match no role name (1 to 64 of A-Z a-z 0-9 + = , . @ _ -)"
            ),
        })
    }
}

fn check_name(resource: &str, what: &str, name: &str) -> Result<(), PatternError> {
    if (1..=64).contains(&name.len()) && name.bytes().all(is_name_byte) {
        Ok(())
    } else {
        Err(PatternError::Resource {
            resource: resource.to_owned(),
            reason: format!(
                "`{name}` is not a valid {what} name (1 to 64 of A-Z a-z 0-9 + = , . @ _ -)"
            ),
        })
    }
}

/// Rejects resources of no caller kind, and literal resources that no caller has.
fn check_resource(service: &str, resource: &str) -> Result<(), PatternError> {
    let err = |reason: String| PatternError::Resource {
        resource: resource.to_owned(),
        reason,
    };
    if let Some(bad) = resource.bytes().find(|&b| !(0x21..=0x7e).contains(&b)) {
        return Err(err(format!(
            "byte 0x{bad:02x} never appears in a caller ARN"
        )));
    }
    let compatible = FormKind::ALL
        .iter()
        .any(|&kind| may_match_form_kind(service, resource, kind));
    if !compatible {
        return Err(err(format!(
            "no caller of service `{service}` has such a resource (unknown resource kind)"
        )));
    }
    if wildcard::has_wildcard(resource) || wildcard::has_wildcard(service) {
        return Ok(());
    }
    let valid = match (service, resource) {
        ("iam", "root") => true,
        ("iam", r) => r.strip_prefix("user/").is_some_and(valid_user_resource),
        ("sts", r) => {
            if let Some(rest) = r.strip_prefix("assumed-role/") {
                match rest.split_once('/') {
                    None => valid_name(rest, 1),
                    Some((role, session)) => valid_name(role, 1) && valid_name(session, 2),
                }
            } else {
                r.strip_prefix("federated-user/")
                    .is_some_and(|n| valid_name(n, 1))
            }
        }
        _ => false,
    };
    if valid {
        Ok(())
    } else {
        Err(err("no caller has exactly this resource (check names: 1 to 64 of A-Z a-z 0-9 + = , . @ _ -, sessions at least 2)".into()))
    }
}

fn valid_name(name: &str, min: usize) -> bool {
    (min..=64).contains(&name.len()) && name.bytes().all(is_name_byte)
}

fn valid_user_resource(rest: &str) -> bool {
    let (path, name) = rest.rsplit_once('/').unwrap_or(("", rest));
    valid_name(name, 1)
        && (path.is_empty()
            || (path.len() + 2 <= crate::arn::identity::MAX_PATH_LEN
                && path
                    .split('/')
                    .all(|seg| !seg.is_empty() && seg.bytes().all(is_path_byte))))
}

/// Does a wildcard in a user pattern sit where it could absorb a `/` of the
/// path in the middle of the pattern? A trailing `/*` (`user/*`,
/// `user/eng/*`) is IAM's "everything under this path" idiom and is not
/// reported; any other `*` (`user/eng*` also matches `user/eng/x` and
/// `user/engine`; `user/*/alice`) or `?` (`user/a?b` matches `user/a/b`) is.
fn user_wildcard_crosses_path(resource: &str) -> bool {
    let bytes = resource.as_bytes();
    bytes.iter().enumerate().any(|(i, &c)| {
        let trailing_slash_star =
            c == b'*' && i + 1 == bytes.len() && i > 0 && bytes.get(i - 1) == Some(&b'/');
        (c == b'*' || c == b'?') && !trailing_slash_star
    })
}

/// Can a resource have as many `/` as a form of this kind? A form of an
/// assumed role has exactly two (`assumed-role/R/S`), a session-less or role
/// form exactly one (names never hold `/`). A literal resource must have that
/// many; a wildcard one at most that many literal `/` anywhere, since each
/// literal `/` matches a `/` of its own (`assumed-role/ci-5/gh-*` and
/// `assumed-role/*/sess7` never match a session-less form).
fn slashes_fit(kind: FormKind, resource: &str) -> bool {
    let limit = match kind {
        FormKind::AssumedRole => 2,
        FormKind::SessionlessRole | FormKind::Role => 1,
        FormKind::User | FormKind::FederatedUser | FormKind::Root => return true,
    };
    let count = resource.bytes().filter(|&b| b == b'/').count();
    if wildcard::has_wildcard(resource) {
        count <= limit
    } else {
        count == limit
    }
}

/// Could a pattern with this service and resource glob match some form of
/// kind `kind`? Conservative: `true` may still match nothing, `false` is certain.
/// `a == b` for the short literal heads and tails of a resource, with two
/// overlapping word loads for 8 to 16 bytes (and four-byte ones for 4 to 7)
/// instead of a call to `memcmp`; longer ones, or `None`, compare as usual.
fn same_bytes(a: Option<&[u8]>, b: Option<&[u8]>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return a == b;
    };
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let ends = |k: usize| (a.get(..k), b.get(..k), a.get(n - k..), b.get(n - k..));
    match n {
        8..=16 => match ends(8) {
            (Some(a0), Some(b0), Some(a1), Some(b1)) => {
                let w = |x: &[u8]| <[u8; 8]>::try_from(x).map_or(0, u64::from_le_bytes);
                w(a0) == w(b0) && w(a1) == w(b1)
            }
            _ => a == b,
        },
        4..=7 => match ends(4) {
            (Some(a0), Some(b0), Some(a1), Some(b1)) => {
                let w = |x: &[u8]| <[u8; 4]>::try_from(x).map_or(0, u32::from_le_bytes);
                w(a0) == w(b0) && w(a1) == w(b1)
            }
            _ => a == b,
        },
        _ => a == b,
    }
}

fn may_match_form_kind(service: &str, resource: &str, kind: FormKind) -> bool {
    if !wildcard::matches(service, kind.service().as_str()) {
        return false;
    }
    if kind == FormKind::Root {
        return wildcard::matches(resource, "root");
    }
    let prefix = wildcard::literal_prefix(resource);
    let kind_prefix = kind.resource_prefix();
    prefix.starts_with(kind_prefix) || kind_prefix.starts_with(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(arn: &str) -> CallerIdentity {
        CallerIdentity::parse_arn(arn).unwrap()
    }

    #[test]
    fn session_stripping_forms_are_one() {
        let a = Pattern::parse("arn:aws:sts::123456789012:assumed-role/terraform-runner").unwrap();
        let b = Pattern::parse("arn:aws:iam::123456789012:role/terraform-runner").unwrap();
        let c =
            Pattern::parse("arn:aws:sts::123456789012:assumed-role/terraform-runner/*").unwrap();
        let d = Pattern::parse("arn:aws:iam::123456789012:role/team/terraform-runner").unwrap();
        assert_eq!(a.as_str(), b.as_str());
        assert_eq!(a.as_str(), c.as_str());
        assert_eq!(a.as_str(), d.as_str());
        assert_eq!(
            d.warnings(),
            [PatternWarning::RolePathIgnored {
                path: "/team/".into()
            }]
        );
        let caller = id("arn:aws:sts::123456789012:assumed-role/terraform-runner/tf-42");
        assert!(a.matches(&caller));
    }

    /// A pattern whose normalised text reads in the source where it is
    /// written is kept as a range of it, and reads, compares, hashes and
    /// matches like one parsed on its own; any other keeps a text of its own.
    #[test]
    fn kept_in_source_is_like_kept_alone() {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let hash = |p: &Pattern| {
            let mut h = DefaultHasher::new();
            p.hash(&mut h);
            h.finish()
        };
        let text = "a*:*:s?s::1234567890??:assumed-role/ci-*/gh-*";
        let written =
            "org \"o\" { map \"arn:aws:sts::123456789012:assumed-role/ci-*/gh-*\" to \"x\" }";
        let source = SharedStr::from(written);
        let start = written.find("arn:").unwrap();
        for pattern_text in [
            "arn:aws:sts::123456789012:assumed-role/ci-*/gh-*",
            "arn:aws:sts::123456789012:assumed-role/ci-*",
        ] {
            let own = Pattern::parse(pattern_text).unwrap();
            let kept = Pattern::parse_in(pattern_text, Some(&source), start).unwrap();
            // (The second reads there too: as the start of the first.)
            assert!(kept.text_is_shared(), "{pattern_text}");
            assert!(!own.text_is_shared());
            assert_eq!(kept, own);
            assert_eq!(hash(&kept), hash(&own));
            for i in 0..6 {
                assert_eq!(kept.section(i), own.section(i));
            }
            let caller = id("arn:aws:sts::123456789012:assumed-role/ci-1/gh-2");
            assert_eq!(kept.matches(&caller), own.matches(&caller));
        }
        // `role/ci` is rewritten to a text not written there.
        let role = "arn:aws:iam::123456789012:role/ci";
        let source = SharedStr::from(role);
        let kept = Pattern::parse_in(role, Some(&source), 0).unwrap();
        assert!(!kept.text_is_shared());
        assert_eq!(kept.as_str(), "arn:aws:sts::123456789012:assumed-role/ci");
        // Sections are found however long the wildcard ones are.
        let p = Pattern::parse(text).unwrap();
        let sections: Vec<&str> = (0..6).map(|i| p.section(i)).collect();
        assert_eq!(
            sections,
            [
                "a*",
                "*",
                "s?s",
                "",
                "1234567890??",
                "assumed-role/ci-*/gh-*"
            ]
        );
        // A section that ends past byte 255 has no offset kept: the first
        // sections are then split out of the text, with the same result.
        for long in [250, 253, 300] {
            let arn = format!("a{}", "*".repeat(long));
            let text = format!("{arn}:a*:*:*:123456789012:user/x");
            let p = Pattern::parse(&text).unwrap();
            let sections: Vec<&str> = (0..6).map(|i| p.section(i)).collect();
            let split: Vec<&str> = text.split(':').collect();
            assert_eq!(sections, split, "{long}");
        }
    }

    /// The word-load comparison says what `==` says, for every length around
    /// its cut-offs and a difference at every position.
    #[test]
    fn same_bytes_is_equality() {
        for n in 0..24 {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i).collect();
            assert!(same_bytes(Some(&a), Some(&a)));
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 1;
                assert!(!same_bytes(Some(&a), Some(&b)), "{n} {at}");
            }
            let longer: Vec<u8> = a.iter().copied().chain([b'z']).collect();
            assert!(!same_bytes(Some(&a), Some(&longer)));
            assert!(!same_bytes(Some(&a), None));
        }
        assert!(same_bytes(None, None));
    }

    #[test]
    fn size() {
        assert_eq!(std::mem::size_of::<Pattern>(), 40);
    }

    #[test]
    fn role_path_wildcard_is_an_error() {
        assert!(matches!(
            Pattern::parse("arn:aws:iam::123456789012:role/ci/*"),
            Err(PatternError::RolePathWildcard(_))
        ));
    }
}

#[cfg(test)]
mod resource_split {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Comparing the literal head and tail as bytes and matching only
        /// the middle decides exactly like matching the whole resource.
        #[test]
        fn head_and_tail_split_agrees_with_whole_matching(
            name in "[ab*?-]{1,8}",
            session in "[ab-]{1,6}",
        ) {
            let Ok(pattern) = Pattern::parse(&format!("arn:aws:sts::123456789012:assumed-role/r/{name}")) else {
                return Ok(());
            };
            for text in [
                format!("assumed-role/r/{session}"),
                format!("assumed-role/r/{session}{session}"),
                format!("assumed-role/r/{}", name.replace(['*', '?'], "a")),
                format!("assumed-role/r/{}", name.replace('*', "").replace('?', "b")),
                "assumed-role/r/".to_owned(),
                "assumed-role/".to_owned(),
            ] {
                prop_assert_eq!(
                    pattern.resource_matches_in(pattern.bytes(), &text),
                    wildcard::matches(pattern.resource(), &text),
                    "{} against {}", pattern.resource(), text
                );
            }
        }
    }
}
