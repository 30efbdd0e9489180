//! The service's SQLite store: orgs, API and application keys (hashed),
//! grants, and persona mappings.
//!
//! Every write is one transaction committed with `synchronous = FULL` in WAL
//! mode, so it is on disk before the function returns: a write acknowledged
//! to a client survives SIGKILL and power loss. Calls block: use them from
//! `spawn_blocking` in async code.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension as _, params};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

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

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS orgs (
    id TEXT PRIMARY KEY,
    created INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS api_keys (
    hash BLOB PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(id),
    created INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS app_keys (
    hash BLOB PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(id),
    permissions TEXT NOT NULL,
    created INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS grants (
    org TEXT NOT NULL REFERENCES orgs(id),
    account TEXT NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (org, account, permission)
) STRICT;
CREATE TABLE IF NOT EXISTS mappings (
    id TEXT PRIMARY KEY,
    org TEXT NOT NULL,
    account_identifier TEXT NOT NULL,
    arn_pattern TEXT NOT NULL,
    created INTEGER NOT NULL,
    UNIQUE (org, arn_pattern)
) STRICT;
CREATE INDEX IF NOT EXISTS mappings_by_org ON mappings (org, created, id);
";

/// The store. `Send + Sync`; one connection behind a mutex.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
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

impl Store {
    /// Opens (creating if needed) `arnmap.sqlite3` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_file(&data_dir.join("arnmap.sqlite3"))
    }

    /// Opens (creating if needed) the database file `path`.
    pub fn open_file(path: &Path) -> Result<Store, StoreError> {
        let mut conn = Connection::open(path)?;
        // Key hashes and grants: readable by the service's user only. SQLite
        // gives the -wal and -shm files the database file's mode.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        migrate_key_ids(&mut conn)?;
        migrate_mapping_sequence(&conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates `org` if it does not exist.
    pub fn ensure_org(&self, org: &str) -> Result<(), StoreError> {
        if !is_uuid(org) {
            return Err(StoreError::Org(org.to_owned()));
        }
        self.conn().execute(
            "INSERT OR IGNORE INTO orgs (id, created) VALUES (?1, ?2)",
            params![org.to_ascii_lowercase(), now_secs()],
        )?;
        Ok(())
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
        let id = &keys.id;
        let created = now_secs();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO api_keys (hash, org, created, id) VALUES (?1, ?2, ?3, ?4)",
            params![hash(&keys.api_key), org, created, id],
        )?;
        tx.execute(
            "INSERT INTO app_keys (hash, org, permissions, created, id) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![hash(&keys.app_key), org, perms.join(" "), created, id],
        )?;
        tx.commit()?;
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
        let conn = self.conn();
        let api_hash = hash(api_key);
        let app_hash = hash(app_key);
        let api: Option<(Vec<u8>, String)> = conn
            .query_row(
                "SELECT hash, org FROM api_keys WHERE hash = ?1",
                params![api_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let app: Option<(Vec<u8>, String, String)> = conn
            .query_row(
                "SELECT hash, org, permissions FROM app_keys WHERE hash = ?1",
                params![app_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
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
        let org = org.to_ascii_lowercase();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for p in permissions {
            tx.execute(
                "INSERT OR IGNORE INTO grants (org, account, permission) VALUES (?1, ?2, ?3)",
                params![org, account, p.as_str()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// What `account` may do in `org`.
    pub fn granted(&self, org: &str, account: &str) -> Result<Vec<Permission>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT permission FROM grants WHERE org = ?1 AND account = ?2")?;
        let rows = stmt.query_map(params![org.to_ascii_lowercase(), account], |r| {
            r.get::<_, String>(0)
        })?;
        let mut out = Vec::new();
        for row in rows {
            if let Ok(p) = row?.parse() {
                out.push(p);
            }
        }
        Ok(out)
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
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT id FROM mappings WHERE org = ?1 AND arn_pattern = ?2",
                params![mapping.org, mapping.arn_pattern],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = existing {
            return Err(StoreError::Duplicate(id));
        }
        tx.execute(
            "INSERT INTO mappings (id, org, account_identifier, arn_pattern, created, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, (SELECT COALESCE(MAX(seq), 0) + 1 FROM mappings))",
            params![
                mapping.id,
                mapping.org,
                mapping.account_identifier,
                mapping.arn_pattern,
                mapping.created
            ],
        )?;
        if !proceed() {
            tx.rollback()?;
            return Ok(false);
        }
        tx.commit()?;
        Ok(true)
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
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM mappings WHERE org = ?1 AND id = ?2",
            params![org, id],
        )?;
        if !proceed() {
            tx.rollback()?;
            return Ok(None);
        }
        tx.commit()?;
        Ok(Some(n > 0))
    }

    /// Deletes a mapping of `org`; false when there was none.
    pub fn delete_mapping(&self, org: &str, id: &str) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "DELETE FROM mappings WHERE org = ?1 AND id = ?2",
            params![org, id],
        )?;
        Ok(n > 0)
    }

    /// One mapping of `org`, if it has one with this id.
    pub fn mapping(&self, org: &str, id: &str) -> Result<Option<StoredMapping>, StoreError> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT id, org, account_identifier, arn_pattern, created FROM mappings
                 WHERE org = ?1 AND id = ?2",
                params![org, id],
                row_to_mapping,
            )
            .optional()?)
    }

    /// The mappings of `org`, oldest first: in the stored sequence, so the
    /// order (the declaration order of their rules) is the same before and
    /// after a restart.
    pub fn mappings(&self, org: &str) -> Result<Vec<StoredMapping>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, org, account_identifier, arn_pattern, created FROM mappings
             WHERE org = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![org], row_to_mapping)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every org that has mappings.
    pub fn orgs_with_mappings(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT DISTINCT org FROM mappings ORDER BY org")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
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

impl Store {
    /// The key pairs of `org` (of every org when `None`), oldest first.
    pub fn keys(&self, org: Option<&str>) -> Result<Vec<KeyInfo>, StoreError> {
        let org = org.map(str::to_ascii_lowercase);
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, org, created, 'api', '' FROM api_keys WHERE ?1 IS NULL OR org = ?1
             UNION ALL
             SELECT id, org, created, 'application', permissions FROM app_keys
             WHERE ?1 IS NULL OR org = ?1
             ORDER BY 3, 1",
        )?;
        let rows = stmt.query_map(params![org], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out: Vec<KeyInfo> = Vec::new();
        let mut index_of: std::collections::HashMap<String, usize> = Default::default();
        for row in rows {
            let (id, org, created, kind, perms) = row?;
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
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let api = tx.execute("DELETE FROM api_keys WHERE id = ?1", params![id])?;
        let app = tx.execute("DELETE FROM app_keys WHERE id = ?1", params![id])?;
        tx.commit()?;
        Ok(api + app > 0)
    }

    /// Takes `permissions` away from tokens issued to `account` in `org`;
    /// returns how many were granted (and are now revoked).
    pub fn revoke_grant(
        &self,
        org: &str,
        account: &str,
        permissions: &[Permission],
    ) -> Result<usize, StoreError> {
        let org = org.to_ascii_lowercase();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut revoked = 0;
        for p in permissions {
            revoked += tx.execute(
                "DELETE FROM grants WHERE org = ?1 AND account = ?2 AND permission = ?3",
                params![org, account, p.as_str()],
            )?;
        }
        tx.commit()?;
        Ok(revoked)
    }

    /// Deletes every mapping of `org`; returns how many there were.
    pub fn delete_mappings(&self, org: &str) -> Result<usize, StoreError> {
        Ok(self
            .conn()
            .execute("DELETE FROM mappings WHERE org = ?1", params![org])?)
    }
}

/// Gives every key an `id`: adds the column to a store made before ids
/// existed, and fills rows that have none. A legacy API key and application
/// key of the same org and second, alone in it, were made by one
/// `keys create`: they share an id; any other row gets its own. One
/// immediate transaction, so concurrent openers do not race.
fn migrate_key_ids(conn: &mut Connection) -> Result<(), StoreError> {
    use std::collections::HashMap;

    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for table in ["api_keys", "app_keys"] {
        let has_id = tx
            .prepare(&format!(
                "SELECT 1 FROM pragma_table_info('{table}') WHERE name = 'id'"
            ))?
            .exists([])?;
        if !has_id {
            tx.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN id TEXT"))?;
        }
        tx.execute_batch(&format!(
            "CREATE UNIQUE INDEX IF NOT EXISTS {table}_by_id ON {table} (id)"
        ))?;
    }
    let legacy = |table: &str| -> Result<Vec<(Vec<u8>, String, i64)>, StoreError> {
        let mut stmt = tx.prepare(&format!(
            "SELECT hash, org, created FROM {table} WHERE id IS NULL ORDER BY created, hash"
        ))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    let api = legacy("api_keys")?;
    let app = legacy("app_keys")?;
    if api.is_empty() && app.is_empty() {
        tx.commit()?;
        return Ok(());
    }
    // (org, created) -> (API key hashes, application key hashes)
    type Hashes = Vec<Vec<u8>>;
    let mut groups: HashMap<(String, i64), (Hashes, Hashes)> = HashMap::new();
    for (hash, org, created) in api {
        groups.entry((org, created)).or_default().0.push(hash);
    }
    for (hash, org, created) in app {
        groups.entry((org, created)).or_default().1.push(hash);
    }
    for (apis, apps) in groups.into_values() {
        let paired = apis.len() == 1 && apps.len() == 1;
        let shared = uuid::Uuid::new_v4().to_string();
        for (table, hashes) in [("api_keys", apis), ("app_keys", apps)] {
            for hash in hashes {
                let id = if paired {
                    shared.clone()
                } else {
                    uuid::Uuid::new_v4().to_string()
                };
                tx.execute(
                    &format!("UPDATE {table} SET id = ?1 WHERE hash = ?2"),
                    params![id, hash],
                )?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// Gives `mappings` its `seq` column (a stored, monotonic sequence: the
/// order of mappings within an org) if it has none yet, numbering existing
/// rows in the order they were read before (`created`, then `id`).
fn migrate_mapping_sequence(conn: &Connection) -> Result<(), StoreError> {
    let has_seq = conn
        .prepare("SELECT 1 FROM pragma_table_info('mappings') WHERE name = 'seq'")?
        .exists([])?;
    if !has_seq {
        conn.execute_batch(
            "BEGIN IMMEDIATE;
             ALTER TABLE mappings ADD COLUMN seq INTEGER;
             UPDATE mappings SET seq = (
                 SELECT n FROM (
                     SELECT id AS rid, ROW_NUMBER() OVER (ORDER BY created, id) AS n
                     FROM mappings
                 ) WHERE rid = mappings.id
             );
             COMMIT;",
        )?;
    }
    conn.execute_batch(
        "CREATE UNIQUE INDEX IF NOT EXISTS mappings_by_seq ON mappings (org, seq);",
    )?;
    Ok(())
}

fn row_to_mapping(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredMapping> {
    Ok(StoredMapping {
        id: r.get(0)?,
        org: r.get(1)?,
        account_identifier: r.get(2)?,
        arn_pattern: r.get(3)?,
        created: r.get(4)?,
    })
}

/// Now, in unix seconds, for new rows.
pub fn unix_now() -> i64 {
    now_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store from before the sequence column: opening it numbers the
    /// existing mappings in the order they were read before (`created`, `id`).
    #[test]
    fn the_sequence_migration_keeps_the_old_order() {
        let dir = std::env::temp_dir().join(format!(
            "arnmap-migrate-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("arnmap.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            for (id, created) in [("c", 1), ("a", 2), ("b", 1), ("d", 0)] {
                conn.execute(
                    "INSERT INTO mappings (id, org, account_identifier, arn_pattern, created)
                     VALUES (?1, 'o', 'x', ?1, ?2)",
                    params![id, created],
                )
                .unwrap();
            }
        }
        let store = Store::open_file(&path).unwrap();
        let order = |s: &Store| -> Vec<String> {
            s.mappings("o").unwrap().into_iter().map(|m| m.id).collect()
        };
        assert_eq!(order(&store), ["d", "b", "c", "a"]);
        // New mappings come after, whatever their id or time.
        store
            .insert_mapping(&StoredMapping {
                id: "0".into(),
                org: "o".into(),
                account_identifier: "x".into(),
                arn_pattern: "0".into(),
                created: 0,
            })
            .unwrap();
        drop(store);
        let store = Store::open_file(&path).unwrap();
        assert_eq!(order(&store), ["d", "b", "c", "a", "0"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
