//! `arnmap serve`'s HTTP surface without an STS: authentication of the
//! management API, JSON:API errors and pointers, limits (body, headers, rate),
//! the RON configuration, JWKS and health. STS is pointed at a closed port, so
//! a proof that passes the pre-checks ends in 503, never in a token.

use crate::serve_support;

use std::time::SystemTime;

use arnmap::{AwsCredentials, make_proof};
use serde_json::{Value, json};
use serve_support::{ORG, OTHER_ORG, Server, create_keys, http, read, temp_dir, write_policy};

const MAPPINGS: &str = "/api/v2/cloud_auth/aws/persona_mapping";

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

struct Fixture {
    server: Server,
    rw: (String, String),
    ro: (String, String),
    other: (String, String),
    _dir: std::path::PathBuf,
}

fn start(config: Option<&str>) -> Fixture {
    let dir = temp_dir("api");
    let policies = write_policy(&dir);
    let data = dir.join("data");
    let rw = create_keys(
        &data,
        ORG,
        &["cloud_auth_config_read", "cloud_auth_config_write"],
    );
    let ro = create_keys(&data, ORG, &["cloud_auth_config_read"]);
    let other = create_keys(
        &data,
        OTHER_ORG,
        &["cloud_auth_config_read", "cloud_auth_config_write"],
    );
    let mut extra = vec![
        "--sts-override".to_owned(),
        format!("sts.amazonaws.com=http://127.0.0.1:{}", closed_port()),
    ];
    if let Some(text) = config {
        let path = dir.join("serve.ron");
        std::fs::write(&path, text).unwrap();
        extra.push("--config".into());
        extra.push(path.display().to_string());
    }
    let server = Server::start(&data, &policies, &extra);
    Fixture {
        server,
        rw,
        ro,
        other,
        _dir: dir,
    }
}

fn body(pattern: &str, account: &str) -> String {
    json!({"data": {"type": "aws_cloud_auth_config",
        "attributes": {"account_identifier": account, "arn_pattern": pattern}}})
    .to_string()
}

fn post(f: &Fixture, keys: &(String, String), body: &str) -> (u16, Value) {
    let (s, b) = read(
        http()
            .post(format!("{}{MAPPINGS}", f.server.url))
            .header("DD-API-KEY", &keys.0)
            .header("DD-APPLICATION-KEY", &keys.1)
            .header("Content-Type", "application/json")
            .send(body),
    );
    (s, serde_json::from_str(&b).unwrap_or(Value::Null))
}

fn get(f: &Fixture, keys: &(String, String), path: &str) -> (u16, Value) {
    let (s, b) = read(
        http()
            .get(format!("{}{path}", f.server.url))
            .header("DD-API-KEY", &keys.0)
            .header("DD-APPLICATION-KEY", &keys.1)
            .call(),
    );
    (s, serde_json::from_str(&b).unwrap_or(Value::Null))
}

fn delete(f: &Fixture, keys: &(String, String), id: &str) -> u16 {
    read(
        http()
            .delete(format!("{}{MAPPINGS}/{id}", f.server.url))
            .header("DD-API-KEY", &keys.0)
            .header("DD-APPLICATION-KEY", &keys.1)
            .call(),
    )
    .0
}

fn pointer(v: &Value) -> &str {
    v["errors"][0]["source"]["pointer"].as_str().unwrap_or("")
}

fn code(v: &Value) -> &str {
    v["errors"][0]["code"].as_str().unwrap_or("")
}

