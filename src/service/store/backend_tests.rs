//! The store's behaviour, one test body run against both backends: SQLite
//! in a data directory and PostgreSQL in a private cluster
//! (`tests/service/pg_support.rs`, shared with the service tests).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[cfg(feature = "postgres")]
#[path = "../../../tests/service/pg_support.rs"]
mod pg_support;

#[cfg(feature = "postgres")]
use pg_support::PgCluster;

use super::{Permission, Store, StoreError, StoredMapping, fingerprint};

const ORG: &str = "0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10";
const OTHER_ORG: &str = "6f1d2c3b-4a5e-4f60-8b7a-9c8d7e6f5a4b";

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "arnmap-{name}-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mapping(id: &str, org: &str, pattern: &str, created: i64) -> StoredMapping {
    StoredMapping {
        id: id.to_owned(),
        org: org.to_owned(),
        account_identifier: format!("{id}@example.com"),
        arn_pattern: format!("arn:aws:iam::123456789012:role/{pattern}"),
        created,
    }
}

fn ids(store: &Store, org: &str) -> Vec<String> {
    store
        .mappings(org)
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect()
}

/// The shared body. `open` opens the store (again); `set_version` writes a
/// stored schema version behind the store's back.
fn exercise(open: &dyn Fn() -> Result<Store, StoreError>, set_version: &dyn Fn(i64)) {
    let store = open().unwrap();

    // Keys: created, authenticated, listed, revoked.
    let keys = store
        .create_keys(&ORG.to_uppercase(), &[Permission::Write, Permission::Read])
        .unwrap();
    let other = store.create_keys(OTHER_ORG, &[Permission::Read]).unwrap();
    let holder = store
        .authenticate_keys(&keys.api_key, &keys.app_key)
        .unwrap()
        .expect("the pair authenticates");
    assert_eq!(holder.org, ORG);
    assert_eq!(holder.permissions, [Permission::Read, Permission::Write]);
    assert_eq!(
        store
            .authenticate_keys(&keys.api_key, &other.app_key)
            .unwrap(),
        None,
        "halves of two orgs' pairs"
    );
    assert_eq!(store.authenticate_keys(&keys.api_key, "0").unwrap(), None);
    let listed = store.keys(Some(ORG)).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, keys.id);
    assert_eq!(listed[0].keys, ["api", "application"]);
    assert_eq!(
        listed[0].permissions,
        ["cloud_auth_config_read", "cloud_auth_config_write"]
    );
    assert_eq!(store.keys(None).unwrap().len(), 2);
    assert!(store.revoke_keys(&keys.id).unwrap());
    assert!(!store.revoke_keys(&keys.id).unwrap());
    assert_eq!(
        store
            .authenticate_keys(&keys.api_key, &keys.app_key)
            .unwrap(),
        None
    );
    assert!(
        store
            .authenticate_keys(&other.api_key, &other.app_key)
            .unwrap()
            .is_some()
    );

    // Grants.
    let account = "ops@example.com";
    store
        .grant(ORG, account, &[Permission::Read, Permission::Write])
        .unwrap();
    store.grant(ORG, account, &[Permission::Read]).unwrap();
    let mut granted = store.granted(ORG, account).unwrap();
    granted.sort();
    assert_eq!(granted, [Permission::Read, Permission::Write]);
    assert_eq!(
        store
            .revoke_grant(ORG, account, &[Permission::Write])
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .revoke_grant(ORG, account, &[Permission::Write])
            .unwrap(),
        0
    );
    assert_eq!(store.granted(ORG, account).unwrap(), [Permission::Read]);
    assert!(store.granted(OTHER_ORG, account).unwrap().is_empty());

    // Mappings: in the stored sequence, not by id or time.
    for (id, created) in [("c", 5), ("a", 9), ("b", 1)] {
        store
            .insert_mapping(&mapping(id, ORG, id, created))
            .unwrap();
    }
    store
        .insert_mapping(&mapping("z", OTHER_ORG, "z", 0))
        .unwrap();
    assert_eq!(ids(&store, ORG), ["c", "a", "b"]);
    assert_eq!(
        store.mapping(ORG, "a").unwrap(),
        Some(mapping("a", ORG, "a", 9))
    );
    assert_eq!(store.mapping(OTHER_ORG, "a").unwrap(), None);
    match store.insert_mapping(&mapping("dup", ORG, "a", 0)) {
        Err(StoreError::Duplicate(id)) => assert_eq!(id, "a"),
        other => panic!("a duplicate pattern: {other:?}"),
    }
    // The same pattern in another org is no duplicate.
    store
        .insert_mapping(&mapping("a2", OTHER_ORG, "a", 0))
        .unwrap();
    // Rolled back when the deadline says no.
    assert!(
        !store
            .insert_mapping_if(&mapping("late", ORG, "late", 0), || false)
            .unwrap()
    );
    assert_eq!(store.delete_mapping_if(ORG, "c", || false).unwrap(), None);
    assert_eq!(ids(&store, ORG), ["c", "a", "b"]);
    assert!(store.delete_mapping(ORG, "c").unwrap());
    assert!(!store.delete_mapping(ORG, "c").unwrap());
    assert!(!store.delete_mapping(OTHER_ORG, "a").unwrap());
    assert_eq!(
        store.delete_mapping_if(ORG, "nope", || true).unwrap(),
        Some(false)
    );
    store.insert_mapping(&mapping("0", ORG, "c", 0)).unwrap();
    assert_eq!(ids(&store, ORG), ["a", "b", "0"]);
    // A checked insert writes only over the mappings it was checked against.
    let read = fingerprint(&store.mappings(ORG).unwrap());
    match store.insert_mapping_checked(&mapping("x", ORG, "x", 0), &fingerprint(&[]), || true) {
        Err(StoreError::Changed) => {}
        other => panic!("a stale fingerprint: {other:?}"),
    }
    assert_eq!(ids(&store, ORG), ["a", "b", "0"]);
    assert!(
        store
            .insert_mapping_checked(&mapping("x", ORG, "x", 0), &read, || true)
            .unwrap()
    );
    assert!(store.delete_mapping(ORG, "x").unwrap());
    assert_eq!(ids(&store, ORG), ["a", "b", "0"]);
    let mut orgs = store.orgs_with_mappings().unwrap();
    orgs.sort();
    assert_eq!(orgs, [ORG, OTHER_ORG]);
    // The store's fingerprints (PostgreSQL computes them itself) are the
    // ones a replica computes from the mappings it compiled.
    let mut fingerprints = store.mapping_fingerprints().unwrap();
    fingerprints.sort();
    let expected: Vec<(String, String)> = [ORG, OTHER_ORG]
        .iter()
        .map(|org| (org.to_string(), fingerprint(&store.mappings(org).unwrap())))
        .collect();
    assert_eq!(fingerprints, expected);
    assert_ne!(fingerprints[0].1, fingerprints[1].1);
    drop(store);

    // Migrations are idempotent: opened again, everything is there.
    let store = open().unwrap();
    assert_eq!(ids(&store, ORG), ["a", "b", "0"]);
    assert!(
        store
            .authenticate_keys(&other.api_key, &other.app_key)
            .unwrap()
            .is_some()
    );
    assert_eq!(store.delete_mappings(OTHER_ORG).unwrap(), 2);
    assert_eq!(store.orgs_with_mappings().unwrap(), [ORG]);
    drop(store);
    let _ = open().unwrap();

    // A newer schema than this build knows is refused, never downgraded.
    set_version(1_000);
    match open() {
        Err(e @ StoreError::NewerSchema { found: 1_000, .. }) => {
            assert!(e.to_string().contains("newer"), "{e}");
        }
        other => panic!("a newer schema: {other:?}"),
    }
    match open() {
        Err(StoreError::NewerSchema { found: 1_000, .. }) => {}
        other => panic!("still refused, not downgraded: {other:?}"),
    }
}

