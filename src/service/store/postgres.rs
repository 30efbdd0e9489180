//! The PostgreSQL backend: the store several replicas of `arnmap serve`
//! share (`--store postgres://USER@HOST:PORT/DB`).
//!
//! The synchronous `postgres` client (rust-postgres) behind an r2d2 pool:
//! the service already calls the store from `spawn_blocking`, so a blocking
//! client keeps one code path for both backends. Connections are plain TCP
//! (`NoTls`): meant for loopback or a Unix socket (`host=/run/postgresql`);
//! across a network, put TLS in front (see the README).
//!
//! Schema migrations are versioned in `schema_version` and applied at
//! connect, in one transaction under an advisory lock, so replicas starting
//! together apply each once; a schema newer than this build knows is
//! refused, never downgraded. A persona-mapping write is one transaction
//! that first takes a transaction-level advisory lock on its org: writers of
//! one org, on any replica, are serialised, so `seq` (the org's
//! `MAX(seq) + 1`) is monotonic and the duplicate check cannot race.

use std::time::Duration;

use postgres::NoTls;
use r2d2_postgres::PostgresConnectionManager;

use postgres::fallible_iterator::FallibleIterator as _;

use super::{
    Backend, BudgetCharge, ChangeFeed, KeyRow, ReplayReservation, StoreError, StoredMapping,
};

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// Advisory-lock namespaces (the first key of the two-key form).
const LOCK_MIGRATIONS: i32 = 0x6172_6e00;
const LOCK_ORG: i32 = 0x6172_6e01;

/// The channel every mapping write notifies (payload: the org), inside its
/// transaction: PostgreSQL delivers it on commit only.
const CHANNEL: &str = "arnmap_mappings";

/// The migrations, in order: version N is `MIGRATIONS[N - 1]`.
const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    created BIGINT NOT NULL
);
CREATE TABLE api_keys (
    hash BYTEA PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(id),
    created BIGINT NOT NULL,
    id TEXT NOT NULL UNIQUE
);
CREATE TABLE app_keys (
    hash BYTEA PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(id),
    permissions TEXT NOT NULL,
    created BIGINT NOT NULL,
    id TEXT NOT NULL UNIQUE
);
CREATE TABLE grants (
    org TEXT NOT NULL REFERENCES orgs(id),
    account TEXT NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (org, account, permission)
);
CREATE TABLE mappings (
    id TEXT PRIMARY KEY,
    org TEXT NOT NULL,
    account_identifier TEXT NOT NULL,
    arn_pattern TEXT NOT NULL,
    created BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    UNIQUE (org, arn_pattern),
    UNIQUE (org, seq)
);
",
    "
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    jwk TEXT NOT NULL,
    created BIGINT NOT NULL
);
",
    "
CREATE TABLE replay (
    signature TEXT PRIMARY KEY,
    org TEXT NOT NULL,
    expires BIGINT NOT NULL
);
CREATE INDEX replay_org_expires ON replay (org, expires);
CREATE INDEX replay_expires ON replay (expires);
",
    "
CREATE TABLE org_budget (
    org TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    updated TIMESTAMPTZ NOT NULL
);
",
];

/// The newest schema version this build knows.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The PostgreSQL store: a pool of connections.
pub(crate) struct PgStore {
    pool: Pool,
    /// For the change feed's own connection.
    config: postgres::Config,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("connections", &self.pool.state().connections)
            .finish()
    }
}

/// A PostgreSQL error with its cause (the server's message), never the URL.
fn pg(e: postgres::Error) -> StoreError {
    match e.as_db_error() {
        // The server is going away or not accepting connections yet
        // (57P01 admin_shutdown and the rest of 57P0x during a restart;
        // class 08, connection exceptions): worth retrying, not a failure.
        Some(db) if db.code().code().starts_with("57P0") || db.code().code().starts_with("08") => {
            StoreError::Unavailable(format!("{}: {}", db.code().code(), db.message()))
        }
        Some(db) => StoreError::Postgres(format!("{}: {}", db.code().code(), db.message())),
        None => {
            let cause = std::error::Error::source(&e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            if e.is_closed()
                || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>())
            {
                StoreError::Unavailable(format!("{e}{cause}"))
            } else {
                StoreError::Postgres(format!("{e}{cause}"))
            }
        }
    }
}