#[test]
fn management_api_authenticates_and_validates() {
    let f = start(None);
    let p = "arn:aws:iam::123456789012:role/deployer";

    // No credentials, wrong keys, keys of two different pairs.
    let (s, v) = read(http().get(format!("{}{MAPPINGS}", f.server.url)).call());
    assert_eq!(s, 401, "{v}");
    let bad = ("0".repeat(32), "0".repeat(40));
    assert_eq!(get(&f, &bad, MAPPINGS).0, 401);
    let mixed = (f.rw.0.clone(), f.other.1.clone());
    assert_eq!(get(&f, &mixed, MAPPINGS).0, 401);
    // A garbage bearer token.
    let (s, v) = read(
        http()
            .get(format!("{}{MAPPINGS}", f.server.url))
            .header("Authorization", "Bearer eyJhbGciOiJub25lIn0.e30.")
            .call(),
    );
    assert_eq!(s, 401, "{v}");

    // Read-only keys cannot write.
    let (s, v) = post(&f, &f.ro, &body(p, "deploy@example.com"));
    assert_eq!((s, code(&v)), (403, "missing_permission"));

    // Create, list, get.
    let (s, created) = post(&f, &f.rw, &body(p, "deploy@example.com"));
    assert_eq!(s, 201, "{created}");
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["data"]["type"], "aws_cloud_auth_config");
    assert_eq!(created["data"]["attributes"]["arn_pattern"], p);
    assert_eq!(
        created["data"]["attributes"]["account_uuid"]
            .as_str()
            .unwrap()
            .len(),
        36
    );
    let (s, list) = get(&f, &f.ro, MAPPINGS);
    assert_eq!(s, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let (s, one) = get(&f, &f.ro, &format!("{MAPPINGS}/{id}"));
    assert_eq!((s, one["data"]["id"].as_str()), (200, Some(id.as_str())));

    // Orgs are separate: the other org sees nothing and cannot delete.
    let (s, list) = get(&f, &f.other, MAPPINGS);
    assert_eq!((s, list["data"].as_array().unwrap().len()), (200, 0));
    assert_eq!(get(&f, &f.other, &format!("{MAPPINGS}/{id}")).0, 404);
    assert_eq!(delete(&f, &f.other, &id), 404);

    // Duplicates, invalid documents, each with its pointer.
    let (s, v) = post(&f, &f.rw, &body(p, "else@example.com"));
    assert_eq!((s, pointer(&v)), (409, "/data/attributes/arn_pattern"));
    let cases = [
        ("not json".to_owned(), ""),
        (json!({"data": []}).to_string(), "/data"),
        (json!({"data": {"type": "user", "attributes": {}}}).to_string(), "/data/type"),
        (json!({"data": {"type": "aws_cloud_auth_config"}}).to_string(), "/data/attributes"),
        (
            json!({"data": {"type": "aws_cloud_auth_config",
                "attributes": {"arn_pattern": p}}})
            .to_string(),
            "/data/attributes/account_identifier",
        ),
        (
            json!({"data": {"type": "aws_cloud_auth_config",
                "attributes": {"arn_pattern": p, "account_identifier": "x@example.com", "admin": true}}})
            .to_string(),
            "/data/attributes/admin",
        ),
        (body("arn:aws:iam::123456789012:role/x", "{session}@example.com"), "/data/attributes/account_identifier"),
        (body("arn:aws:iam::12345:role/x", "x@example.com"), "/data/attributes/arn_pattern"),
        (body("arn:aws:s3:::bucket", "x@example.com"), "/data/attributes/arn_pattern"),
        (body("arn:aws:iam::123456789012:role/a/*/b", "x@example.com"), "/data/attributes/arn_pattern"),
        (body("arn:aws:iam::123456789012:role/x\"\n}", "x@example.com"), "/data/attributes/arn_pattern"),
    ];
    for (doc, want) in &cases {
        let (s, v) = post(&f, &f.rw, doc);
        assert_eq!(s, 400, "{doc}: {v}");
        assert_eq!(pointer(&v), *want, "{doc}: {v}");
        assert!(!v["errors"][0]["detail"].as_str().unwrap().is_empty());
    }
    let (s, list) = get(&f, &f.ro, MAPPINGS);
    assert_eq!(
        (s, list["data"].as_array().unwrap().len()),
        (200, 1),
        "refused writes left something"
    );

    // Delete, then it is gone.
    assert_eq!(delete(&f, &f.ro, &id), 403);
    assert_eq!(delete(&f, &f.rw, &id), 204);
    assert_eq!(delete(&f, &f.rw, &id), 404);
    assert_eq!(get(&f, &f.ro, &format!("{MAPPINGS}/{id}")).0, 404);
}

