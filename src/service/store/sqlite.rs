//! The SQLite backend: `arnmap.sqlite3` in the data directory.
//!
//! Every write is one transaction committed with `synchronous = FULL` in WAL
//! mode, so it is on disk before the function returns: a write acknowledged
//! to a client survives SIGKILL and power loss.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension as _, params};

use super::{Backend, KeyRow, StoreError, StoredMapping};

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

/// The newest schema version this build knows: 1 the first tables, 2 key
/// ids, 3 the mapping sequence. Recorded in `schema_version`; a store at a
/// newer version is refused, never downgraded.
pub(crate) const SCHEMA_VERSION: i64 = 3;

/// The SQLite store: one connection behind a mutex.
#[derive(Debug)]
pub(crate) struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file `path`.
    pub(crate) fn open_file(path: &Path) -> Result<SqliteStore, StoreError> {
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
        refuse_newer_schema(&conn)?;
        conn.execute_batch(SCHEMA)?;
        migrate_key_ids(&mut conn)?;
        migrate_mapping_sequence(&conn)?;
        record_schema_version(&mut conn)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The stored schema version, if the store records one.
fn stored_version(conn: &Connection) -> Result<Option<i64>, StoreError> {
    let has_table = conn
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")?
        .exists([])?;
    if !has_table {
        return Ok(None);
    }
    Ok(conn.query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))?)
}

fn refuse_newer_schema(conn: &Connection) -> Result<(), StoreError> {
    match stored_version(conn)? {
        Some(found) if found > SCHEMA_VERSION => Err(StoreError::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        }),
        _ => Ok(()),
    }
}

/// Records [`SCHEMA_VERSION`] once every migration has run (in one immediate
/// transaction, checking again that no newer build got there first).
fn record_schema_version(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT",
    )?;
    let found: Option<i64> =
        tx.query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))?;
    match found {
        Some(found) if found > SCHEMA_VERSION => {
            return Err(StoreError::NewerSchema {
                found,
                known: SCHEMA_VERSION,
            });
        }
        Some(found) if found == SCHEMA_VERSION => {}
        _ => {
            tx.execute("DELETE FROM schema_version", [])?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                params![SCHEMA_VERSION],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

impl Backend for SqliteStore {
    fn ensure_org(&self, org: &str, created: i64) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR IGNORE INTO orgs (id, created) VALUES (?1, ?2)",
            params![org, created],
        )?;
        Ok(())
    }

    fn insert_keys(
        &self,
        org: &str,
        id: &str,
        api_hash: &[u8],
        app_hash: &[u8],
        permissions: &str,
        created: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO api_keys (hash, org, created, id) VALUES (?1, ?2, ?3, ?4)",
            params![api_hash, org, created, id],
        )?;
        tx.execute(
            "INSERT INTO app_keys (hash, org, permissions, created, id) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![app_hash, org, permissions, created, id],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn api_key(&self, hash: &[u8]) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT hash, org FROM api_keys WHERE hash = ?1",
                params![hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn app_key(&self, hash: &[u8]) -> Result<Option<(Vec<u8>, String, String)>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT hash, org, permissions FROM app_keys WHERE hash = ?1",
                params![hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    fn key_rows(&self, org: Option<&str>) -> Result<Vec<KeyRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, org, created, 'api', '' FROM api_keys WHERE ?1 IS NULL OR org = ?1
             UNION ALL
             SELECT id, org, created, 'application', permissions FROM app_keys
             WHERE ?1 IS NULL OR org = ?1
             ORDER BY 3, 1",
        )?;
        let rows = stmt.query_map(params![org], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn revoke_keys(&self, id: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let api = tx.execute("DELETE FROM api_keys WHERE id = ?1", params![id])?;
        let app = tx.execute("DELETE FROM app_keys WHERE id = ?1", params![id])?;
        tx.commit()?;
        Ok(api + app > 0)
    }

    fn grant(&self, org: &str, account: &str, permissions: &[&str]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for p in permissions {
            tx.execute(
                "INSERT OR IGNORE INTO grants (org, account, permission) VALUES (?1, ?2, ?3)",
                params![org, account, p],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn granted(&self, org: &str, account: &str) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT permission FROM grants WHERE org = ?1 AND account = ?2")?;
        let rows = stmt.query_map(params![org, account], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn revoke_grant(
        &self,
        org: &str,
        account: &str,
        permissions: &[&str],
    ) -> Result<usize, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut revoked = 0;
        for p in permissions {
            revoked += tx.execute(
                "DELETE FROM grants WHERE org = ?1 AND account = ?2 AND permission = ?3",
                params![org, account, p],
            )?;
        }
        tx.commit()?;
        Ok(revoked)
    }

    fn insert_mapping_if(
        &self,
        mapping: &StoredMapping,
        expected: Option<&str>,
        proceed: &mut dyn FnMut() -> bool,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        // IMMEDIATE: the write lock first, so the check below holds until
        // the commit (an admin command may write the same file).
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some(expected) = expected {
            let ids: Vec<String> = tx
                .prepare("SELECT id FROM mappings WHERE org = ?1 ORDER BY seq")?
                .query_map(params![mapping.org], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            if super::fingerprint_ids(ids.iter().map(String::as_str)) != expected {
                return Err(StoreError::Changed);
            }
        }
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

    fn delete_mapping_if(
        &self,
        org: &str,
        id: &str,
        proceed: &mut dyn FnMut() -> bool,
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

    fn mapping(&self, org: &str, id: &str) -> Result<Option<StoredMapping>, StoreError> {
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

    fn mappings(&self, org: &str) -> Result<Vec<StoredMapping>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, org, account_identifier, arn_pattern, created FROM mappings
             WHERE org = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![org], row_to_mapping)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn orgs_with_mappings(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT DISTINCT org FROM mappings ORDER BY org")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_mappings(&self, org: &str) -> Result<usize, StoreError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::store::Store;

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
