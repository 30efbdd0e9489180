//! End to end against moto's server, an STS that verifies SigV4 signatures:
//! proofs from IAM user keys, assumed-role credentials, the real
//! `datadog-api-client`, a regional host and `arnmap proof`'s signer; and
//! tampered variants, rejected by the pre-checks where they can be and by
//! STS otherwise.

use crate::sts_support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arnmap::IdentityKind;
use arnmap::ProofError;
use arnmap::{AwsCredentials, make_proof};
use arnmap::{HttpTransport, StsError};
use arnmap::{Verifier, VerifierConfig, VerifyError};
use serde_json::Value;
use sts_support::{Counting, Moto, header, python, venv, with_header};

const ORG: &str = "0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10";

struct Peer {
    moto: Moto,
    user: AwsCredentials,
    role: AwsCredentials,
    venv: std::path::PathBuf,
}

fn creds(v: &Value, token: bool) -> AwsCredentials {
    let s = |k: &str| v[k].as_str().expect(k).to_owned();
    AwsCredentials {
        access_key_id: s("access_key_id"),
        secret_access_key: s("secret_access_key"),
        session_token: token.then(|| s("session_token")),
    }
}

/// Starts moto, creates the principals; `None` when skipped locally.
fn peer() -> Option<Peer> {
    let venv = venv()?;
    let moto = Moto::start(&venv, 4);
    let out = python(&venv, "setup_principals.py", &[&moto.url()], &[]);
    let v: Value = serde_json::from_str(&out).expect("principals JSON");
    Some(Peer {
        user: creds(&v["user"], false),
        role: creds(&v["role"], true),
        moto,
        venv,
    })
}

fn config(moto: &Moto) -> VerifierConfig {
    let mut cfg = VerifierConfig::default();
    for host in ["sts.amazonaws.com", "sts.eu-west-1.amazonaws.com"] {
        cfg.sts.overrides.insert(host.into(), moto.url());
    }
    cfg.sts.retries = 0;
    cfg
}

/// A verifier sending to moto through a counting transport.
fn verifier(cfg: VerifierConfig) -> (Verifier, Arc<Counting>) {
    let http = HttpTransport::new(&cfg.sts).expect("transport");
    let counting = Counting::new(Some(Arc::new(http)));
    let v = Verifier::with_transport(cfg, counting.clone()).expect("verifier");
    (v, counting)
}

fn dd_proof(peer: &Peer, creds: &AwsCredentials, region: Option<&str>) -> String {
    let mut args = vec![ORG];
    args.extend(region);
    python(
        &peer.venv,
        "dd_proof.py",
        &args,
        &[
            ("AWS_ACCESS_KEY_ID", &creds.access_key_id),
            ("AWS_SECRET_ACCESS_KEY", &creds.secret_access_key),
            (
                "AWS_SESSION_TOKEN",
                creds.session_token.as_deref().unwrap_or(""),
            ),
        ],
    )
}

#[test]
fn iam_user_keys() {
    let Some(peer) = peer() else { return };
    let (v, calls) = verifier(config(&peer.moto));
    let now = SystemTime::now();
    let proof = make_proof(&peer.user, ORG, None, now).unwrap();
    let got = v.verify(&proof, ORG, now).unwrap();
    assert_eq!(got.identity.arn(), "arn:aws:iam::123456789012:user/alice");
    assert_eq!(got.identity.kind(), IdentityKind::User);
    assert!(got.identity.user_id().unwrap().starts_with("AIDA"));
    assert_eq!(got.region, "us-east-1");
    assert_eq!(calls.count(), 1);
}

#[test]
fn assumed_role_credentials_carry_the_session() {
    let Some(peer) = peer() else { return };
    let (v, _) = verifier(config(&peer.moto));
    let now = SystemTime::now();
    let proof = make_proof(&peer.role, ORG, None, now).unwrap();
    let got = v.verify(&proof, ORG, now).unwrap();
    assert_eq!(
        got.identity.arn(),
        "arn:aws:sts::123456789012:assumed-role/terraform-runner/tf-42"
    );
    assert_eq!(got.identity.session(), Some("tf-42"));
    assert!(got.identity.user_id().unwrap().ends_with(":tf-42"));
    assert_eq!(got.access_key_id, peer.role.access_key_id);
}

#[test]
fn real_datadog_client_proofs_global_and_regional() {
    let Some(peer) = peer() else { return };
    let (v, _) = verifier(config(&peer.moto));
    let proof = dd_proof(&peer, &peer.role, None);
    // The Python client's own spelling survives decoding.
    assert_eq!(header(&proof, "host"), "sts.amazonaws.com");
    let got = v.verify(&proof, ORG, SystemTime::now()).unwrap();
    assert_eq!(
        got.identity.arn(),
        "arn:aws:sts::123456789012:assumed-role/terraform-runner/tf-42"
    );
    assert_eq!(got.region, "us-east-1");

    let regional = dd_proof(&peer, &peer.role, Some("eu-west-1"));
    assert_eq!(header(&regional, "host"), "sts.eu-west-1.amazonaws.com");
    let got = v.verify(&regional, ORG, SystemTime::now()).unwrap();
    assert_eq!(got.region, "eu-west-1");
    assert_eq!(got.identity.session(), Some("tf-42"));
}

#[test]
fn regional_proof_from_arnmap_signer() {
    let Some(peer) = peer() else { return };
    let (v, _) = verifier(config(&peer.moto));
    let now = SystemTime::now();
    let proof = make_proof(&peer.role, ORG, Some("eu-west-1"), now).unwrap();
    let got = v.verify(&proof, ORG, now).unwrap();
    assert_eq!(got.region, "eu-west-1");
    // Without an override for that host the bytes would go to the real
    // endpoint; the allowlist is unchanged either way.
    let cfg = config(&peer.moto);
    assert!(
        arnmap::precheck(&proof, ORG, now, &cfg.proof).is_ok(),
        "the override does not change what is allowlisted"
    );
}

