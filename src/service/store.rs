//! The service's store: orgs, API and application keys (hashed), grants, and
//! persona mappings.
//!
//! [`Store`] is one interface over two backends (the crate-private
//! [`Backend`] trait): SQLite in the data directory (the default: one
//! process, nothing to install) and PostgreSQL (`postgres://…`, feature
//! `postgres`: the store several replicas of `arnmap serve` share). Every
//! write is one transaction, committed before the call returns: a write
//! acknowledged to a client survives SIGKILL. Calls block: use them from
//! `spawn_blocking` in async code.

use std::path::Path;

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;

/// The permissions an application key or a grant can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// List and read persona mappings.
    Read,
    /// Create and delete persona mappings.
    Write,
}

impl Permission {
    /// The name used on the command line and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "cloud_auth_config_read",
            Permission::Write => "cloud_auth_config_write",
        }
    }
}

impl std::str::FromStr for Permission {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        match s {
            "cloud_auth_config_read" => Ok(Permission::Read),
            "cloud_auth_config_write" => Ok(Permission::Write),
            other => Err(StoreError::Permission(other.to_owned())),
        }
    }
}

/// Store failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite said no.
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL (or its connection pool) said no.
    #[error("store: {0}")]
    Postgres(String),
    /// The database cannot be reached (no connection within the pool's
    /// timeout, or the connection broke): worth retrying later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A store location that names no backend this build has.
    #[error(
        "store {0:?}: expected postgres://USER@HOST:PORT/DB (and a build with the `postgres` feature)"
    )]
    Location(String),
    /// The store's schema is newer than this build knows: it never
    /// downgrades a schema; run a newer `arnmap`.
    #[error(
        "store: the schema is at version {found}, newer than this build's {known}; run a newer arnmap"
    )]
    NewerSchema {
        /// The stored schema version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A permission name that does not exist.
    #[error("unknown permission {0:?}; expected cloud_auth_config_read or cloud_auth_config_write")]
    Permission(String),
    /// An org id that is not a UUID.
    #[error("org {0:?} is not a UUID")]
    Org(String),
    /// The same ARN pattern is already mapped in this org.
    #[error("the ARN pattern is already mapped in this org (mapping {0})")]
    Duplicate(String),
    /// The random source failed.
    #[error("no randomness for a new key: {0}")]
    Random(String),
    /// The org's mappings are no longer the ones the caller read (another
    /// writer, typically on another replica, changed them in between):
    /// nothing was written; read them again.
    #[error("the org's persona mappings changed since they were read; nothing was written")]
    Changed,
}

/// A persona mapping as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMapping {
    /// Its id (a UUID).
    pub id: String,
    /// The org.
    pub org: String,
    /// The account the pattern maps to.
    pub account_identifier: String,
    /// The ARN pattern as the client sent it.
    pub arn_pattern: String,
    /// Unix seconds.
    pub created: i64,
}

/// Who a pair of keys authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHolder {
    /// The org the keys belong to.
    pub org: String,
    /// What the application key may do.
    pub permissions: Vec<Permission>,
}

/// A new API/application key pair, shown once.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewKeys {
    /// The API key (32 hex digits, 128 random bits).
    pub api_key: String,
    /// The application key (40 hex digits, 160 random bits).
    pub app_key: String,
    /// The pair's id (a UUID): what `arnmap keys list` shows and
    /// `arnmap keys revoke --id` takes. Not a secret.
    pub id: String,
}

/// A key pair as `arnmap keys list` shows it: never a key, never a hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyInfo {
    /// The pair's id (a UUID), what `arnmap keys revoke --id` takes.
    pub id: String,
    /// The org.
    pub org: String,
    /// What the application key may do (empty for an API key alone).
    pub permissions: Vec<&'static str>,
    /// Unix seconds.
    pub created: i64,
    /// Which halves are stored under this id: `api`, `application` (a pair
    /// created before ids existed may show as two ids, one half each).
    pub keys: Vec<&'static str>,
}

/// A stored key half, as [`Backend::key_rows`] lists it: id, org, created,
/// `api` or `application`, permissions (empty for an API key).
pub(crate) type KeyRow = (String, String, i64, String, String);