#[test]
fn limits_errors_and_metadata_endpoints() {
    let f = start(Some(
        "(limits: (max_body_bytes: 2048, max_header_bytes: 4096, exchanges_per_second: 1, exchange_burst: 1, \
         client_failures_per_second: 1, client_failure_burst: 2))",
    ));
    let url = &f.server.url;
    // Oversized body and headers.
    let (s, v) = post(&f, &f.rw, &"x".repeat(4096));
    assert_eq!(s, 413, "{v}");
    let (s, _) = read(
        http()
            .get(format!("{url}/healthz"))
            .header("X-Big", &"a".repeat(8192))
            .call(),
    );
    assert_eq!(s, 431);
    // Unknown endpoint: JSON:API 404.
    let (s, b) = read(http().get(format!("{url}/api/v1/nothing")).call());
    assert_eq!(s, 404);
    assert_eq!(
        serde_json::from_str::<Value>(&b).unwrap()["errors"][0]["status"],
        "404"
    );
    // Health and JWKS.
    let (s, _) = read(http().get(format!("{url}/healthz")).call());
    assert_eq!(s, 200);
    let (s, b) = read(http().get(format!("{url}/.well-known/jwks.json")).call());
    assert_eq!(s, 200);
    let jwks: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert!(
        jwks["keys"][0].get("d").is_none(),
        "private key material in the JWKS"
    );

    // Exchanges: no proof → 401 (the client's first failure); a proof that
    // passes the pre-checks for a known org → STS (a closed port) → 503, not
    // the client's fault and, STS not having confirmed anyone, not charged to
    // the org either: the next one is 503 again, not 429.
    let exchange = |proof: &str| {
        let (s, b) = read(
            http()
                .post(format!("{url}/api/v2/delegated-token"))
                .header("Authorization", &format!("Delegated {proof}"))
                .send_empty(),
        );
        (s, serde_json::from_str::<Value>(&b).unwrap_or(Value::Null))
    };
    let (s, _) = read(
        http()
            .post(format!("{url}/api/v2/delegated-token"))
            .send_empty(),
    );
    assert_eq!(s, 401);
    let creds = AwsCredentials {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        session_token: None,
    };
    let proof = make_proof(&creds, ORG, None, SystemTime::now()).unwrap();
    for _ in 0..2 {
        let (s, v) = exchange(&proof);
        assert_eq!((s, code(&v)), (503, "sts.Connect"), "{v}");
    }
    // An org without any rule is refused before STS: the client's second
    // failure; its third, within the second, is refused with 429.
    let unknown = make_proof(
        &creds,
        "9a9a9a9a-1b1b-4c4c-8d8d-0e0e0e0e0e0e",
        None,
        SystemTime::now(),
    )
    .unwrap();
    let (s, v) = exchange(&unknown);
    assert_eq!((s, code(&v)), (403, "unknown_org"), "{v}");
    let r = http()
        .post(format!("{url}/api/v2/delegated-token"))
        .header("Authorization", &format!("Delegated {proof}"))
        .send_empty()
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");

    let (_, metrics) = read(http().get(format!("{url}/metrics")).call());
    assert!(
        metrics.contains("outcome=\"client_rate_limited\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("outcome=\"sts.Connect\"} 2"), "{metrics}");
}

#[test]
fn bad_configuration_and_policies_refuse_to_start() {
    let dir = temp_dir("badcfg");
    let policies = write_policy(&dir);
    for (config, needle) in [
        ("(listen: \"nope\")", "serve.ron"),
        ("(limits: (exchange_burst: 0))", "exchange_burst"),
        ("(unknown_field: 1)", "unknown_field"),
        ("(token: (lifetime_secs: 999999))", "lifetime_secs"),
        (
            "(verifier: (sts: (overrides: {\"evil.example.com\": \"http://127.0.0.1:1\"})))",
            "evil.example.com",
        ),
    ] {
        let path = dir.join("serve.ron");
        std::fs::write(&path, config).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_arnmap"))
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&path)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .arg("--policies")
            .arg(&policies)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{config}: {err}");
        assert!(err.contains(needle), "{config}: {err}");
    }
    // A policy whose test block fails.
    let broken = dir.join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("x.policy"),
        format!("org \"{ORG}\" {{\n  test \"arn:aws:iam::123456789012:user/a\" -> \"a@example.com\"\n}}\n"),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_arnmap"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.join("data"))
        .arg("--policies")
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("policies"));
}

#[test]
fn the_readme_configuration_example_is_the_default() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("**Configuration**")
        .expect("configuration section");
    let block = &readme[start..];
    let open = block.find("```text\n").unwrap() + "```text\n".len();
    let close = open + block[open..].find("```").unwrap();
    let config: arnmap::service::ServeConfig = ron::from_str(&block[open..close]).unwrap();
    assert_eq!(config, arnmap::service::ServeConfig::default());
}

