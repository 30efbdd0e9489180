//! Caller identities: the ARNs and UserIds that STS `GetCallerIdentity` returns,
//! parsed strictly (docs/semantics.md §1).
//!
//! Four kinds of caller exist. Anything else — an IAM role ARN, a group, an
//! `assumed-role` ARN with a path, an 11-digit account, an unknown partition —
//! is rejected with a typed [`IdentityError`], never guessed at.

use std::fmt;

use crate::arn::partition::{Partition, PartitionNames};

/// The longest caller ARN accepted (IAM user paths are at most 512 bytes).
pub const MAX_ARN_LEN: usize = 2048;
/// The longest IAM user path (`/a/b/`), slashes included.
pub const MAX_PATH_LEN: usize = 512;

/// The kind of principal behind a caller ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentityKind {
    /// `arn:P:iam::A:user/PATH/NAME`
    User,
    /// `arn:P:sts::A:assumed-role/ROLE/SESSION`
    AssumedRole,
    /// `arn:P:sts::A:federated-user/NAME`
    FederatedUser,
    /// `arn:P:iam::A:root`
    Root,
}

impl IdentityKind {
    /// The kind's name as policy conditions see it (`kind == "assumed-role"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            IdentityKind::User => "user",
            IdentityKind::AssumedRole => "assumed-role",
            IdentityKind::FederatedUser => "federated-user",
            IdentityKind::Root => "root",
        }
    }
}

