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

/// Issue 11, item 1: a flood of forged proofs (well-formed, their signature
/// tampered with after signing) naming org ORG, from one client, does not use
/// up ORG's budget: its legitimate exchanges during and after all get 200;
/// the flooding client is cut off with 429 before STS is asked.
#[test]
fn forged_proofs_do_not_exhaust_the_org_budget() {
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
    let dir = temp_dir("flood");
    let policies = write_policy(&dir);
    std::fs::write(
        policies.join("flood.policy"),
        format!(
            "org \"{ORG}\" {{\n    map \"arn:aws:sts::123456789012:assumed-role/terraform-runner\" to \"tf@example.com\"\n}}\n"
        ),
    )
    .unwrap();
    let config = dir.join("serve.ron");
    std::fs::write(
        &config,
        "(limits: (exchanges_per_second: 5, exchange_burst: 10, \
          client_failures_per_second: 1, client_failure_burst: 20))",
    )
    .unwrap();
    let mut extra = sts_override(&moto);
    extra.extend(["--config".into(), config.display().to_string()]);
    let server = Server::start(&dir.join("data"), &policies, &extra);
    let proof = python(&venv, "dd_proof.py", &[ORG], &env);
    let agent = http();
    let (status, v) = exchange(&agent, &server.url, &proof);
    assert_eq!(status, 200, "{v}");

    // The forgery: the last hex digit of the signature changed.
    let authorization = sts_support::header(&proof, "authorization");
    let flipped = match authorization.chars().last().unwrap() {
        '0' => '1',
        _ => '0',
    };
    let forged_authorization = format!("{}{flipped}", &authorization[..authorization.len() - 1]);
    let forged = sts_support::with_header(&proof, "authorization", &forged_authorization);
    // From this test's own client it is refused by STS.
    let (status, v) = exchange(&agent, &server.url, &forged);
    assert_eq!((status, code(&v)), (401, "sts.BadSignature"), "{v}");

    let started = std::time::Instant::now();
    let flood = {
        let (url, forged) = (server.url.clone(), forged.clone());
        std::thread::spawn(move || {
            serve_support::flood_from(
                std::net::Ipv4Addr::new(127, 0, 0, 2),
                &url,
                &forged,
                400,
                16,
                std::time::Duration::from_millis(100),
            )
        })
    };
    let mut legit = Vec::new();
    while !flood.is_finished() {
        let t = std::time::Instant::now();
        let (status, v) = exchange(&agent, &server.url, &proof);
        legit.push((status, t.elapsed(), v));
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let flooded = flood.join().unwrap();
    let flood_secs = started.elapsed().as_secs_f64();
    let during = legit.len();
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let (status, v) = exchange(&agent, &server.url, &proof);
        legit.push((status, t.elapsed(), v));
    }
    let ok = legit.iter().filter(|(s, _, _)| *s == 200).count();
    let mut latencies: Vec<_> = legit.iter().map(|(_, d, _)| *d).collect();
    latencies.sort();
    let p99 = latencies[(latencies.len() * 99).div_ceil(100) - 1];
    let count = |s: u16| flooded.iter().filter(|&&x| x == s).count();
    eprintln!(
        "flood: {} forged proofs in {flood_secs:.1} s: {} × 401, {} × 429, {} other; \
         legitimate: {ok}/{} × 200 ({during} during the flood), p99 {p99:?}",
        flooded.len(),
        count(401),
        count(429),
        flooded.len() - count(401) - count(429),
        legit.len()
    );
    for (status, _, v) in &legit {
        assert_eq!(
            *status, 200,
            "a legitimate exchange during or after the flood: {v}"
        );
    }
    assert!(
        during >= 3,
        "only {during} legitimate exchanges during the flood"
    );
    assert_eq!(flooded.len(), 400);
    assert_eq!(count(401) + count(429), 400, "{flooded:?}");
    // The client's burst, plus what its rate refilled meanwhile.
    assert!(
        count(401) <= 20 + flood_secs.ceil() as usize,
        "{} forged proofs reached STS",
        count(401)
    );

    // The org's own limit still holds for confirmed, mapped callers.
    let mut limited = None;
    for _ in 0..30 {
        let (status, v) = exchange(&agent, &server.url, &proof);
        if status == 429 {
            limited = Some(v);
            break;
        }
        assert_eq!(status, 200, "{v}");
    }
    let limited = limited.expect("30 exchanges at once stayed within 5/s, burst 10");
    assert_eq!(code(&limited), "rate_limited", "{limited}");
}