#[test]
fn a_configured_signing_key_is_used_and_none_is_generated() {
    use arnmap::{KeyPair, SigningAlgorithm};
    let dir = temp_dir("cfgkey");
    let policies = write_policy(&dir);
    let keys = dir.join("mykeys");
    std::fs::create_dir_all(&keys).unwrap();
    let signing = KeyPair::generate(SigningAlgorithm::ES256).unwrap();
    let old = KeyPair::generate(SigningAlgorithm::EdDSA).unwrap();
    let signing_path = signing.save(&keys).unwrap();
    let old_path = old.save(&keys).unwrap();
    let config = dir.join("serve.ron");
    std::fs::write(
        &config,
        format!(
            "(token: (algorithm: ES256, signing_key: Some({:?}), verification_keys: [{:?}]))",
            signing_path.display().to_string(),
            old_path.display().to_string()
        ),
    )
    .unwrap();
    let data = dir.join("data");
    let server = Server::start(
        &data,
        &policies,
        &["--config".into(), config.display().to_string()],
    );
    let (s, b) = read(
        http()
            .get(format!("{}/.well-known/jwks.json", server.url))
            .call(),
    );
    assert_eq!(s, 200);
    let jwks: Value = serde_json::from_str(&b).unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, vec![signing.kid(), old.kid()]);
    assert_eq!(jwks["keys"][0]["alg"], "ES256");
    assert!(
        !data.join("keys").exists(),
        "a key ring was generated despite a configured key"
    );
}

#[test]
fn refused_writes_name_policy_files_relative_to_the_policies_directory() {
    let f = start(None);
    // The policy file's `test` expects shared@example.com for this session; a
    // more specific mapping to another account breaks it, and the refusal
    // names the test's location.
    let (s, v) = post(
        &f,
        &f.rw,
        &body(
            "arn:aws:sts::123456789012:assumed-role/shared-role/s1",
            "else@example.com",
        ),
    );
    assert_eq!((s, code(&v)), (400, "invalid_arn_pattern"), "{v}");
    let detail = v["errors"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("e2e.policy:"), "{detail}");
    let text = v.to_string();
    let dir = f._dir.display().to_string();
    assert!(
        !text.contains(&dir),
        "a server path in the response: {text}"
    );
    assert!(
        !text.contains(env!("CARGO_TARGET_TMPDIR")),
        "a server path in the response: {text}"
    );
}