impl fmt::Display for IdentityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The service section of an ARN form: every caller form is `iam` or `sts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// `iam`
    Iam,
    /// `sts`
    Sts,
}

impl Service {
    /// The service name as written in an ARN.
    pub const fn as_str(self) -> &'static str {
        match self {
            Service::Iam => "iam",
            Service::Sts => "sts",
        }
    }
}

/// Which of a caller's ARN forms a [`Form`] is (docs/semantics.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FormKind {
    /// `iam … user/PATH/NAME`
    User,
    /// `sts … assumed-role/ROLE/SESSION`, the raw ARN of an assumed role.
    AssumedRole,
    /// `sts … assumed-role/ROLE`, the session-less form.
    SessionlessRole,
    /// `iam … role/ROLE`, the role form.
    Role,
    /// `sts … federated-user/NAME`
    FederatedUser,
    /// `iam … root`
    Root,
}

impl FormKind {
    /// Every form kind, in a stable order.
    pub const ALL: [FormKind; 6] = [
        FormKind::User,
        FormKind::AssumedRole,
        FormKind::SessionlessRole,
        FormKind::Role,
        FormKind::FederatedUser,
        FormKind::Root,
    ];

    /// The ARN service of forms of this kind.
    pub const fn service(self) -> Service {
        match self {
            FormKind::User | FormKind::Role | FormKind::Root => Service::Iam,
            FormKind::AssumedRole | FormKind::SessionlessRole | FormKind::FederatedUser => {
                Service::Sts
            }
        }
    }

    /// The fixed start of the resource section of forms of this kind.
    pub const fn resource_prefix(self) -> &'static str {
        match self {
            FormKind::User => "user/",
            FormKind::AssumedRole | FormKind::SessionlessRole => "assumed-role/",
            FormKind::Role => "role/",
            FormKind::FederatedUser => "federated-user/",
            FormKind::Root => "root",
        }
    }

    /// A small dense index (0..6), handy for tables.
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// One ARN form of a caller: the parts a pattern is compared against.
///
/// Partition and account are the caller's; only service and resource differ
/// between the forms of one caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Form<'a> {
    /// Which form this is.
    pub kind: FormKind,
    /// The resource section (`assumed-role/ROLE/SESSION`, `role/ROLE`, …).
    pub resource: &'a str,
}

/// A caller's forms ([`CallerIdentity::form_list`]): one to three, kept
/// inline.
#[derive(Debug, Clone, Copy)]
pub struct FormList<'a> {
    /// The forms; those past `len` repeat one of them and are not used.
    forms: [Form<'a>; 3],
    len: u8,
}

impl<'a> FormList<'a> {
    /// The forms, in [`CallerIdentity::forms`] order.
    pub fn as_slice(&self) -> &[Form<'a>] {
        self.forms.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl Form<'_> {
    /// The ARN service of this form.
    pub fn service(&self) -> Service {
        self.kind.service()
    }
}

/// A caller ARN or STS response that is not a valid caller identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The ARN is empty.
    #[error("the caller ARN is empty")]
    Empty,
    /// The ARN exceeds `MAX_ARN_LEN` (2 KiB).
    #[error("the caller ARN is {0} bytes long; at most {MAX_ARN_LEN} are accepted")]
    TooLong(usize),
    /// The text does not start with `arn:`.
    #[error("`{0}` is not an ARN: it must start with `arn:`")]
    NotAnArn(String),
    /// Fewer than six `:`-separated sections.
    #[error(
        "an ARN has six `:`-separated sections (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE); this one has {0}"
    )]
    Sections(usize),
    /// The partition is not one of the eight known partitions.
    #[error(
        "unknown partition `{0}`: expected one of {names}",
        names = PartitionNames
    )]
    UnknownPartition(String),
    /// The service is neither `iam` nor `sts`.
    #[error(
        "service `{0}` never appears in a caller identity: callers are `iam` users and roots or `sts` assumed roles and federated users"
    )]
    Service(String),
    /// A caller ARN has an empty region; this one does not.
    #[error("caller ARNs have an empty region section, found `{0}`")]
    Region(String),
    /// The account is not exactly twelve ASCII digits.
    #[error("account `{0}` is not exactly 12 digits")]
    Account(String),
    /// `arn:P:iam::A:role/…` is a role, not a caller; STS reports its sessions.
    #[error(
        "`{0}` is an IAM role ARN, not a caller identity: STS reports a role's callers as `arn:P:sts::A:assumed-role/ROLE/SESSION`"
    )]
    IamRole(String),
    /// An `assumed-role` resource must be exactly `assumed-role/ROLE/SESSION`.
    #[error(
        "an assumed-role ARN has exactly two parts after `assumed-role/` (ROLE/SESSION); `{0}` has {1}"
    )]
    AssumedRoleParts(String, usize),
    /// The resource is of no kind a caller can be (group, policy, instance-profile, …).
    #[error("`{resource}` is not a caller resource for service `{service}`: expected {expected}")]
    Resource {
        /// The ARN's service section.
        service: &'static str,
        /// The offending resource section.
        resource: String,
        /// What the service's callers look like.
        expected: &'static str,
    },
    /// A user, role or federated-user name breaks IAM's naming rules.
    #[error("{what} name `{value}` is invalid: IAM names are 1 to 64 of A-Z a-z 0-9 + = , . @ _ -")]
    Name {
        /// `user`, `role` or `federated user`.
        what: &'static str,
        /// The offending name.
        value: String,
    },
    /// A role session name breaks STS's naming rules.
    #[error(
        "session name `{0}` is invalid: session names are 2 to 64 of A-Z a-z 0-9 + = , . @ _ -"
    )]
    Session(String),
    /// An IAM user path is malformed.
    #[error("user path `{0}` is invalid: segments are printable ASCII without `/`, none empty")]
    Path(String),
    /// An IAM user path is over `MAX_PATH_LEN` (512 bytes).
    #[error("user path is {0} bytes long; IAM paths are at most {MAX_PATH_LEN}")]
    PathTooLong(usize),
    /// The UserId is not of the shape STS returns for this kind of caller.
    #[error("UserId `{user_id}` does not fit a {kind} caller: expected {expected}")]
    UserId {
        /// The caller's kind.
        kind: IdentityKind,
        /// The offending UserId.
        user_id: String,
        /// The shape STS returns for that kind.
        expected: &'static str,
    },
    /// The UserId's session (after `:`) is not the ARN's session.
    #[error("UserId session `{user_id_session}` differs from the ARN's session `{arn_session}`")]
    SessionMismatch {
        /// The session in the UserId.
        user_id_session: String,
        /// The session in the ARN.
        arn_session: String,
    },
    /// The UserId names another account or federated user than the ARN.
    #[error("UserId `{user_id}` names another principal than the ARN `{arn}`")]
    UserIdMismatch {
        /// The UserId.
        user_id: String,
        /// The ARN.
        arn: String,
    },
    /// The response's `Account` is not the ARN's account.
    #[error("STS reported account `{reported}` but the ARN's account is `{arn_account}`")]
    AccountMismatch {
        /// The `Account` element.
        reported: String,
        /// The account inside the ARN.
        arn_account: String,
    },
}

/// A caller identity as STS reports it, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallerIdentity {
    arn: Box<str>,
    partition: Partition,
    kind: IdentityKind,
    /// Byte offset of the account section in `arn`.
    account_at: u32,
    /// Byte offset of the resource section in `arn`.
    resource_at: u32,
    /// For users, the path with its slashes (`/` when none); empty otherwise.
    path: Box<str>,
    /// Byte range of the name inside `arn` (empty for the root).
    name: (u32, u32),
    /// Byte offset of the session inside `arn` (assumed roles only).
    session_at: Option<u32>,
    /// `role/ROLE` for assumed roles, the resource of the role form.
    role_resource: Option<Box<str>>,
    user_id: Option<Box<str>>,
}

impl CallerIdentity {
    /// Parses a caller ARN alone (no UserId known).
    pub fn parse_arn(arn: &str) -> Result<Self, IdentityError> {
        if arn.is_empty() {
            return Err(IdentityError::Empty);
        }
        if arn.len() > MAX_ARN_LEN {
            return Err(IdentityError::TooLong(arn.len()));
        }
        let Some(rest) = arn.strip_prefix("arn:") else {
            return Err(IdentityError::NotAnArn(arn.to_owned()));
        };
        let sections: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, region, account, resource] = sections[..] else {
            return Err(IdentityError::Sections(sections.len() + 1));
        };
        let partition: Partition = partition
            .parse()
            .map_err(|_| IdentityError::UnknownPartition(partition.to_owned()))?;
        let service = match service {
            "iam" => Service::Iam,
            "sts" => Service::Sts,
            other => return Err(IdentityError::Service(other.to_owned())),
        };
        if !region.is_empty() {
            return Err(IdentityError::Region(region.to_owned()));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdentityError::Account(account.to_owned()));
        }
        let resource_at = tail_offset(arn, resource);
        // `…:ACCOUNT:RESOURCE`: the account is the 12 bytes before the last `:`.
        let account_at = resource_at - 13;
        let parsed = parse_resource(arn, service, resource)?;
        let name = match (parsed.kind, parsed.name) {
            // `assumed-role/ROLE/SESSION`: the role starts after the prefix.
            (IdentityKind::AssumedRole, Some(n)) => {
                let start = resource_at + "assumed-role/".len() as u32;
                (start, start + n.len() as u32)
            }
            // Users and federated users: the name ends the ARN.
            (_, Some(n)) => {
                let start = tail_offset(arn, n);
                (start, start + n.len() as u32)
            }
            (_, None) => (resource_at, resource_at),
        };
        let role_resource = (parsed.kind == IdentityKind::AssumedRole)
            .then(|| format!("role/{}", parsed.name.unwrap_or_default()).into_boxed_str());
        Ok(CallerIdentity {
            arn: arn.into(),
            partition,
            kind: parsed.kind,
            account_at,
            resource_at,
            path: parsed.path.into(),
            name,
            session_at: parsed.session.map(|s| tail_offset(arn, s)),
            role_resource,
            user_id: None,
        })
    }

    /// Parses a caller ARN with the UserId STS reported for it, checking they agree.
    pub fn parse(arn: &str, user_id: &str) -> Result<Self, IdentityError> {
        Self::parse_arn(arn)?.with_user_id(user_id)
    }

    /// Parses a full `GetCallerIdentity` result, checking `Account` and `UserId`
    /// against the ARN.
    pub fn from_sts(arn: &str, user_id: &str, account: &str) -> Result<Self, IdentityError> {
        let identity = Self::parse(arn, user_id)?;
        if identity.account() != account {
            return Err(IdentityError::AccountMismatch {
                reported: account.to_owned(),
                arn_account: identity.account().to_owned(),
            });
        }
        Ok(identity)
    }

    /// Attaches a UserId after checking that it fits this caller.
    pub fn with_user_id(mut self, user_id: &str) -> Result<Self, IdentityError> {
        check_user_id(&self, user_id)?;
        self.user_id = Some(user_id.into());
        Ok(self)
    }

    /// The caller ARN exactly as STS reported it.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The partition.
    pub fn partition(&self) -> Partition {
        self.partition
    }

    /// The caller's kind.
    pub fn kind(&self) -> IdentityKind {
        self.kind
    }

    /// The 12-digit account.
    pub fn account(&self) -> &str {
        self.arn
            .get(self.account_at as usize..self.account_at as usize + 12)
            .unwrap_or_default()
    }

    /// The resource section of the raw ARN.
    pub fn resource(&self) -> &str {
        self.arn
            .get(self.resource_at as usize..)
            .unwrap_or_default()
    }

    /// The user, role or federated-user name; `None` for the account root.
    pub fn name(&self) -> Option<&str> {
        (self.kind != IdentityKind::Root)
            .then(|| self.arn.get(self.name.0 as usize..self.name.1 as usize))
            .flatten()
    }

    /// For an IAM user, the path with its slashes (`/` when the user has none).
    pub fn path(&self) -> Option<&str> {
        (self.kind == IdentityKind::User).then_some(&*self.path)
    }

    /// For an assumed role, the role session name.
    pub fn session(&self) -> Option<&str> {
        self.session_at.and_then(|at| self.arn.get(at as usize..))
    }

    /// The UserId, when known.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The UserId before its `:` (the role's `AROA…` id for an assumed role).
    pub fn principal_id(&self) -> Option<&str> {
        self.user_id
            .as_deref()
            .map(|id| id.split_once(':').map_or(id, |(before, _)| before))
    }

    /// The ARN forms a pattern is compared against (docs/semantics.md §1): three for an
    /// assumed role (raw, session-less, role), one for every other caller.
    pub fn forms(&self) -> impl Iterator<Item = Form<'_>> {
        let list = self.form_list();
        list.forms.into_iter().take(usize::from(list.len))
    }

    /// [`CallerIdentity::forms`] as a slice, made without an iterator (the
    /// indexed matcher takes them once per lookup).
    pub fn form_list(&self) -> FormList<'_> {
        let resource = self.resource();
        let only = |kind| FormList {
            forms: [Form { kind, resource }; 3],
            len: 1,
        };
        match self.kind {
            IdentityKind::User => only(FormKind::User),
            IdentityKind::FederatedUser => only(FormKind::FederatedUser),
            IdentityKind::Root => only(FormKind::Root),
            IdentityKind::AssumedRole => {
                // `assumed-role/ROLE`: the resource up to the end of the role name.
                let sessionless = self
                    .arn
                    .get(self.resource_at as usize..self.name.1 as usize);
                debug_assert!(sessionless.is_some_and(|s| s.starts_with("assumed-role/")));
                let sessionless = Form {
                    kind: FormKind::SessionlessRole,
                    resource: sessionless.unwrap_or(resource),
                };
                let raw = Form {
                    kind: FormKind::AssumedRole,
                    resource,
                };
                match self.role_resource.as_deref() {
                    Some(role) => FormList {
                        forms: [
                            raw,
                            sessionless,
                            Form {
                                kind: FormKind::Role,
                                resource: role,
                            },
                        ],
                        len: 3,
                    },
                    None => FormList {
                        forms: [raw, sessionless, sessionless],
                        len: 2,
                    },
                }
            }
        }
    }

    /// The full ARN of one form (`arn:P:iam::A:role/ROLE`), for display.
    pub fn form_arn(&self, form: &Form<'_>) -> String {
        format!(
            "arn:{}:{}::{}:{}",
            self.partition,
            form.service().as_str(),
            self.account(),
            form.resource
        )
    }
}

impl fmt::Display for CallerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

/// The byte offset of `tail` inside `whole`, where `tail` ends `whole`.
/// INVARIANT: every caller passes a suffix split off `whole` (the resource
/// section, a user or federated name, a session), so no pointer arithmetic
/// is needed and the result is exact; ARNs are at most 2 KiB, so it fits.
fn tail_offset(whole: &str, tail: &str) -> u32 {
    debug_assert!(whole.ends_with(tail), "{tail:?} does not end {whole:?}");
    (whole.len() - tail.len()) as u32
}

struct ParsedResource<'a> {
    kind: IdentityKind,
    path: String,
    name: Option<&'a str>,
    session: Option<&'a str>,
}

fn parse_resource<'a>(
    arn: &str,
    service: Service,
    resource: &'a str,
) -> Result<ParsedResource<'a>, IdentityError> {
    match service {
        Service::Iam => {
            if resource == "root" {
                return Ok(ParsedResource {
                    kind: IdentityKind::Root,
                    path: String::new(),
                    name: None,
                    session: None,
                });
            }
            if let Some(rest) = resource.strip_prefix("user/") {
                let (path, name) = match rest.rsplit_once('/') {
                    // `user//NAME`: an empty path segment, which STS never reports.
                    Some(("", _)) => return Err(IdentityError::Path("/".to_owned())),
                    Some((path, name)) => (path, name),
                    None => ("", rest),
                };
                let path = check_user_path(path)?;
                check_name("user", name)?;
                return Ok(ParsedResource {
                    kind: IdentityKind::User,
                    path,
                    name: Some(name),
                    session: None,
                });
            }
            if resource.starts_with("role/") {
                return Err(IdentityError::IamRole(arn.to_owned()));
            }
            Err(IdentityError::Resource {
                service: "iam",
                resource: resource.to_owned(),
                expected: "`user/[PATH/]NAME` or `root`",
            })
        }
        Service::Sts => {
            if let Some(rest) = resource.strip_prefix("assumed-role/") {
                let parts: Vec<&str> = rest.split('/').collect();
                let [role, session] = parts[..] else {
                    return Err(IdentityError::AssumedRoleParts(
                        resource.to_owned(),
                        parts.len(),
                    ));
                };
                check_name("role", role)?;
                if !valid_chars(session, 2, 64) {
                    return Err(IdentityError::Session(session.to_owned()));
                }
                return Ok(ParsedResource {
                    kind: IdentityKind::AssumedRole,
                    path: String::new(),
                    name: Some(role),
                    session: Some(session),
                });
            }
            if let Some(name) = resource.strip_prefix("federated-user/") {
                check_name("federated user", name)?;
                return Ok(ParsedResource {
                    kind: IdentityKind::FederatedUser,
                    path: String::new(),
                    name: Some(name),
                    session: None,
                });
            }
            Err(IdentityError::Resource {
                service: "sts",
                resource: resource.to_owned(),
                expected: "`assumed-role/ROLE/SESSION` or `federated-user/NAME`",
            })
        }
    }
}