#[test]
fn the_sqlite_store() {
    let dir = temp_dir("store-sqlite");
    let file = dir.join("arnmap.sqlite3");
    exercise(&|| Store::open(&dir), &|version| {
        let conn = rusqlite::Connection::open(&file).unwrap();
        conn.execute("UPDATE schema_version SET version = ?1", [version])
            .unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "postgres")]
#[test]
fn the_postgres_store() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.create_db("store");
    exercise(&|| Store::connect(&url), &|version| {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client
            .execute("UPDATE schema_version SET version = $1", &[&version])
            .unwrap();
    });
}

/// Writers of one org on two "replicas" (two stores on one database), four
/// threads each: every insert succeeds (the org's advisory lock serialises
/// the sequence and the duplicate check), and each writer's mappings are
/// listed in the order it wrote them.
#[cfg(feature = "postgres")]
#[test]
fn postgres_sequences_under_concurrent_writers() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.create_db("concurrent");
    let stores = [Store::connect(&url).unwrap(), Store::connect(&url).unwrap()];
    let per_writer = 15;
    std::thread::scope(|scope| {
        for (r, store) in stores.iter().enumerate() {
            for t in 0..4 {
                scope.spawn(move || {
                    for i in 0..per_writer {
                        let id = format!("r{r}t{t}-{i:02}");
                        store.insert_mapping(&mapping(&id, ORG, &id, 0)).unwrap();
                    }
                });
            }
        }
    });
    let listed = ids(&stores[1], ORG);
    assert_eq!(listed.len(), 2 * 4 * per_writer);
    for r in 0..2 {
        for t in 0..4 {
            let prefix = format!("r{r}t{t}-");
            let mine: Vec<&String> = listed.iter().filter(|id| id.starts_with(&prefix)).collect();
            let mut sorted = mine.clone();
            sorted.sort();
            assert_eq!(mine, sorted, "writer {prefix} in write order");
        }
    }
    // And both replicas see the same order.
    assert_eq!(ids(&stores[0], ORG), listed);
}

