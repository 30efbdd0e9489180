//! `arnmap serve` end to end with real peers only: moto's STS (roles assumed
//! with SigV4-verified credentials), the PyPI `datadog-api-client` (API-key
//! writes, delegated auth, Bearer reads), PyJWT against our JWKS; then
//! durability across SIGKILL and a graceful SIGTERM.

use crate::serve_support;
use crate::sts_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use serve_support::{ORG, OTHER_ORG, Server, create_keys, http, read, temp_dir, write_policy};
use sts_support::{Moto, python, venv};

fn sts_override(moto: &Moto) -> Vec<String> {
    vec![
        "--sts-override".into(),
        format!("sts.amazonaws.com={}", moto.url()),
    ]
}

fn code(v: &Value) -> &str {
    v["errors"][0]["code"].as_str().unwrap_or("")
}

#[test]
fn datadog_client_end_to_end() {
    let Some(venv) = venv() else { return };
    // 3 roles: create_user, create_access_key, put_user_policy + 3 create_role.
    let moto = Moto::start(&venv, 6);
    let dir = temp_dir("e2e");
    let policies = write_policy(&dir);
    let data = dir.join("data");
    let (api, app) = create_keys(
        &data,
        ORG,
        &["cloud_auth_config_read", "cloud_auth_config_write"],
    );
    serve_support::arnmap(&[
        "grant",
        "--data-dir",
        data.to_str().unwrap(),
        "--org",
        ORG,
        "--account",
        "terraform@example.com",
        "--permission",
        "cloud_auth_config_read",
    ]);
    let server = Server::start(&data, &policies, &sts_override(&moto));
    let out = python(
        &venv,
        "serve_e2e.py",
        &[&moto.url(), &server.url, ORG, OTHER_ORG, &api, &app],
        &[],
    );
    let v: Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}\n{}", server.log()));

    // Writes with API + application keys.
    assert!(v["created_id"].as_str().unwrap().len() == 36);
    assert_eq!(v["duplicate_status"], 409);
    assert_eq!(v["invalid_status"], 400);
    assert_eq!(v["invalid_pointer"], "/data/attributes/arn_pattern");
    assert_eq!(
        v["get_pattern"],
        "arn:aws:iam::123456789012:role/terraform-runner"
    );
    // Delegated auth, then a Bearer read; no write grant, so no write.
    assert_eq!(
        v["listed_patterns"],
        json!(["arn:aws:iam::123456789012:role/terraform-runner"])
    );
    assert_eq!(v["bearer_write_status"], 403);
    // The token, as PyJWT verified it.
    let claims = &v["claims"];
    assert_eq!(claims["sub"], "terraform@example.com");
    assert_eq!(claims["org"], ORG);
    assert_eq!(
        claims["aws_arn"],
        "arn:aws:sts::123456789012:assumed-role/terraform-runner/tf-42"
    );
    assert_eq!(claims["aws_account"], "123456789012");
    assert_eq!(claims["rule"], v["created_id"].as_str().unwrap());
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        900
    );
    // Refusals.
    assert_eq!(v["mapped_status"], 200);
    assert_eq!(v["unmapped"][0], 403);
    assert_eq!(code(&v["unmapped"][1]), "not_mapped");
    assert_eq!(v["denied"][0], 403);
    assert_eq!(code(&v["denied"][1]), "denied");
    assert_eq!(v["other_org"][0], 403);
    assert_eq!(code(&v["other_org"][1]), "not_mapped");
    assert_eq!(v["tampered"][0], 401);
    assert_eq!(code(&v["tampered"][1]), "sts.BadSignature");
    assert_eq!(v["garbage"][0], 401);

    // Metrics saw it all; the audit log never carries a token or a proof.
    let agent = http();
    let (status, metrics) = read(agent.get(format!("{}/metrics", server.url)).call());
    assert_eq!(status, 200);
    assert!(
        metrics.contains("arnmap_exchanges_total{outcome=\"issued\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("arnmap_exchanges_total{outcome=\"denied\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("arnmap_sts_request_duration_seconds_count"),
        "{metrics}"
    );
    let log = server.log();
    assert!(log.contains("arnmap::audit"), "{log}");
    assert!(
        log.contains("decision=\"denied\"") || log.contains("decision=denied"),
        "{log}"
    );
    assert!(!log.contains("eyJ"), "a token leaked into the log:\n{log}");
    assert!(
        !log.contains("X-Amz-Signature") && !log.contains("Credential="),
        "{log}"
    );
}

fn create(
    agent: &ureq::Agent,
    url: &str,
    keys: &(String, String),
    pattern: &str,
    account: &str,
) -> (u16, String) {
    let body = json!({"data": {"type": "aws_cloud_auth_config",
        "attributes": {"account_identifier": account, "arn_pattern": pattern}}});
    read(
        agent
            .post(format!("{url}/api/v2/cloud_auth/aws/persona_mapping"))
            .header("DD-API-KEY", &keys.0)
            .header("DD-APPLICATION-KEY", &keys.1)
            .header("Content-Type", "application/json")
            .send(body.to_string()),
    )
}

fn exchange(agent: &ureq::Agent, url: &str, proof: &str) -> (u16, Value) {
    let (status, body) = read(
        agent
            .post(format!("{url}/api/v2/delegated-token"))
            .header("Authorization", &format!("Delegated {proof}"))
            .send_empty(),
    );
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let Some(venv) = venv() else { return };
    let moto = Moto::start(&venv, 4);
    let principals: Value =
        serde_json::from_str(&python(&venv, "setup_principals.py", &[&moto.url()], &[])).unwrap();
    let role = &principals["role"];
    let env = [
        ("AWS_ACCESS_KEY_ID", role["access_key_id"].as_str().unwrap()),
        (
            "AWS_SECRET_ACCESS_KEY",
            role["secret_access_key"].as_str().unwrap(),
        ),
        ("AWS_SESSION_TOKEN", role["session_token"].as_str().unwrap()),
    ];
    let dir = temp_dir("durable");
    let policies = write_policy(&dir);
    let data = dir.join("data");
    let keys = create_keys(
        &data,
        ORG,
        &["cloud_auth_config_read", "cloud_auth_config_write"],
    );
    let mut server = Server::start(&data, &policies, &sts_override(&moto));
    let agent = http();
    let proof = python(&venv, "dd_proof.py", &[ORG], &env);
    assert_eq!(exchange(&agent, &server.url, &proof).0, 403);

    let (status, _) = create(
        &agent,
        &server.url,
        &keys,
        "arn:aws:sts::123456789012:assumed-role/terraform-runner/*",
        "terraform@example.com",
    );
    assert_eq!(status, 201);
    // The write is in force at once (one swap).
    let (status, token) = exchange(&agent, &server.url, &proof);
    assert_eq!(status, 200, "{token}");

    // A writer keeps creating mappings; kill -9 lands in the middle.
    let acked = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, stop, url, keys) = (
            Arc::clone(&acked),
            Arc::clone(&stop),
            server.url.clone(),
            keys.clone(),
        );
        std::thread::spawn(move || {
            let agent = http();
            for i in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let pattern = format!("arn:aws:iam::123456789012:role/writer-{i}");
                let body = json!({"data": {"type": "aws_cloud_auth_config",
                    "attributes": {"account_identifier": format!("user{i}@example.com"),
                                   "arn_pattern": pattern}}});
                let r = agent
                    .post(format!("{url}/api/v2/cloud_auth/aws/persona_mapping"))
                    .header("DD-API-KEY", &keys.0)
                    .header("DD-APPLICATION-KEY", &keys.1)
                    .send(body.to_string());
                match r {
                    Ok(mut resp) if resp.status().as_u16() == 201 => {
                        let v: Value =
                            serde_json::from_str(&resp.body_mut().read_to_string().unwrap())
                                .unwrap();
                        acked
                            .lock()
                            .unwrap()
                            .push(v["data"]["id"].as_str().unwrap().to_owned());
                    }
                    Ok(resp) => panic!("unexpected status {}", resp.status()),
                    Err(_) => break, // the server is gone
                }
            }
        })
    };
    // Requests keep flowing while writes recompile and swap the org's matcher.
    let mut during = 0;
    while acked.lock().unwrap().len() < 25 {
        let (status, token) = exchange(&agent, &server.url, &proof);
        assert_eq!(status, 200, "exchange during writes: {token}");
        during += 1;
        // Below the org's default budget (50/s): the writes may be slow on a
        // busy machine, and this loop is about swaps, not rate limits.
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert!(during > 0);
    server.kill();
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 25);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.join("arnmap.sqlite3"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let mut server = Server::start(&data, &policies, &sts_override(&moto));
    let (status, body) = read(
        agent
            .get(format!(
                "{}/api/v2/cloud_auth/aws/persona_mapping",
                server.url
            ))
            .header("DD-API-KEY", &keys.0)
            .header("DD-APPLICATION-KEY", &keys.1)
            .call(),
    );
    assert_eq!(status, 200);
    let listed: Value = serde_json::from_str(&body).unwrap();
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    for id in &acked {
        assert!(ids.contains(&id.as_str()), "acknowledged mapping {id} lost");
    }
    // In force after the restart: the mapped role still gets its token, and
    // every acknowledged pattern is refused as a duplicate.
    let (status, token) = exchange(&agent, &server.url, &proof);
    assert_eq!(status, 200, "{token}");
    for (i, _) in acked.iter().enumerate() {
        let (status, _) = create(
            &agent,
            &server.url,
            &keys,
            &format!("arn:aws:iam::123456789012:role/writer-{i}"),
            "someone@example.com",
        );
        assert_eq!(status, 409, "writer-{i}");
    }
    // SIGTERM: a graceful stop with status 0.
    assert!(server.terminate(), "{}", server.log());
}