/// Is `b` allowed in IAM user, role, federated-user and session names?
pub fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b)
}

/// Is `b` allowed in an IAM path segment (printable ASCII without `/`)?
pub fn is_path_byte(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) && b != b'/'
}

fn valid_chars(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(is_name_byte)
}

fn check_name(what: &'static str, name: &str) -> Result<(), IdentityError> {
    if valid_chars(name, 1, 64) {
        Ok(())
    } else {
        Err(IdentityError::Name {
            what,
            value: name.to_owned(),
        })
    }
}

/// Checks the path between `user/` and the name; returns it in IAM's
/// slash-wrapped form (`/eng/ops/`, or `/` when empty).
fn check_user_path(path: &str) -> Result<String, IdentityError> {
    if path.is_empty() {
        return Ok("/".to_owned());
    }
    if path
        .split('/')
        .any(|seg| seg.is_empty() || !seg.bytes().all(is_path_byte))
    {
        return Err(IdentityError::Path(path.to_owned()));
    }
    let wrapped = format!("/{path}/");
    if wrapped.len() > MAX_PATH_LEN {
        return Err(IdentityError::PathTooLong(wrapped.len()));
    }
    Ok(wrapped)
}

fn is_unique_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|rest| {
        (1..=124).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    })
}

fn check_user_id(identity: &CallerIdentity, user_id: &str) -> Result<(), IdentityError> {
    let kind = identity.kind;
    let shape = |expected| IdentityError::UserId {
        kind,
        user_id: user_id.to_owned(),
        expected,
    };
    let mismatch = || IdentityError::UserIdMismatch {
        user_id: user_id.to_owned(),
        arn: identity.arn().to_owned(),
    };
    match kind {
        IdentityKind::User => {
            if !is_unique_id(user_id, "AIDA") {
                return Err(shape(
                    "the user's unique id, `AIDA` followed by upper-case letters and digits",
                ));
            }
        }
        IdentityKind::AssumedRole => {
            let expected = "`AROA…:SESSION`, the role's unique id and the session name";
            let Some((role_id, session)) = user_id.split_once(':') else {
                return Err(shape(expected));
            };
            if !is_unique_id(role_id, "AROA") {
                return Err(shape(expected));
            }
            let arn_session = identity.session().unwrap_or_default();
            if session != arn_session {
                return Err(IdentityError::SessionMismatch {
                    user_id_session: session.to_owned(),
                    arn_session: arn_session.to_owned(),
                });
            }
        }
        IdentityKind::FederatedUser => {
            let Some((account, name)) = user_id.split_once(':') else {
                return Err(shape("`ACCOUNT:NAME`"));
            };
            if account != identity.account() || Some(name) != identity.name() {
                return Err(mismatch());
            }
        }
        IdentityKind::Root => {
            if user_id.len() != 12 || !user_id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(shape("the 12-digit account id"));
            }
            if user_id != identity.account() {
                return Err(mismatch());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assumed_role_has_three_forms() {
        let id = CallerIdentity::parse(
            "arn:aws:sts::123456789012:assumed-role/terraform-runner/tf-42",
            "AROAEXAMPLE123:tf-42",
        )
        .unwrap();
        let forms: Vec<_> = id.forms().map(|f| id.form_arn(&f)).collect();
        assert_eq!(
            forms,
            [
                "arn:aws:sts::123456789012:assumed-role/terraform-runner/tf-42",
                "arn:aws:sts::123456789012:assumed-role/terraform-runner",
                "arn:aws:iam::123456789012:role/terraform-runner",
            ]
        );
        assert_eq!(id.name(), Some("terraform-runner"));
        assert_eq!(id.session(), Some("tf-42"));
        assert_eq!(id.principal_id(), Some("AROAEXAMPLE123"));
        assert_eq!(id.account(), "123456789012");
    }

    #[test]
    fn user_path_is_slash_wrapped() {
        let id = CallerIdentity::parse_arn("arn:aws:iam::123456789012:user/eng/ops/alice").unwrap();
        assert_eq!(id.path(), Some("/eng/ops/"));
        assert_eq!(id.name(), Some("alice"));
        let id = CallerIdentity::parse_arn("arn:aws:iam::123456789012:user/alice").unwrap();
        assert_eq!(id.path(), Some("/"));
    }
}
