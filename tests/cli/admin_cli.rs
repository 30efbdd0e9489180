//! `arnmap keys list|revoke`, `arnmap grant --revoke`, `arnmap mappings
//! list|delete`: operator tools on a temporary data dir, no SQL.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::{Digest as _, Sha256};

const ORG: &str = "0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10";
const OTHER: &str = "6f1d2c3b-4a5e-4f60-8b7a-9c8d7e6f5a4b";
const READ: &str = "cloud_auth_config_read";
const WRITE: &str = "cloud_auth_config_write";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_arnmap"))
        .args(args)
        .output()
        .unwrap()
}

fn data_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "admin-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn d(dir: &Path) -> &str {
    dir.to_str().unwrap()
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// `(api_key, app_key, id)` from `arnmap keys create`.
fn create(dir: &Path, org: &str, perms: &[&str]) -> (String, String, String) {
    let mut args = vec![
        "keys",
        "create",
        "--data-dir",
        d(dir),
        "--org",
        org,
        "--permission",
    ];
    args.extend_from_slice(perms);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        v["api_key"].as_str().unwrap().to_owned(),
        v["app_key"].as_str().unwrap().to_owned(),
        v["id"].as_str().unwrap().to_owned(),
    )
}

fn list(dir: &Path, org: &str) -> Vec<Value> {
    let out = run(&["keys", "list", "--data-dir", d(dir), "--org", org]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    lines(&out)
}

#[test]
fn keys_are_listed_without_secrets_and_revoked_by_id() {
    let dir = data_dir("keys");
    let rw = create(&dir, ORG, &[READ, WRITE]);
    let ro = create(&dir, ORG, &[READ]);
    create(&dir, OTHER, &[WRITE]);

    let out = run(&["keys", "list", "--data-dir", d(&dir), "--org", ORG]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    for secret in [&rw.0, &rw.1, &ro.0, &ro.1] {
        assert!(!text.contains(secret.as_str()), "a key is printed");
        let digest = hex::encode(Sha256::digest(secret.as_bytes()));
        assert!(
            !text.to_lowercase().contains(&digest),
            "a key hash is printed"
        );
    }
    let keys = lines(&out);
    assert_eq!(keys.len(), 2, "{text}");
    for k in &keys {
        let mut fields: Vec<&str> = k.as_object().unwrap().keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["created", "id", "keys", "org", "permissions"]);
        assert_eq!(k["org"], ORG);
        assert!(k["created"].as_i64().unwrap() > 1_600_000_000);
        assert_eq!(k["keys"], serde_json::json!(["api", "application"]));
        assert!(uuid::Uuid::try_parse(k["id"].as_str().unwrap()).is_ok());
    }
    // The ids `keys create` printed.
    let mut ids: Vec<&str> = keys.iter().map(|k| k["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    let mut printed = [rw.2.as_str(), ro.2.as_str()];
    printed.sort_unstable();
    assert_eq!(ids, printed);
    let perms: Vec<Value> = keys.iter().map(|k| k["permissions"].clone()).collect();
    assert!(perms.contains(&serde_json::json!([READ, WRITE])));
    assert!(perms.contains(&serde_json::json!([READ])));
    // The org filter, in any case, and every org without it.
    assert_eq!(list(&dir, &ORG.to_uppercase()).len(), 2);
    assert_eq!(list(&dir, OTHER).len(), 1);
    let all = run(&["keys", "list", "--data-dir", d(&dir)]);
    assert_eq!(lines(&all).len(), 3);

    // Revoke the read-only pair by id: it is gone, the others stay.
    let ro_id = keys
        .iter()
        .find(|k| k["permissions"] == serde_json::json!([READ]))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(ro_id, ro.2);
    let out = run(&["keys", "revoke", "--data-dir", d(&dir), "--id", &ro_id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let left = list(&dir, ORG);
    assert_eq!(left.len(), 1);
    assert_ne!(left[0]["id"], ro_id.as_str());
    let store = arnmap::service::Store::open(&dir).unwrap();
    assert!(store.authenticate_keys(&ro.0, &ro.1).unwrap().is_none());
    assert!(store.authenticate_keys(&rw.0, &rw.1).unwrap().is_some());

    // Revoking it again, or an id that never was: exit 1.
    let again = run(&["keys", "revoke", "--data-dir", d(&dir), "--id", &ro_id]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("no key with id"));
    // A mistyped data dir is an error, and is not created.
    let nowhere = data_dir("nowhere");
    let out = run(&["keys", "list", "--data-dir", d(&nowhere), "--org", ORG]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!nowhere.exists());
    let out = run(&["keys", "list", "--data-dir", d(&dir), "--org", "not-a-uuid"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A store made before keys had ids: opening it adds the column and fills
/// every row; a pair made by one `keys create` (same org, same second)
/// shares one id and is revoked whole.
#[test]
fn keys_of_a_store_without_ids_get_ids() {
    let dir = data_dir("legacy");
    std::fs::create_dir_all(&dir).unwrap();
    let conn = rusqlite::Connection::open(dir.join("arnmap.sqlite3")).unwrap();
    conn.execute_batch(
        "CREATE TABLE orgs (id TEXT PRIMARY KEY, created INTEGER NOT NULL) STRICT;
         CREATE TABLE api_keys (hash BLOB PRIMARY KEY, org TEXT NOT NULL REFERENCES orgs(id),
             created INTEGER NOT NULL) STRICT;
         CREATE TABLE app_keys (hash BLOB PRIMARY KEY, org TEXT NOT NULL REFERENCES orgs(id),
             permissions TEXT NOT NULL, created INTEGER NOT NULL) STRICT;",
    )
    .unwrap();
    let h = |s: &str| Sha256::digest(s.as_bytes()).to_vec();
    conn.execute("INSERT INTO orgs VALUES (?1, 1)", [ORG])
        .unwrap();
    conn.execute(
        "INSERT INTO api_keys VALUES (?1, ?2, 1700000000)",
        rusqlite::params![h("api-1"), ORG],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO app_keys VALUES (?1, ?2, ?3, 1700000000)",
        rusqlite::params![h("app-1"), ORG, READ],
    )
    .unwrap();
    // An application key alone in its second.
    conn.execute(
        "INSERT INTO app_keys VALUES (?1, ?2, ?3, 1700000100)",
        rusqlite::params![h("app-2"), ORG, WRITE],
    )
    .unwrap();
    drop(conn);

    let keys = list(&dir, ORG);
    assert_eq!(keys.len(), 2, "{keys:?}");
    let pair = keys
        .iter()
        .find(|k| k["keys"] == serde_json::json!(["api", "application"]))
        .expect("the legacy pair shares an id");
    assert_eq!(pair["permissions"], serde_json::json!([READ]));
    assert_eq!(pair["created"], 1_700_000_000);
    let single = keys
        .iter()
        .find(|k| k["keys"] == serde_json::json!(["application"]))
        .unwrap();
    assert_ne!(pair["id"], single["id"]);
    // Ids are stable across opens.
    assert_eq!(list(&dir, ORG), keys);

    let id = pair["id"].as_str().unwrap();
    let out = run(&["keys", "revoke", "--data-dir", d(&dir), "--id", id]);
    assert!(out.status.success());
    let store = arnmap::service::Store::open(&dir).unwrap();
    assert!(store.authenticate_keys("api-1", "app-1").unwrap().is_none());
    assert_eq!(list(&dir, ORG).len(), 1);
    // New keys in the migrated store.
    create(&dir, ORG, &[READ]);
    assert_eq!(list(&dir, ORG).len(), 2);
}

#[test]
fn grant_revoke_takes_permissions_away() {
    let dir = data_dir("grant");
    let account = "terraform@example.com";
    let grant = |extra: &[&str], perms: &[&str]| {
        let mut args = vec![
            "grant",
            "--data-dir",
            d(&dir),
            "--org",
            ORG,
            "--account",
            account,
        ];
        args.extend_from_slice(extra);
        args.push("--permission");
        args.extend_from_slice(perms);
        run(&args)
    };
    assert!(grant(&[], &[READ, WRITE]).status.success());
    let granted = || {
        arnmap::service::Store::open(&dir)
            .unwrap()
            .granted(ORG, account)
            .unwrap()
    };
    assert_eq!(granted().len(), 2);

    let out = grant(&["--revoke"], &[WRITE]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(granted(), vec![arnmap::service::Permission::Read]);
    // Nothing left to revoke: exit 1, nothing changes.
    let out = grant(&["--revoke"], &[WRITE]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(granted().len(), 1);
    assert!(grant(&["--revoke"], &[READ, WRITE]).status.success());
    assert!(granted().is_empty());
    assert_eq!(
        grant(&["--revoke"], &["cloud_auth_config_admin"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn mappings_delete_needs_an_id_or_all() {
    let dir = data_dir("mappings");
    create(&dir, ORG, &[READ]);
    let out = run(&["mappings", "list", "--data-dir", d(&dir), "--org", ORG]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let out = run(&["mappings", "delete", "--data-dir", d(&dir), "--org", ORG]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--all"));
    let out = run(&[
        "mappings",
        "delete",
        "--data-dir",
        d(&dir),
        "--org",
        ORG,
        "--id",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&[
        "mappings",
        "delete",
        "--data-dir",
        d(&dir),
        "--org",
        ORG,
        "--all",
    ]);
    assert!(out.status.success());
    let out = run(&[
        "mappings",
        "delete",
        "--data-dir",
        d(&dir),
        "--org",
        ORG,
        "--all",
        "--id",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2), "--all and --id conflict");
}
