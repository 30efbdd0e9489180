//! The operator tools against a real `arnmap serve`: a key revoked through
//! the CLI is refused at once; stored mappings listed and deleted offline
//! are what the service serves after a restart.

use crate::serve_support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use serve_support::{
    ORG, OTHER_ORG, Server, arnmap, create_keys, http, read, temp_dir, write_policy,
};

const MAPPINGS: &str = "/api/v2/cloud_auth/aws/persona_mapping";

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn start(data: &Path, policies: &Path) -> Server {
    let sts = format!("sts.amazonaws.com=http://127.0.0.1:{}", closed_port());
    Server::start(data, policies, &["--sts-override".to_owned(), sts])
}

fn list(server: &Server, keys: &(String, String)) -> (u16, Value) {
    let (s, b) = read(
        http()
            .get(format!("{}{MAPPINGS}", server.url))
            .header("DD-API-KEY", &keys.0)
            .header("DD-APPLICATION-KEY", &keys.1)
            .call(),
    );
    (s, serde_json::from_str(&b).unwrap_or(Value::Null))
}

fn create(server: &Server, keys: &(String, String), n: usize) -> String {
    let body = json!({"data": {"type": "aws_cloud_auth_config", "attributes": {
        "account_identifier": format!("recovery{n}@example.com"),
        "arn_pattern": format!("arn:aws:iam::123456789012:role/recovery-{n}")}}});
    let (s, b) = read(
        http()
            .post(format!("{}{MAPPINGS}", server.url))
            .header("DD-API-KEY", &keys.0)
            .header("DD-APPLICATION-KEY", &keys.1)
            .header("Content-Type", "application/json")
            .send(body.to_string()),
    );
    assert_eq!(s, 201, "{b}");
    let v: Value = serde_json::from_str(&b).unwrap();
    v["data"]["id"].as_str().unwrap().to_owned()
}

/// `((api_key, app_key), id)` from `arnmap keys create`.
fn create_keys_with_id(data: &Path, org: &str) -> ((String, String), String) {
    let d = data.to_str().unwrap();
    let out = arnmap(&[
        "keys",
        "create",
        "--data-dir",
        d,
        "--org",
        org,
        "--permission",
        "cloud_auth_config_read",
    ]);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    let text = |k: &str| v[k].as_str().unwrap().to_owned();
    ((text("api_key"), text("app_key")), text("id"))
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_key_revoked_through_the_cli_is_refused_within_5s() {
    let dir = temp_dir("revoke");
    let policies = write_policy(&dir);
    let data = dir.join("data");
    let (read_only, id) = create_keys_with_id(&data, ORG);
    let other = create_keys(&data, OTHER_ORG, &["cloud_auth_config_read"]);
    let server = start(&data, &policies);
    assert_eq!(list(&server, &read_only).0, 200);

    // Keys made while it runs work too; revoke the first pair by its id.
    let keep = create_keys(&data, ORG, &["cloud_auth_config_read"]);
    let d = data.to_str().unwrap();
    let keys = json_lines(&arnmap(&["keys", "list", "--data-dir", d, "--org", ORG]));
    assert_eq!(keys.len(), 2);
    // `keys create` printed the pair's id with the keys; the listing has it.
    assert!(keys.iter().any(|k| k["id"] == id.as_str()));
    arnmap(&["keys", "revoke", "--data-dir", d, "--id", &id]);
    let revoked_at = Instant::now();
    let refused = loop {
        let (status, body) = list(&server, &read_only);
        if status == 401 {
            assert_eq!(body["errors"][0]["code"], "bad_credentials");
            break revoked_at.elapsed();
        }
        assert_eq!(status, 200);
        assert!(
            revoked_at.elapsed() < Duration::from_secs(5),
            "the revoked key still works after 5 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(refused < Duration::from_secs(5));
    // The other keys are untouched.
    assert_eq!(list(&server, &keep).0, 200);
    assert_eq!(list(&server, &other).0, 200);
}

#[test]
fn mappings_listed_and_deleted_offline_are_what_serve_loads() {
    let dir = temp_dir("recovery");
    let policies = write_policy(&dir);
    let data = dir.join("data");
    let d = data.to_str().unwrap().to_owned();
    let rw = create_keys(
        &data,
        ORG,
        &["cloud_auth_config_read", "cloud_auth_config_write"],
    );
    let mut server = start(&data, &policies);
    let ids: Vec<String> = (0..3).map(|n| create(&server, &rw, n)).collect();
    assert!(server.terminate());

    let stored = json_lines(&arnmap(&[
        "mappings",
        "list",
        "--data-dir",
        &d,
        "--org",
        ORG,
    ]));
    assert_eq!(stored.len(), 3);
    // Same-second mappings: compare as sets (their order is issue 11's item 7).
    let mut listed: Vec<&str> = stored.iter().map(|m| m["id"].as_str().unwrap()).collect();
    listed.sort_unstable();
    let mut created: Vec<&str> = ids.iter().map(String::as_str).collect();
    created.sort_unstable();
    assert_eq!(listed, created);
    for m in &stored {
        assert_eq!(m["org"], ORG);
        assert!(
            m["arn_pattern"]
                .as_str()
                .unwrap()
                .contains("role/recovery-")
        );
        assert!(
            m["account_identifier"]
                .as_str()
                .unwrap()
                .ends_with("@example.com")
        );
    }
    let one = json_lines(&arnmap(&[
        "mappings",
        "list",
        "--data-dir",
        &d,
        "--org",
        ORG,
        "--id",
        &ids[1],
    ]));
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["id"], ids[1].as_str());
    arnmap(&[
        "mappings",
        "delete",
        "--data-dir",
        &d,
        "--org",
        ORG,
        "--id",
        &ids[1],
    ]);

    let server = start(&data, &policies);
    let (status, body) = list(&server, &rw);
    assert_eq!(status, 200);
    let mut served: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    served.sort_unstable();
    let mut kept = [ids[0].as_str(), ids[2].as_str()];
    kept.sort_unstable();
    assert_eq!(served, kept);
    drop(server);

    arnmap(&[
        "mappings",
        "delete",
        "--data-dir",
        &d,
        "--org",
        ORG,
        "--all",
    ]);
    let server = start(&data, &policies);
    let (status, body) = list(&server, &rw);
    assert_eq!(status, 200);
    assert_eq!(body["data"], json!([]));
}
