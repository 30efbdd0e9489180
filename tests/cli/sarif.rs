//! `arnmap lint --format sarif` validates against the SARIF 2.1.0 schema
//! vendored in `tests/data/sarif/` (see its README for where it came from).

use std::process::Command;

fn sarif(paths: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_arnmap"))
        .args(["lint", "--format", "sarif"])
        .args(paths)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string("tests/data/sarif/sarif-2.1.0-rtm.5.json").unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .unwrap()
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let validator = validator();
    let valid = |log: &serde_json::Value| {
        let errors: Vec<String> = validator
            .iter_errors(log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    };
    // Compile errors of every file at once.
    let broken = sarif(&["tests/lint"]);
    valid(&broken);
    assert!(broken["runs"][0]["results"].as_array().unwrap().len() > 15);
    // Lint findings of policies that compile.
    let log = sarif(&[
        "tests/lint/shadowed-rule.policy",
        "tests/lint/broad-pattern.policy",
        "tests/lint/untested-rule.policy",
    ]);
    valid(&log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["level"] == "note"));
    let shadowed = results
        .iter()
        .find(|r| r["ruleId"] == "arnmap::shadowed-rule")
        .unwrap();
    assert_eq!(shadowed["level"], "warning");
    let region = &shadowed["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 4);
    assert_eq!(region["startColumn"], 9);
    assert_eq!(
        shadowed["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "tests/lint/shadowed-rule.policy"
    );
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let index = shadowed["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "arnmap::shadowed-rule");
}

#[test]
fn the_schema_rejects_a_broken_log() {
    let validator = validator();
    let mut log = sarif(&["policies"]);
    assert!(validator.is_valid(&log));
    log["version"] = "2.0.0".into();
    assert!(!validator.is_valid(&log));
}