/// What a store backend does. Orgs arrive validated and, for keys and
/// grants, lowercase; secrets arrive hashed. Every method that writes is one
/// transaction, committed (durably) before it returns.
pub(crate) trait Backend: Send + Sync + std::fmt::Debug {
    /// Creates `org` if it does not exist.
    fn ensure_org(&self, org: &str, created: i64) -> Result<(), StoreError>;
    /// Stores a key pair's hashes under one id, in one transaction.
    fn insert_keys(
        &self,
        org: &str,
        id: &str,
        api_hash: &[u8],
        app_hash: &[u8],
        permissions: &str,
        created: i64,
    ) -> Result<(), StoreError>;
    /// The stored hash and org of an API key, by its hash.
    fn api_key(&self, hash: &[u8]) -> Result<Option<(Vec<u8>, String)>, StoreError>;
    /// The stored hash, org and permissions of an application key, by its hash.
    fn app_key(&self, hash: &[u8]) -> Result<Option<(Vec<u8>, String, String)>, StoreError>;
    /// Every key half of `org` (of every org when `None`), by creation time
    /// then id.
    fn key_rows(&self, org: Option<&str>) -> Result<Vec<KeyRow>, StoreError>;
    /// Deletes both halves stored under `id`; false when there were none.
    fn revoke_keys(&self, id: &str) -> Result<bool, StoreError>;
    /// Grants `permissions` (names) to `account` in `org`.
    fn grant(&self, org: &str, account: &str, permissions: &[&str]) -> Result<(), StoreError>;
    /// The permission names granted to `account` in `org`.
    fn granted(&self, org: &str, account: &str) -> Result<Vec<String>, StoreError>;
    /// Revokes `permissions`; how many were granted.
    fn revoke_grant(
        &self,
        org: &str,
        account: &str,
        permissions: &[&str],
    ) -> Result<usize, StoreError>;
    /// [`Store::insert_mapping_if`] and, with `expected`,
    /// [`Store::insert_mapping_checked`]: under the org's write lock, the
    /// org's mappings must still have the [`fingerprint`] `expected`, else
    /// [`StoreError::Changed`] and nothing is written.
    fn insert_mapping_if(
        &self,
        mapping: &StoredMapping,
        expected: Option<&str>,
        proceed: &mut dyn FnMut() -> bool,
    ) -> Result<bool, StoreError>;
    /// [`Store::delete_mapping_if`].
    fn delete_mapping_if(
        &self,
        org: &str,
        id: &str,
        proceed: &mut dyn FnMut() -> bool,
    ) -> Result<Option<bool>, StoreError>;
    /// [`Store::mapping`].
    fn mapping(&self, org: &str, id: &str) -> Result<Option<StoredMapping>, StoreError>;
    /// [`Store::mappings`].
    fn mappings(&self, org: &str) -> Result<Vec<StoredMapping>, StoreError>;
    /// [`Store::orgs_with_mappings`].
    fn orgs_with_mappings(&self) -> Result<Vec<String>, StoreError>;
    /// [`Store::delete_mappings`].
    fn delete_mappings(&self, org: &str) -> Result<usize, StoreError>;
    /// [`Store::mapping_fingerprints`]: by default, read and hashed here.
    fn mapping_fingerprints(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.orgs_with_mappings()?
            .into_iter()
            .map(|org| {
                let mappings = self.mappings(&org)?;
                Ok((org, fingerprint(&mappings)))
            })
            .collect()
    }
    /// [`Store::change_feed`]: `None` for a store no other process writes.
    fn change_feed(&self) -> Option<Result<Box<dyn ChangeFeed>, StoreError>> {
        None
    }
    /// Whether other processes may write this store.
    fn is_shared(&self) -> bool {
        false
    }
    /// [`Store::publish_signing_key`]: nothing to do for a store no other
    /// process reads.
    fn publish_signing_key(
        &self,
        _kid: &str,
        _algorithm: &str,
        _jwk: &str,
        _created: i64,
    ) -> Result<(), StoreError> {
        Ok(())
    }
    /// [`Store::signing_keys`].
    fn signing_keys(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(Vec::new())
    }
    /// [`Store::reserve_replay`]: a store no other process reads has no
    /// shared replay cache (the verifier's own is the cache).
    fn reserve_replay(
        &self,
        _signature: &str,
        _org: &str,
        _expires_ms: i64,
        _now_ms: i64,
        _per_org: i64,
    ) -> Result<ReplayReservation, StoreError> {
        Ok(ReplayReservation::Reserved)
    }
    /// [`Store::release_replay`].
    fn release_replay(&self, _signature: &str) -> Result<(), StoreError> {
        Ok(())
    }
    /// [`Store::charge_budget`]: a store no other process reads has no
    /// shared budget (the replica's own limiter is the budget).
    fn charge_budget(
        &self,
        _org: &str,
        _rate: f64,
        _burst: f64,
    ) -> Result<BudgetCharge, StoreError> {
        Ok(BudgetCharge::Taken)
    }
}