#[test]
fn tampering_is_caught_by_prechecks_or_by_sts() {
    let Some(peer) = peer() else { return };
    let (v, calls) = verifier(config(&peer.moto));
    let now = SystemTime::now();
    let good = make_proof(&peer.role, ORG, None, now).unwrap();

    // Org header: for the org asked for, a pre-check; re-bound to another
    // org and presented for it, STS sees the signature no longer matches.
    let rebound = with_header(&good, "x-ddog-org-id", "another-org");
    let e = v.verify(&rebound, ORG, now).unwrap_err();
    assert!(
        matches!(e, VerifyError::Proof(ProofError::OrgMismatch { .. })),
        "{e}"
    );
    assert_eq!(calls.count(), 0);
    let e = v.verify(&rebound, "another-org", now).unwrap_err();
    assert!(
        matches!(e, VerifyError::Sts(StsError::BadSignature(_))),
        "{e}"
    );
    assert_eq!(calls.count(), 1);

    // Body: another action is a pre-check; the accepted other order is not
    // what was signed.
    let mut p = arnmap::internals::wire::decode(&good).unwrap();
    p.body = b"Action=GetSessionToken&Version=2011-06-15".to_vec();
    let e = v
        .verify(&sts_support::encode_raw(&p), ORG, now)
        .unwrap_err();
    assert!(matches!(e, VerifyError::Proof(ProofError::Body(_))), "{e}");
    p.body = b"Version=2011-06-15&Action=GetCallerIdentity".to_vec();
    let e = v
        .verify(&sts_support::encode_raw(&p), ORG, now)
        .unwrap_err();
    assert!(
        matches!(e, VerifyError::Sts(StsError::BadSignature(_))),
        "{e}"
    );

    // Signature: one digit changed.
    let auth = header(&good, "authorization");
    let flipped = if auth.ends_with('0') {
        format!("{}1", &auth[..auth.len() - 1])
    } else {
        format!("{}0", &auth[..auth.len() - 1])
    };
    let e = v
        .verify(&with_header(&good, "authorization", &flipped), ORG, now)
        .unwrap_err();
    assert!(
        matches!(e, VerifyError::Sts(StsError::BadSignature(_))),
        "{e}"
    );

    // Date: far off is a pre-check; a second off is for STS.
    let e = v
        .verify(&good, ORG, now + Duration::from_secs(16 * 60))
        .unwrap_err();
    assert!(
        matches!(e, VerifyError::Proof(ProofError::Expired { .. })),
        "{e}"
    );
    let date = header(&good, "x-amz-date");
    let last = date.as_bytes()[14];
    let shifted = format!("{}{}Z", &date[..14], if last == b'0' { '1' } else { '0' });
    let e = v
        .verify(&with_header(&good, "x-amz-date", &shifted), ORG, now)
        .unwrap_err();
    assert!(
        matches!(e, VerifyError::Sts(StsError::BadSignature(_))),
        "{e}"
    );

    // Session token: moto refuses a token that is not the key's.
    let e = v
        .verify(
            &with_header(&good, "x-amz-security-token", "forged"),
            ORG,
            now,
        )
        .unwrap_err();
    assert!(
        matches!(e, VerifyError::Sts(StsError::InvalidToken { .. })),
        "{e}"
    );

    // Unknown access key.
    let stranger = AwsCredentials {
        access_key_id: "AKIAUNKNOWNUNKNOWN12".into(),
        secret_access_key: "x".into(),
        session_token: None,
    };
    let e = v
        .verify(&make_proof(&stranger, ORG, None, now).unwrap(), ORG, now)
        .unwrap_err();
    assert!(
        matches!(e, VerifyError::Sts(StsError::InvalidToken { .. })),
        "{e}"
    );

    // And the untouched proof still verifies.
    assert!(v.verify(&good, ORG, now).is_ok());
}

#[test]
fn replay_protection_accepts_a_proof_once() {
    let Some(peer) = peer() else { return };
    let mut cfg = config(&peer.moto);
    cfg.replay.enabled = true;
    let (v, calls) = verifier(cfg);
    let now = SystemTime::now();
    let proof = make_proof(&peer.role, ORG, None, now).unwrap();
    assert!(v.verify(&proof, ORG, now).is_ok());
    assert_eq!(
        v.verify(&proof, ORG, now).unwrap_err(),
        VerifyError::Replayed
    );
    assert_eq!(calls.count(), 1, "the replay never reached STS");
}

#[test]
fn cli_verify_and_proof_round_trip() {
    // `arnmap verify` (the binary) on a proof made by the library.
    let Some(peer) = peer() else { return };
    let dir = std::env::temp_dir().join(format!("arnmap-cli-{}", peer.moto.port));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("proof");
    let proof = make_proof(&peer.role, ORG, None, SystemTime::now()).unwrap();
    std::fs::write(&file, &proof).unwrap();
    let verify = |org: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_arnmap"))
            .args(["verify", "--org", org, "--proof"])
            .arg(&file)
            .arg("--sts-override")
            .arg(format!("sts.amazonaws.com={}", peer.moto.url()))
            .output()
            .unwrap()
    };
    let ok = verify(ORG);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    let caller: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert!(
        caller["arn"].as_str().unwrap().contains(":assumed-role/"),
        "{caller}"
    );
    let wrong_org = verify("other");
    assert_eq!(wrong_org.status.code(), Some(1), "{wrong_org:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
