//! The `arnmap` binary: `check` and `test`, their output and exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const SEED_ORG: &str = "0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10";

fn arnmap(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_arnmap"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or_default().as_bytes())
        .unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn temp_policy(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("arnmap-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.policy"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn check_one_caller_as_json() {
    let out = arnmap(
        &[
            "check",
            "--policy",
            "policies",
            "--org",
            SEED_ORG,
            "--format",
            "json",
            "--arn",
            "arn:aws:sts::123456789012:assumed-role/terraform-runner/tf-42",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["arn"],
        "arn:aws:sts::123456789012:assumed-role/terraform-runner/tf-42"
    );
    assert_eq!(v["decision"], "mapped");
    assert_eq!(v["user"], "terraform-service-account@myorg.com");
    assert_eq!(v["rule"], "policies/seed.policy:4");
    assert!(v["error"].is_null());
}

#[test]
fn check_human_output() {
    let out = arnmap(
        &[
            "check",
            "--policy",
            "policies",
            "--org",
            SEED_ORG,
            "--arn",
            "arn:aws:iam::123456789012:root",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("denied") && text.contains("no-root"),
        "{text}"
    );
}

#[test]
fn check_stdin_streams_json_lines() {
    let input = "arn:aws:iam::123456789012:root\n\
                 not-an-arn\n\
                 \n\
                 arn:aws:sts::111111111111:assumed-role/oncall/jane.doe\tAROAEXAMPLE:jane.doe\n\
                 arn:aws:sts::111111111111:assumed-role/oncall/jane.doe\tAROAEXAMPLE:other\n\
                 arn:aws:sts::999999999999:assumed-role/nobody/s1\r\n";
    let out = arnmap(
        &[
            "check", "--policy", "policies", "--org", SEED_ORG, "--stdin",
        ],
        Some(input),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let decisions: Vec<&str> = lines
        .iter()
        .map(|v| v["decision"].as_str().unwrap())
        .collect();
    assert_eq!(
        decisions,
        ["denied", "error", "mapped", "error", "no_match"]
    );
    assert_eq!(lines[0]["rule"], "no-root");
    assert!(lines[1]["error"].as_str().unwrap().contains("not an ARN"));
    assert_eq!(lines[2]["user"], "jane.doe@myorg.com");
    assert!(
        lines[3]["error"].as_str().unwrap().contains("session"),
        "{}",
        lines[3]
    );
    assert_eq!(
        lines[4]["arn"],
        "arn:aws:sts::999999999999:assumed-role/nobody/s1"
    );
    for line in &lines {
        for key in ["arn", "decision", "user", "rule", "error"] {
            assert!(line.get(key).is_some(), "{line} lacks {key}");
        }
    }
}

#[test]
fn check_exits_2_when_the_policy_does_not_compile() {
    let path = temp_policy(
        "broken",
        "org \"o\" {\n  map \"arn:aws:s3:::b\" to \"a@x.com\" when sesion == \"x\"\n}\n",
    );
    let out = arnmap(
        &[
            "check",
            "--policy",
            path.to_str().unwrap(),
            "--org",
            "o",
            "--arn",
            "arn:aws:iam::123456789012:root",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("arnmap::pattern-service"), "{err}");
    assert!(err.contains("arnmap::unknown-attribute"), "{err}");
    assert!(err.contains("did you mean `session`"), "{err}");
    assert!(err.contains("broken.policy:2:"), "{err}");
}

#[test]
fn test_passes_on_the_example_policies() {
    let out = arnmap(&["test", "policies"], None);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(" passed, 0 failed"), "{text}");
    assert!(!text.contains("FAIL"));
}

#[test]
fn test_fails_with_a_report() {
    let path = temp_policy(
        "failing",
        "org \"o\" {\n  map \"arn:aws:sts::123456789012:assumed-role/r\" to \"a@x.com\"\n  \
         test \"arn:aws:sts::123456789012:assumed-role/r/s1\" -> \"b@x.com\"\n  \
         test \"arn:aws:sts::123456789012:assumed-role/r/s2\" -> \"a@x.com\"\n}\n",
    );
    let out = arnmap(&["test", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("1 passed, 1 failed"), "{text}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("arnmap::test-failed") && err.contains("expected \"b@x.com\""),
        "{err}"
    );
}

#[test]
fn test_exits_2_on_a_syntax_error() {
    let path = temp_policy(
        "syntax",
        "org \"o\" {\n  map \"arn:aws:iam::*:root\" too \"a@x.com\"\n}\n",
    );
    let out = arnmap(&["test", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("arnmap::syntax") && err.contains("expected `to`"),
        "{err}"
    );
}

#[test]
fn missing_files_are_reported() {
    let out = arnmap(&["test", "no/such/dir.policy"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("cannot read")
    );
}