/// What the shared per-org exchange budget answers a charge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum BudgetCharge {
    /// One token was taken.
    Taken,
    /// The org's bucket holds less than one token: the next one comes in
    /// `wait_secs` (if nobody else takes it first).
    Limited {
        /// Seconds until one token is refilled.
        wait_secs: f64,
    },
}

/// What the shared replay cache answers a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplayReservation {
    /// Reserved: no live entry had this signature.
    Reserved,
    /// A live entry has this signature: a replay.
    Replayed,
    /// The org holds its share of live entries (approximately: see the
    /// PostgreSQL backend).
    Full,
}

/// The orgs whose mappings another process changed, as a shared store
/// announces them (PostgreSQL: `LISTEN arnmap_mappings`, notified by every
/// mapping write in its transaction, so only on commit).
pub(crate) trait ChangeFeed: Send {
    /// Waits at most `wait` for the next announcements; returns the orgs
    /// announced (deduplicated, possibly empty after `wait`). `Err`: the
    /// feed is lost (open a new one, then resynchronise in full).
    fn wait(&mut self, wait: std::time::Duration) -> Result<Vec<String>, StoreError>;
    /// Checks that the feed is still connected.
    fn ping(&mut self) -> Result<(), StoreError>;
}

/// A cheap digest of an org's mappings: SHA-256 (hex) of their ids, in the
/// stored sequence, joined by `,`. Mappings are never edited in place (a
/// change is a delete and a create, with a new random id), so two replicas
/// with the same fingerprint for an org compiled the same mappings.
pub(crate) fn fingerprint(mappings: &[StoredMapping]) -> String {
    fingerprint_ids(mappings.iter().map(|m| m.id.as_str()))
}