/// Two "replicas" (two stores on one database) each read the org's mappings,
/// then insert checked against what they read: the second finds the org
/// changed (nothing written) and, read again, succeeds. Then eight writers
/// on both stores, each retrying on `Changed`, all get in, every insert
/// over the exact mappings it read.
#[cfg(feature = "postgres")]
#[test]
fn postgres_checked_inserts_see_other_replicas() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.create_db("checked");
    let stores = [Store::connect(&url).unwrap(), Store::connect(&url).unwrap()];
    let read0 = fingerprint(&stores[0].mappings(ORG).unwrap());
    let read1 = fingerprint(&stores[1].mappings(ORG).unwrap());
    assert!(
        stores[0]
            .insert_mapping_checked(&mapping("one", ORG, "one", 0), &read0, || true)
            .unwrap()
    );
    match stores[1].insert_mapping_checked(&mapping("two", ORG, "two", 0), &read1, || true) {
        Err(StoreError::Changed) => {}
        other => panic!("the other replica's write was not seen: {other:?}"),
    }
    assert_eq!(ids(&stores[0], ORG), ["one"]);
    let read1 = fingerprint(&stores[1].mappings(ORG).unwrap());
    assert!(
        stores[1]
            .insert_mapping_checked(&mapping("two", ORG, "two", 0), &read1, || true)
            .unwrap()
    );
    assert_eq!(ids(&stores[0], ORG), ["one", "two"]);

    let changed = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for (r, store) in stores.iter().enumerate() {
            for t in 0..4 {
                let changed = &changed;
                scope.spawn(move || {
                    for i in 0..5 {
                        let id = format!("r{r}t{t}-{i}");
                        loop {
                            let read = fingerprint(&store.mappings(ORG).unwrap());
                            match store.insert_mapping_checked(
                                &mapping(&id, ORG, &id, 0),
                                &read,
                                || true,
                            ) {
                                Ok(true) => break,
                                Err(StoreError::Changed) => {
                                    changed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                }
                                other => panic!("{other:?}"),
                            }
                        }
                    }
                });
            }
        }
    });
    assert_eq!(ids(&stores[1], ORG).len(), 2 + 2 * 4 * 5);
    // How often they raced depends on scheduling: not asserted.
    let _ = changed.into_inner();
}

/// The shared exchange budget on two "replicas" (two stores on one
/// database), eight threads charging at once: exactly `burst` tokens are
/// taken (the row lock serialises charges), the rest are limited with the
/// time to the next token; another org has its own bucket; SQLite has no
/// shared budget (every charge is taken: the replica's limiter decides).
#[cfg(feature = "postgres")]
#[test]
fn postgres_budget_charges_are_atomic_across_replicas() {
    use super::BudgetCharge;
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.create_db("budget");
    let stores = [Store::connect(&url).unwrap(), Store::connect(&url).unwrap()];
    // 0.01 token per second: no refill worth a token during the test.
    let (rate, burst) = (0.01, 10.0);
    let taken = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for store in &stores {
            for _ in 0..4 {
                let taken = &taken;
                scope.spawn(move || {
                    for _ in 0..5 {
                        match store.charge_budget(ORG, rate, burst).unwrap() {
                            BudgetCharge::Taken => {
                                taken.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                            BudgetCharge::Limited { wait_secs } => {
                                assert!(wait_secs > 0.0 && wait_secs <= 1.0 / rate, "{wait_secs}");
                            }
                        }
                    }
                });
            }
        }
    });
    assert_eq!(taken.into_inner(), 10);
    match stores[0].charge_budget(ORG, rate, burst).unwrap() {
        BudgetCharge::Limited { wait_secs } => {
            assert!(wait_secs > 90.0 && wait_secs <= 100.0, "{wait_secs}");
        }
        BudgetCharge::Taken => panic!("the budget is spent"),
    }
    assert_eq!(
        stores[1].charge_budget(OTHER_ORG, rate, burst).unwrap(),
        BudgetCharge::Taken
    );
    let dir = temp_dir("budget-sqlite");
    let sqlite = Store::open(&dir).unwrap();
    for _ in 0..3 {
        assert_eq!(
            sqlite.charge_budget(ORG, rate, 1.0).unwrap(),
            BudgetCharge::Taken
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