fn pool_error(e: r2d2::Error) -> StoreError {
    StoreError::Unavailable(format!("no database connection: {e}"))
}

fn is_unique_violation(e: &postgres::Error) -> bool {
    e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
}

impl PgStore {
    /// Connects, then applies the migrations.
    pub(crate) fn connect(url: &str) -> Result<PgStore, StoreError> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e: postgres::Error| StoreError::Postgres(format!("store URL: {e}")))?;
        config.connect_timeout(Duration::from_secs(5));
        config.application_name("arnmap");
        let manager = PostgresConnectionManager::new(config.clone(), NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(5))
            .build(manager)
            .map_err(pool_error)?;
        let store = PgStore { pool, config };
        store.migrate()?;
        Ok(store)
    }

    fn client(
        &self,
    ) -> Result<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>, StoreError> {
        self.pool.get().map_err(pool_error)
    }

    /// Applies every migration newer than the stored version, in one
    /// transaction under an advisory lock; refuses a newer stored version.
    fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(pg)?;
        tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_MIGRATIONS])
            .map_err(pg)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            .map_err(pg)?;
        let found: Option<i64> = tx
            .query_one("SELECT MAX(version) FROM schema_version", &[])
            .map_err(pg)?
            .get(0);
        let found = found.unwrap_or(0);
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                found,
                known: SCHEMA_VERSION,
            });
        }
        if found == SCHEMA_VERSION {
            return tx.commit().map_err(pg);
        }
        for (version, sql) in (1..).zip(MIGRATIONS) {
            if version > found {
                tx.batch_execute(sql).map_err(pg)?;
            }
        }
        tx.execute("DELETE FROM schema_version", &[]).map_err(pg)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&SCHEMA_VERSION],
        )
        .map_err(pg)?;
        tx.commit().map_err(pg)
    }
}

/// Announces, on commit of `tx`, that `org`'s mappings changed.
fn notify(tx: &mut postgres::Transaction<'_>, org: &str) -> Result<(), StoreError> {
    tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &org])
        .map_err(pg)?;
    Ok(())
}

/// The change feed: one dedicated connection that `LISTEN`s.
struct PgFeed {
    client: postgres::Client,
}

impl ChangeFeed for PgFeed {
    fn wait(&mut self, wait: Duration) -> Result<Vec<String>, StoreError> {
        let mut orgs: Vec<String> = Vec::new();
        {
            let mut notifications = self.client.notifications();
            let first = notifications.timeout_iter(wait).next().map_err(pg)?;
            if let Some(first) = first {
                orgs.push(first.payload().to_owned());
                // Whatever else already arrived, without waiting.
                let mut pending = notifications.iter();
                while let Some(n) = pending.next().map_err(pg)? {
                    orgs.push(n.payload().to_owned());
                }
            }
        }
        if self.client.is_closed() {
            return Err(StoreError::Postgres(
                "the change feed's connection closed".into(),
            ));
        }
        orgs.sort_unstable();
        orgs.dedup();
        Ok(orgs)
    }

    fn ping(&mut self) -> Result<(), StoreError> {
        self.client.batch_execute("SELECT 1").map_err(pg)
    }
}

fn row_to_mapping(r: &postgres::Row) -> StoredMapping {
    StoredMapping {
        id: r.get(0),
        org: r.get(1),
        account_identifier: r.get(2),
        arn_pattern: r.get(3),
        created: r.get(4),
    }
}

fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl Backend for PgStore {
    fn ensure_org(&self, org: &str, created: i64) -> Result<(), StoreError> {
        self.client()?
            .execute(
                "INSERT INTO orgs (id, created) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
                &[&org, &created],
            )
            .map_err(pg)?;
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
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(pg)?;
        tx.execute(
            "INSERT INTO api_keys (hash, org, created, id) VALUES ($1, $2, $3, $4)",
            &[&api_hash, &org, &created, &id],
        )
        .map_err(pg)?;
        tx.execute(
            "INSERT INTO app_keys (hash, org, permissions, created, id) VALUES ($1, $2, $3, $4, $5)",
            &[&app_hash, &org, &permissions, &created, &id],
        )
        .map_err(pg)?;
        tx.commit().map_err(pg)
    }

    fn api_key(&self, hash: &[u8]) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        Ok(self
            .client()?
            .query_opt("SELECT hash, org FROM api_keys WHERE hash = $1", &[&hash])
            .map_err(pg)?
            .map(|r| (r.get(0), r.get(1))))
    }

    fn app_key(&self, hash: &[u8]) -> Result<Option<(Vec<u8>, String, String)>, StoreError> {
        Ok(self
            .client()?
            .query_opt(
                "SELECT hash, org, permissions FROM app_keys WHERE hash = $1",
                &[&hash],
            )
            .map_err(pg)?
            .map(|r| (r.get(0), r.get(1), r.get(2))))
    }

    fn key_rows(&self, org: Option<&str>) -> Result<Vec<KeyRow>, StoreError> {
        let rows = self
            .client()?
            .query(
                "SELECT id, org, created, 'api'::TEXT, ''::TEXT FROM api_keys
                 WHERE $1::TEXT IS NULL OR org = $1
                 UNION ALL
                 SELECT id, org, created, 'application'::TEXT, permissions FROM app_keys
                 WHERE $1::TEXT IS NULL OR org = $1
                 ORDER BY 3, 1",
                &[&org],
            )
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .collect())
    }

    fn revoke_keys(&self, id: &str) -> Result<bool, StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(pg)?;
        let api = tx
            .execute("DELETE FROM api_keys WHERE id = $1", &[&id])
            .map_err(pg)?;
        let app = tx
            .execute("DELETE FROM app_keys WHERE id = $1", &[&id])
            .map_err(pg)?;
        tx.commit().map_err(pg)?;
        Ok(api + app > 0)
    }

    fn grant(&self, org: &str, account: &str, permissions: &[&str]) -> Result<(), StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(pg)?;
        for p in permissions {
            tx.execute(
                "INSERT INTO grants (org, account, permission) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&org, &account, p],
            )
            .map_err(pg)?;
        }
        tx.commit().map_err(pg)
    }

    fn granted(&self, org: &str, account: &str) -> Result<Vec<String>, StoreError> {
        let rows = self
            .client()?
            .query(
                "SELECT permission FROM grants WHERE org = $1 AND account = $2",
                &[&org, &account],
            )
            .map_err(pg)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn revoke_grant(
        &self,
        org: &str,
        account: &str,
        permissions: &[&str],
    ) -> Result<usize, StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(pg)?;
        let mut revoked = 0;
        for p in permissions {
            revoked += tx
                .execute(
                    "DELETE FROM grants WHERE org = $1 AND account = $2 AND permission = $3",
                    &[&org, &account, p],
                )
                .map_err(pg)?;
        }
        tx.commit().map_err(pg)?;
        Ok(count(revoked))
    }

    fn insert_mapping_if(
        &self,
        mapping: &StoredMapping,
        expected: Option<&str>,
        proceed: &mut dyn FnMut() -> bool,
    ) -> Result<bool, StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(pg)?;
        // Every writer of this org, on every replica, waits here: the
        // duplicate check and MAX(seq) + 1 below see every earlier write.
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&LOCK_ORG, &mapping.org],
        )
        .map_err(pg)?;
        // Under the lock: are the org's mappings still the ones the caller
        // linted the new one against? (Another replica may have written
        // between its read and this lock.)
        if let Some(expected) = expected {
            let rows = tx
                .query(
                    "SELECT id FROM mappings WHERE org = $1 ORDER BY seq",
                    &[&mapping.org],
                )
                .map_err(pg)?;
            let ids: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
            if super::fingerprint_ids(ids.iter().map(String::as_str)) != expected {
                return Err(StoreError::Changed);
            }
        }
        let existing = tx
            .query_opt(
                "SELECT id FROM mappings WHERE org = $1 AND arn_pattern = $2",
                &[&mapping.org, &mapping.arn_pattern],
            )
            .map_err(pg)?;
        if let Some(row) = existing {
            return Err(StoreError::Duplicate(row.get(0)));
        }
        let inserted = tx.execute(
            "INSERT INTO mappings (id, org, account_identifier, arn_pattern, created, seq)
             VALUES ($1, $2, $3, $4, $5,
                     (SELECT COALESCE(MAX(seq), 0) + 1 FROM mappings WHERE org = $2))",
            &[
                &mapping.id,
                &mapping.org,
                &mapping.account_identifier,
                &mapping.arn_pattern,
                &mapping.created,
            ],
        );
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Duplicate(mapping.id.clone()));
            }
            Err(e) => return Err(pg(e)),
        }
        if !proceed() {
            tx.rollback().map_err(pg)?;
            return Ok(false);
        }
        notify(&mut tx, &mapping.org)?;
        tx.commit().map_err(pg)?;
        Ok(true)
    }

    fn delete_mapping_if(
        &self,
        org: &str,
        id: &str,
        proceed: &mut dyn FnMut() -> bool,
    ) -> Result<Option<bool>, StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(pg)?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&LOCK_ORG, &org],
        )
        .map_err(pg)?;
        let n = tx
            .execute(
                "DELETE FROM mappings WHERE org = $1 AND id = $2",
                &[&org, &id],
            )
            .map_err(pg)?;
        if !proceed() {
            tx.rollback().map_err(pg)?;
            return Ok(None);
        }
        if n > 0 {
            notify(&mut tx, org)?;
        }
        tx.commit().map_err(pg)?;
        Ok(Some(n > 0))
    }

    fn mapping(&self, org: &str, id: &str) -> Result<Option<StoredMapping>, StoreError> {
        Ok(self
            .client()?
            .query_opt(
                "SELECT id, org, account_identifier, arn_pattern, created FROM mappings
                 WHERE org = $1 AND id = $2",
                &[&org, &id],
            )
            .map_err(pg)?
            .as_ref()
            .map(row_to_mapping))
    }

    fn mappings(&self, org: &str) -> Result<Vec<StoredMapping>, StoreError> {
        let rows = self
            .client()?
            .query(
                "SELECT id, org, account_identifier, arn_pattern, created FROM mappings
                 WHERE org = $1 ORDER BY seq",
                &[&org],
            )
            .map_err(pg)?;
        Ok(rows.iter().map(row_to_mapping).collect())
    }

    fn orgs_with_mappings(&self) -> Result<Vec<String>, StoreError> {
        let rows = self
            .client()?
            .query("SELECT DISTINCT org FROM mappings ORDER BY org", &[])
            .map_err(pg)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn delete_mappings(&self, org: &str) -> Result<usize, StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(pg)?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&LOCK_ORG, &org],
        )
        .map_err(pg)?;
        let n = tx
            .execute("DELETE FROM mappings WHERE org = $1", &[&org])
            .map_err(pg)?;
        if n > 0 {
            notify(&mut tx, org)?;
        }
        tx.commit().map_err(pg)?;
        Ok(count(n))
    }

    fn mapping_fingerprints(&self) -> Result<Vec<(String, String)>, StoreError> {
        // The same digest as `super::fingerprint`, computed by the server:
        // one row per org crosses the network.
        let rows = self
            .client()?
            .query(
                "SELECT org, encode(sha256(convert_to(string_agg(id, ',' ORDER BY seq), 'UTF8')), 'hex')
                 FROM mappings GROUP BY org ORDER BY org",
                &[],
            )
            .map_err(pg)?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn change_feed(&self) -> Option<Result<Box<dyn ChangeFeed>, StoreError>> {
        let open = || -> Result<Box<dyn ChangeFeed>, StoreError> {
            let mut config = self.config.clone();
            // A dead peer is noticed by keepalives as well as by the pings.
            config.keepalives(true);
            config.keepalives_idle(Duration::from_secs(5));
            config.application_name("arnmap-listen");
            let mut client = config.connect(NoTls).map_err(pg)?;
            client
                .batch_execute(&format!("LISTEN {CHANNEL}"))
                .map_err(pg)?;
            Ok(Box::new(PgFeed { client }))
        };
        Some(open())
    }

    fn is_shared(&self) -> bool {
        true
    }

    fn publish_signing_key(
        &self,
        kid: &str,
        algorithm: &str,
        jwk: &str,
        created: i64,
    ) -> Result<(), StoreError> {
        self.client()?
            .execute(
                "INSERT INTO signing_keys (kid, algorithm, jwk, created) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (kid) DO NOTHING",
                &[&kid, &algorithm, &jwk, &created],
            )
            .map_err(pg)?;
        Ok(())
    }

    fn reserve_replay(
        &self,
        signature: &str,
        org: &str,
        expires_ms: i64,
        now_ms: i64,
        per_org: i64,
    ) -> Result<ReplayReservation, StoreError> {
        // An exchange waits at most a second for a connection here; past
        // that the verifier keeps to its own cache.
        let mut client = self
            .pool
            .get_timeout(Duration::from_secs(1))
            .map_err(pool_error)?;
        // Expired rows go opportunistically, a few at a time.
        client
            .execute(
                "DELETE FROM replay WHERE signature IN
                 (SELECT signature FROM replay WHERE expires <= $1 LIMIT 64)",
                &[&now_ms],
            )
            .map_err(pg)?;
        // One statement: reserved unless a live row has this signature (an
        // expired one is taken over) or the org already holds its share.
        // The count is not serialised against concurrent reservations of
        // the org on other connections: the share is approximate (it can be
        // exceeded by about the number of concurrent reservations).
        let reserved = client
            .execute(
                "INSERT INTO replay (signature, org, expires)
                 SELECT $1, $2, $3
                 WHERE (SELECT COUNT(*) FROM replay WHERE org = $2 AND expires > $4) < $5
                 ON CONFLICT (signature) DO UPDATE
                     SET org = EXCLUDED.org, expires = EXCLUDED.expires
                     WHERE replay.expires <= $4",
                &[&signature, &org, &expires_ms, &now_ms, &per_org],
            )
            .map_err(pg)?;
        if reserved > 0 {
            return Ok(ReplayReservation::Reserved);
        }
        let live = client
            .query_opt(
                "SELECT 1 FROM replay WHERE signature = $1 AND expires > $2",
                &[&signature, &now_ms],
            )
            .map_err(pg)?;
        Ok(if live.is_some() {
            ReplayReservation::Replayed
        } else {
            ReplayReservation::Full
        })
    }

    fn charge_budget(&self, org: &str, rate: f64, burst: f64) -> Result<BudgetCharge, StoreError> {
        // Like the replay cache: an exchange waits at most a second for a
        // connection; past that the replica keeps to its own limiter.
        let mut client = self
            .pool
            .get_timeout(Duration::from_secs(1))
            .map_err(pool_error)?;
        // One statement: the org's bucket is refilled by `rate` per second
        // since it was last charged (at most `burst`) and charged one token
        // if it then holds one; the row lock of ON CONFLICT DO UPDATE
        // serialises concurrent charges of the org on every replica. The
        // outer SELECT sees the row as it was before this statement, so when
        // nothing was charged it gives the refilled tokens (the deficit).
        // The database's clock is the only clock: replicas' clocks may differ.
        let row = client
            .query_one(
                "WITH charged AS (
                     INSERT INTO org_budget AS b (org, tokens, updated)
                     VALUES ($1, $3::float8 - 1, clock_timestamp())
                     ON CONFLICT (org) DO UPDATE
                         SET tokens = LEAST($3::float8, b.tokens + $2::float8 * GREATEST(0,
                                 EXTRACT(EPOCH FROM clock_timestamp() - b.updated)::float8)) - 1,
                             updated = clock_timestamp()
                         WHERE LEAST($3::float8, b.tokens + $2::float8 * GREATEST(0,
                                 EXTRACT(EPOCH FROM clock_timestamp() - b.updated)::float8)) >= 1
                     RETURNING b.tokens
                 )
                 SELECT (SELECT tokens FROM charged),
                        (SELECT LEAST($3::float8, tokens + $2::float8 * GREATEST(0,
                                EXTRACT(EPOCH FROM clock_timestamp() - updated)::float8))
                         FROM org_budget WHERE org = $1)",
                &[&org, &rate, &burst],
            )
            .map_err(pg)?;
        let charged: Option<f64> = row.get(0);
        if charged.is_some() {
            return Ok(BudgetCharge::Taken);
        }
        let tokens: Option<f64> = row.get(1);
        let deficit = 1.0 - tokens.unwrap_or(0.0);
        Ok(BudgetCharge::Limited {
            wait_secs: (deficit / rate).max(0.0),
        })
    }

    fn release_replay(&self, signature: &str) -> Result<(), StoreError> {
        self.pool
            .get_timeout(Duration::from_secs(1))
            .map_err(pool_error)?
            .execute("DELETE FROM replay WHERE signature = $1", &[&signature])
            .map_err(pg)?;
        Ok(())
    }

    fn signing_keys(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = self
            .client()?
            .query(
                "SELECT algorithm, jwk FROM signing_keys ORDER BY created, kid",
                &[],
            )
            .map_err(pg)?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}