/// [`fingerprint`] of mapping ids, in the stored sequence.
pub(crate) fn fingerprint_ids<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut hasher = Sha256::new();
    for (i, id) in ids.into_iter().enumerate() {
        if i > 0 {
            hasher.update(b",");
        }
        hasher.update(id.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The store: SQLite in a data directory, or PostgreSQL. `Send + Sync`.
#[derive(Debug)]
pub struct Store {
    backend: Box<dyn Backend>,
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn random_hex(bytes: usize) -> Result<String, StoreError> {
    use rand_core::{OsRng, RngCore as _};
    let mut buf = vec![0u8; bytes];
    OsRng
        .try_fill_bytes(&mut buf)
        .map_err(|e| StoreError::Random(e.to_string()))?;
    Ok(hex::encode(buf))
}

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok() && s.len() == 36
}

/// Whether `location` names a PostgreSQL store (`postgres://` or
/// `postgresql://`).
pub(crate) fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

impl Store {
    /// Opens (creating if needed) `arnmap.sqlite3` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_file(&data_dir.join("arnmap.sqlite3"))
    }

    /// Opens (creating if needed) the SQLite database file `path`.
    pub fn open_file(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Box::new(sqlite::SqliteStore::open_file(path)?),
        })
    }

    /// Connects to the PostgreSQL store `url`
    /// (`postgres://USER@HOST:PORT/DB`), applying the schema migrations
    /// this build knows (never downgrading a newer schema). Needs the
    /// `postgres` feature; without it every URL is [`StoreError::Location`].
    pub fn connect(url: &str) -> Result<Store, StoreError> {
        if !is_postgres_url(url) {
            return Err(StoreError::Location(redact(url)));
        }
        #[cfg(feature = "postgres")]
        {
            Ok(Store {
                backend: Box::new(postgres::PgStore::connect(url)?),
            })
        }
        #[cfg(not(feature = "postgres"))]
        {
            Err(StoreError::Location(redact(url)))
        }
    }

    /// Creates `org` if it does not exist.
    pub fn ensure_org(&self, org: &str) -> Result<(), StoreError> {
        if !is_uuid(org) {
            return Err(StoreError::Org(org.to_owned()));
        }
        self.backend
            .ensure_org(&org.to_ascii_lowercase(), now_secs())
    }

    /// Creates the org if needed and a new key pair carrying `permissions`.
    /// Only the SHA-256 of each key is stored; the keys are returned once.
    pub fn create_keys(
        &self,
        org: &str,
        permissions: &[Permission],
    ) -> Result<NewKeys, StoreError> {
        self.ensure_org(org)?;
        let org = org.to_ascii_lowercase();
        let keys = NewKeys {
            api_key: random_hex(16)?,
            app_key: random_hex(20)?,
            id: uuid::Uuid::new_v4().to_string(),
        };
        let mut perms: Vec<&str> = permissions.iter().map(|p| p.as_str()).collect();
        perms.sort_unstable();
        perms.dedup();
        // One id for the pair (what `keys list` shows and `keys revoke` takes).
        self.backend.insert_keys(
            &org,
            &keys.id,
            &hash(&keys.api_key),
            &hash(&keys.app_key),
            &perms.join(" "),
            now_secs(),
        )?;
        Ok(keys)
    }

    /// Who a pair of keys authenticates, if both are ours and of the same org.
    /// Lookups are by SHA-256 (a preimage-resistant index, so lookup timing
    /// says nothing about a key), and the hashes are compared in constant time.
    pub fn authenticate_keys(
        &self,
        api_key: &str,
        app_key: &str,
    ) -> Result<Option<KeyHolder>, StoreError> {
        let api_hash = hash(api_key);
        let app_hash = hash(app_key);
        let api = self.backend.api_key(&api_hash)?;
        let app = self.backend.app_key(&app_hash)?;
        let (Some((stored_api, api_org)), Some((stored_app, app_org, perms))) = (api, app) else {
            return Ok(None);
        };
        let same = stored_api.ct_eq(&api_hash) & stored_app.ct_eq(&app_hash);
        if !bool::from(same) || api_org != app_org {
            return Ok(None);
        }
        let permissions = perms
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        Ok(Some(KeyHolder {
            org: api_org,
            permissions,
        }))
    }

    /// Lets tokens issued to `account` in `org` use `permissions`.
    pub fn grant(
        &self,
        org: &str,
        account: &str,
        permissions: &[Permission],
    ) -> Result<(), StoreError> {
        self.ensure_org(org)?;
        let names: Vec<&str> = permissions.iter().map(|p| p.as_str()).collect();
        self.backend
            .grant(&org.to_ascii_lowercase(), account, &names)
    }

    /// What `account` may do in `org`.
    pub fn granted(&self, org: &str, account: &str) -> Result<Vec<Permission>, StoreError> {
        Ok(self
            .backend
            .granted(&org.to_ascii_lowercase(), account)?
            .into_iter()
            .filter_map(|p| p.parse().ok())
            .collect())
    }

    /// Takes `permissions` away from tokens issued to `account` in `org`;
    /// returns how many were granted (and are now revoked).
    pub fn revoke_grant(
        &self,
        org: &str,
        account: &str,
        permissions: &[Permission],
    ) -> Result<usize, StoreError> {
        let names: Vec<&str> = permissions.iter().map(|p| p.as_str()).collect();
        self.backend
            .revoke_grant(&org.to_ascii_lowercase(), account, &names)
    }

    /// Inserts a mapping, durably. A pattern already mapped in the org is
    /// [`StoreError::Duplicate`].
    pub fn insert_mapping(&self, mapping: &StoredMapping) -> Result<(), StoreError> {
        self.insert_mapping_if(mapping, || true).map(|_| ())
    }

    /// Inserts a mapping, durably, after the org's other mappings in the
    /// stored sequence, if `proceed()` — asked inside the transaction, just
    /// before the commit — says yes; otherwise rolls back and returns false
    /// (nothing was written). A pattern already mapped in the org is
    /// [`StoreError::Duplicate`].
    pub fn insert_mapping_if(
        &self,
        mapping: &StoredMapping,
        proceed: impl FnOnce() -> bool,
    ) -> Result<bool, StoreError> {
        let mut proceed = Some(proceed);
        self.backend
            .insert_mapping_if(mapping, None, &mut || proceed.take().is_some_and(|f| f()))
    }

    /// [`Store::insert_mapping_if`], only if the org's mappings are still
    /// the ones whose [`fingerprint`] is `expected` (checked inside the
    /// transaction, under the org's write lock, which on PostgreSQL every
    /// replica takes): otherwise [`StoreError::Changed`], nothing written.
    /// What a writer that linted the new mapping against the mappings it
    /// read uses, so that two replicas cannot both accept a conflicting pair.
    pub(crate) fn insert_mapping_checked(
        &self,
        mapping: &StoredMapping,
        expected: &str,
        proceed: impl FnOnce() -> bool,
    ) -> Result<bool, StoreError> {
        let mut proceed = Some(proceed);
        self.backend
            .insert_mapping_if(mapping, Some(expected), &mut || {
                proceed.take().is_some_and(|f| f())
            })
    }

    /// Deletes a mapping of `org` if `proceed()` — asked inside the
    /// transaction, just before the commit — says yes. `None`: rolled back,
    /// nothing deleted; `Some(false)`: there was no such mapping.
    pub fn delete_mapping_if(
        &self,
        org: &str,
        id: &str,
        proceed: impl FnOnce() -> bool,
    ) -> Result<Option<bool>, StoreError> {
        let mut proceed = Some(proceed);
        self.backend
            .delete_mapping_if(org, id, &mut || proceed.take().is_some_and(|f| f()))
    }

    /// Deletes a mapping of `org`; false when there was none.
    pub fn delete_mapping(&self, org: &str, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .backend
            .delete_mapping_if(org, id, &mut || true)?
            .unwrap_or(false))
    }

    /// One mapping of `org`, if it has one with this id.
    pub fn mapping(&self, org: &str, id: &str) -> Result<Option<StoredMapping>, StoreError> {
        self.backend.mapping(org, id)
    }

    /// The mappings of `org`, oldest first: in the stored sequence, so the
    /// order (the declaration order of their rules) is the same before and
    /// after a restart, and on every replica.
    pub fn mappings(&self, org: &str) -> Result<Vec<StoredMapping>, StoreError> {
        self.backend.mappings(org)
    }

    /// Every org that has mappings.
    pub fn orgs_with_mappings(&self) -> Result<Vec<String>, StoreError> {
        self.backend.orgs_with_mappings()
    }

    /// The key pairs of `org` (of every org when `None`), oldest first.
    pub fn keys(&self, org: Option<&str>) -> Result<Vec<KeyInfo>, StoreError> {
        let org = org.map(str::to_ascii_lowercase);
        let rows = self.backend.key_rows(org.as_deref())?;
        let mut out: Vec<KeyInfo> = Vec::new();
        let mut index_of: std::collections::HashMap<String, usize> = Default::default();
        for (id, org, created, kind, perms) in rows {
            let index = match index_of.get(&id) {
                Some(&i) => i,
                None => {
                    index_of.insert(id.clone(), out.len());
                    out.push(KeyInfo {
                        id,
                        org,
                        permissions: Vec::new(),
                        created,
                        keys: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            let Some(info) = out.get_mut(index) else {
                continue;
            };
            if kind == "api" {
                info.keys.insert(0, "api");
            } else {
                info.keys.push("application");
                info.permissions = perms
                    .split_whitespace()
                    .filter_map(|p| p.parse::<Permission>().ok())
                    .map(Permission::as_str)
                    .collect();
            }
            info.created = info.created.min(created);
        }
        Ok(out)
    }

    /// Deletes the key pair `id` (both halves) at once: the next request
    /// made with either key is refused (keys are checked against the store
    /// on every request). False when no key has this id.
    pub fn revoke_keys(&self, id: &str) -> Result<bool, StoreError> {
        self.backend.revoke_keys(id)
    }

    /// Deletes every mapping of `org`; returns how many there were.
    pub fn delete_mappings(&self, org: &str) -> Result<usize, StoreError> {
        self.backend.delete_mappings(org)
    }

    /// Every org with mappings and the [`fingerprint`] of its mappings.
    pub(crate) fn mapping_fingerprints(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.backend.mapping_fingerprints()
    }

    /// A feed of the orgs whose mappings other processes change; `None`
    /// when no other process writes this store (SQLite).
    pub(crate) fn change_feed(&self) -> Option<Result<Box<dyn ChangeFeed>, StoreError>> {
        self.backend.change_feed()
    }

    /// Whether other processes may write this store (PostgreSQL).
    pub(crate) fn is_shared(&self) -> bool {
        self.backend.is_shared()
    }

    /// Publishes a public verification key (its JWK JSON) for the other
    /// replicas of a shared store; a kid already published is kept. Never a
    /// private key. Nothing for SQLite.
    pub(crate) fn publish_signing_key(
        &self,
        kid: &str,
        algorithm: &str,
        jwk: &str,
    ) -> Result<(), StoreError> {
        self.backend
            .publish_signing_key(kid, algorithm, jwk, now_secs())
    }

    /// Reserves a proof's `signature` for `org` until `expires_ms` (unix
    /// milliseconds) in the replay cache every replica shares, if the org
    /// holds fewer than `per_org` live entries at `now_ms`.
    pub(crate) fn reserve_replay(
        &self,
        signature: &str,
        org: &str,
        expires_ms: i64,
        now_ms: i64,
        per_org: i64,
    ) -> Result<ReplayReservation, StoreError> {
        self.backend
            .reserve_replay(signature, org, expires_ms, now_ms, per_org)
    }

    /// Forgets a reserved signature (its STS call failed).
    pub(crate) fn release_replay(&self, signature: &str) -> Result<(), StoreError> {
        self.backend.release_replay(signature)
    }

    /// Charges one exchange to `org`'s budget every replica shares (a token
    /// bucket refilled by `rate` per second, holding at most `burst`).
    pub(crate) fn charge_budget(
        &self,
        org: &str,
        rate: f64,
        burst: f64,
    ) -> Result<BudgetCharge, StoreError> {
        self.backend.charge_budget(org, rate, burst)
    }

    /// Every published public key: `(algorithm, JWK JSON)`, oldest first.
    pub(crate) fn signing_keys(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.backend.signing_keys()
    }
}

/// A store location fit for a message: without the password, if any.
pub(crate) fn redact(location: &str) -> String {
    match (location.find("://"), location.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let (head, host) = location.split_at(at);
            let user_start = scheme + 3;
            match head.get(user_start..).and_then(|u| u.find(':')) {
                Some(colon) => format!(
                    "{}:***{host}",
                    head.get(..user_start + colon).unwrap_or_default()
                ),
                None => location.to_owned(),
            }
        }
        _ => location.to_owned(),
    }
}

/// Now, in unix seconds, for new rows.
pub fn unix_now() -> i64 {
    now_secs()
}

#[cfg(test)]
mod backend_tests;

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h:5432/db"), "postgres://u@h:5432/db");
        assert_eq!(redact("sqlite"), "sqlite");
    }

    /// The README's Unix-socket form parses to a socket path.
    #[cfg(feature = "postgres")]
    #[test]
    fn a_unix_socket_url_names_a_socket() {
        let url = "postgresql:///arnmap?user=arnmap&host=/run/postgresql";
        assert!(super::is_postgres_url(url));
        let config: postgres::Config = url.parse().unwrap();
        assert_eq!(
            config.get_hosts(),
            [postgres::config::Host::Unix("/run/postgresql".into())]
        );
        assert_eq!(config.get_user(), Some("arnmap"));
        assert_eq!(config.get_dbname(), Some("arnmap"));
    }
}