#[test]
fn no_control_byte_from_a_request_reaches_the_log() {
    use crate::sts_support::encode_raw;
    let f = start(None);
    let url = &f.server.url;
    let creds = AwsCredentials {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        session_token: None,
    };
    let proof = make_proof(&creds, ORG, None, SystemTime::now()).unwrap();
    // A complete forged audit line, with ANSI escapes that would hide the
    // real one on a terminal, in the two parts that are base64 on the wire.
    let forged =
        "\n2099 INFO arnmap::audit: token issued account=mallory@x\r\x1b[1A\x1b[2K\u{9b}2K\x07\x00";
    let mut by_url = arnmap::internals::wire::decode(&proof).unwrap();
    by_url.url = format!("https://sts.amazonaws.com/{forged}");
    let mut by_body = arnmap::internals::wire::decode(&proof).unwrap();
    by_body.body = forged.as_bytes().to_vec();
    for raw in [encode_raw(&by_url), encode_raw(&by_body)] {
        let (s, b) = read(
            http()
                .post(format!("{url}/api/v2/delegated-token"))
                .header("Authorization", &format!("Delegated {raw}"))
                .send_empty(),
        );
        assert_eq!(s, 401, "{b}");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let log = loop {
        let log = f.server.log();
        if log.matches("mallory").count() >= 2 || std::time::Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(log.matches("mallory").count(), 2, "{log}");
    for line in log.lines() {
        if let Some(c) = line.chars().find(|c| c.is_control() && *c != '\t') {
            panic!("control character {c:?} in the log line {line:?}");
        }
        if line.contains("mallory") {
            assert!(line.contains("token refused"), "forged line: {line:?}");
            assert!(!line.starts_with("2099"), "forged line: {line:?}");
        }
    }
}

/// Issue 11, item 2: silent connections are closed after the idle timeout,
/// and connections that dribble a header line every 5 s after the
/// header-read timeout, both counted from when they opened.
#[test]
fn silent_and_slow_connections_are_closed() {
    use serve_support::{Behaviour, hold_connections};
    use std::net::Ipv4Addr;
    use std::time::Duration;
    let f = start(Some(
        "(limits: (header_read_timeout_secs: 2, idle_timeout_secs: 3, \
         max_connections: 1000, max_connections_per_client: 300))",
    ));
    let give_up = Duration::from_secs(12);
    let slow = {
        let url = f.server.url.clone();
        std::thread::spawn(move || {
            hold_connections(
                Ipv4Addr::LOCALHOST,
                &url,
                20,
                Behaviour::Dribble(Duration::from_secs(5)),
                give_up,
            )
        })
    };
    let silent = hold_connections(
        Ipv4Addr::LOCALHOST,
        &f.server.url,
        200,
        Behaviour::Silent,
        give_up,
    );
    let slow = slow.join().unwrap();
    let within = |closed: &[Option<Duration>], from: u64, to: u64| {
        closed
            .iter()
            .filter(|c| {
                c.is_some_and(|d| {
                    d >= Duration::from_millis(from) && d <= Duration::from_millis(to)
                })
            })
            .count()
    };
    assert_eq!(within(&silent, 2_500, 6_000), 200, "silent: {silent:?}");
    assert_eq!(within(&slow, 1_500, 5_000), 20, "dribbling: {slow:?}");
    // The service is still there.
    assert_eq!(
        read(http().get(format!("{}/healthz", f.server.url)).call()).0,
        200
    );
}

/// Issue 11, item 2: 300 idle sockets from one client, against a service
/// whose open-file limit is 256, do not keep a new client's `/healthz` from
/// being answered within 5 s: that client gets `max_connections_per_client`
/// (32) connections and the rest are refused at once, and the global cap is
/// lowered to fit the file limit.
#[cfg(target_os = "linux")]
#[test]
fn idle_sockets_do_not_starve_a_new_client() {
    use serve_support::{Behaviour, hold_connections};
    use std::net::Ipv4Addr;
    use std::time::{Duration, Instant};
    let dir = temp_dir("idle");
    let policies = write_policy(&dir);
    let server = Server::start_with_open_files(&dir.join("data"), &policies, &[], 256);
    let held = {
        let url = server.url.clone();
        std::thread::spawn(move || {
            hold_connections(
                Ipv4Addr::new(127, 0, 0, 2),
                &url,
                300,
                Behaviour::Silent,
                Duration::from_secs(8),
            )
        })
    };
    std::thread::sleep(Duration::from_secs(1));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let started = Instant::now();
    let answer = agent.get(format!("{}/healthz", server.url)).call();
    let took = started.elapsed();
    let held = held.join().unwrap();
    let status = answer.map(|r| r.status().as_u16());
    assert!(
        matches!(status, Ok(200)) && took < Duration::from_secs(5),
        "/healthz: {status:?} after {took:?}\n{}",
        server.log()
    );
    let refused = held
        .iter()
        .filter(|c| c.is_some_and(|d| d < Duration::from_secs(2)))
        .count();
    assert!(refused >= 268, "{refused} of 300 refused at once");
    assert!(server.log().contains("open-file limit"), "{}", server.log());
}

/// `arnmap serve` runs with its heap on transparent huge pages: it executes
/// itself again with glibc's tunable added to the operator's (glibc reads
/// it, and may drop it from what `/proc/PID/environ` shows, so the check is
/// the service's own report, which reads its environment) and still
/// serves; `ARNMAP_HUGE_PAGES=0` keeps it as started.
#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn serve_runs_with_its_heap_on_huge_pages_unless_told_not_to() {
    let dir = temp_dir("hugepages");
    let policies = write_policy(&dir);
    let data = dir.join("data");
    let reported = |server: &Server| {
        let log = server.log.lock().map(|l| l.clone()).unwrap_or_default();
        log.lines()
            .find(|l| l.contains("heap on transparent huge pages"))
            .map(|l| l.contains("huge_pages=true"))
    };
    let health = |server: &Server| read(http().get(format!("{}/healthz", server.url)).call()).0;
    let mut on = Server::start_with_env(
        &data,
        &policies,
        &[],
        &[("GLIBC_TUNABLES", "glibc.malloc.arena_max=4")],
    );
    assert_eq!(reported(&on), Some(true), "{:?}", on.log);
    assert_eq!(health(&on), 200);
    on.kill();
    let mut off = Server::start_with_env(&data, &policies, &[], &[("ARNMAP_HUGE_PAGES", "0")]);
    assert_eq!(reported(&off), Some(false), "{:?}", off.log);
    assert_eq!(health(&off), 200);
    off.kill();
}
