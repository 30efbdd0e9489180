//! The `arnmap lint`, `import`, `export`, `fmt` and `explain` commands: output
//! formats and exit codes, the SARIF schema, and the Datadog round trip.

use std::path::PathBuf;
use std::process::{Command, Output};

const SEED_ORG: &str = "0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10";

fn arnmap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_arnmap"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("arnmap-lint-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn lint_exit_codes() {
    let clean = arnmap(&["lint", "--deny-warnings", "policies"]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    let warned = "tests/lint/broad-pattern.policy";
    assert_eq!(arnmap(&["lint", warned]).status.code(), Some(0));
    assert_eq!(
        arnmap(&["lint", "--deny-warnings", warned]).status.code(),
        Some(1)
    );
    let broken = arnmap(&["lint", "tests/lint/ambiguous-overlap.policy"]);
    assert_eq!(broken.status.code(), Some(2));
    let text = stderr(&broken);
    assert!(text.contains("arnmap::ambiguous-overlap"), "{text}");
    assert!(text.contains("ambiguous-overlap.policy:3:9"), "{text}");
    assert!(text.contains("help:"), "{text}");
    assert_eq!(
        arnmap(&["lint", "tests/lint/syntax.policy"]).status.code(),
        Some(2)
    );
}

#[test]
fn lint_json_has_every_field() {
    let out = arnmap(&[
        "lint",
        "--format",
        "json",
        "tests/lint/shadowed-rule.policy",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let shadowed = v
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "arnmap::shadowed-rule")
        .unwrap();
    assert_eq!(shadowed["severity"], "warning");
    assert_eq!(shadowed["file"], "tests/lint/shadowed-rule.policy");
    assert_eq!(shadowed["line"], 4);
    assert_eq!(shadowed["column"], 9);
    assert_eq!(shadowed["end_line"], 4);
    assert!(shadowed["end_column"].as_u64().unwrap() > 9);
    assert_eq!(shadowed["rule"], "short-users");
    assert!(shadowed["message"].as_str().unwrap().contains("all-users"));
    assert!(shadowed["help"].is_string());
}

#[test]
fn lint_can_be_restricted_to_one_org() {
    let out = arnmap(&[
        "lint",
        "--format",
        "json",
        "--org",
        "someone-else",
        "tests/lint/broad-pattern.policy",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out).trim(), "[]");
}

#[test]
fn import_then_check_round_trip_on_the_seed_patterns() {
    let out = arnmap(&[
        "import",
        "--datadog",
        "tests/data/datadog/seed_mappings.json",
        "--org",
        SEED_ORG,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let policy = temp_file("imported.policy", &stdout(&out));
    let policy = policy.to_str().unwrap();
    let check = |arn: &str| {
        let out = arnmap(&[
            "check", "--policy", policy, "--org", SEED_ORG, "--format", "json", "--arn", arn,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).unwrap()
    };
    let v = check("arn:aws:sts::123456789012:assumed-role/terraform-runner/tf-42");
    assert_eq!(v["decision"], "mapped");
    assert_eq!(v["user"], "terraform-service-account@myorg.com");
    assert_eq!(v["rule"], "c5c758c6-18c2-4484-ae3f-46b84128404a");
    let v = check("arn:aws:sts::123456789012:assumed-role/ci-build/gh-1");
    assert_eq!(v["rule"], "0d2ab8e1-7f0c-4c39-9d55-b7e3c1f0a6d2");
    let v = check("arn:aws:iam::123456789012:user/eng/alice");
    assert_eq!(v["user"], "eng@myorg.com");
    let v = check("arn:aws:sts::123456789012:assumed-role/other/s1");
    assert_eq!(v["decision"], "no_match");
    // And back: the API can express every imported rule.
    let out = arnmap(&["export", "--datadog", "--org", SEED_ORG, policy]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bodies: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(bodies.len(), 3);
    assert_eq!(
        bodies[1]["data"]["attributes"]["arn_pattern"],
        "arn:aws:sts::123456789012:assumed-role/ci-*"
    );
    assert_eq!(bodies[1]["data"]["type"], "aws_cloud_auth_config");
    assert!(stderr(&out).is_empty());
}

#[test]
fn import_rejects_other_documents() {
    let path = temp_file(
        "users.json",
        r#"{"data":[{"id":"1","type":"users","attributes":{}}]}"#,
    );
    let out = arnmap(&[
        "import",
        "--datadog",
        path.to_str().unwrap(),
        "--org",
        SEED_ORG,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("aws_cloud_auth_config"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn export_names_the_rules_it_skips() {
    let out = arnmap(&["export", "--datadog", "--org", SEED_ORG, "policies"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out).lines().count(), 1);
    let err = stderr(&out);
    assert!(
        err.contains("`oncall`") && err.contains("template"),
        "{err}"
    );
    assert!(err.contains("`no-root`") && err.contains("deny"), "{err}");
}

#[test]
fn fmt_check_and_rewrite() {
    let messy = temp_file(
        "messy.policy",
        "org \"o\"{\n  map   \"arn:aws:iam::*:root\" to \"r\"  # root\n}",
    );
    let path = messy.to_str().unwrap();
    assert_eq!(arnmap(&["fmt", "--check", path]).status.code(), Some(1));
    assert_eq!(arnmap(&["fmt", path]).status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&messy).unwrap(),
        "org \"o\" {\n    map \"arn:aws:iam::*:root\" to \"r\"  # root\n}\n"
    );
    assert_eq!(arnmap(&["fmt", "--check", path]).status.code(), Some(0));
    assert_eq!(
        arnmap(&["fmt", "--check", "policies"]).status.code(),
        Some(0)
    );
    assert_eq!(
        arnmap(&["fmt", "--check", "tests/lint/syntax.policy"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn explain_names_every_match_the_winner_and_the_step() {
    let out = arnmap(&[
        "explain",
        "--policy",
        "policies",
        "--org",
        "7d1f0c2a-3b4e-4f5a-8b6c-9d0e1f2a3b4c",
        "--arn",
        "arn:aws:sts::123456789012:assumed-role/ci-deploy/gh-99",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["decision"]["decision"], "mapped");
    assert_eq!(v["decision"]["rule"], "deploy");
    assert_eq!(v["step"], 2);
    let matched = v["matched"].as_array().unwrap();
    assert_eq!(matched.len(), 2);
    assert_eq!(matched[0]["rule"], "deploy");
    assert_eq!(matched[0]["outcome"], "decided");
    assert_eq!(matched[1]["rule"], "ci");
    assert_eq!(matched[1]["condition"], "true");
    let human = arnmap(&[
        "explain",
        "--policy",
        "policies",
        "--org",
        SEED_ORG,
        "--arn",
        "arn:aws:iam::123456789012:root",
    ]);
    let text = stdout(&human);
    assert!(text.contains("denied by rule no-root"), "{text}");
    assert!(text.contains("step 1"), "{text}");
}
