//! Token issue and verification: every algorithm, every refusal the module
//! documents, rotation and key files.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use arnmap::{
    KeyPair, KeyRing, KeyStoreError, SigningAlgorithm, TokenConfig, TokenIssuer, TokenSubject,
    VerifyTokenError,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn subject() -> TokenSubject {
    TokenSubject {
        account: "terraform@example.com".into(),
        org: "0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10".into(),
        aws_arn: "arn:aws:sts::123456789012:assumed-role/tf/s1".into(),
        aws_account: "123456789012".into(),
        rule: "seed".into(),
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "arnmap-token-{name}-{}-{}",
        std::process::id(),
        uuid_like()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn uuid_like() -> u128 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn issuer(alg: SigningAlgorithm) -> TokenIssuer {
    let config = TokenConfig {
        algorithm: alg,
        ..TokenConfig::default()
    };
    TokenIssuer::new(config, KeyRing::single(KeyPair::generate(alg).unwrap())).unwrap()
}

fn part(token: &str, i: usize) -> String {
    token.split('.').nth(i).unwrap().to_owned()
}

fn json_part(token: &str, i: usize) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part(token, i)).unwrap()).unwrap()
}

fn enc(v: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

#[test]
fn every_algorithm_round_trips_with_the_spec_claims() {
    let now = SystemTime::now();
    for alg in [
        SigningAlgorithm::EdDSA,
        SigningAlgorithm::ES256,
        SigningAlgorithm::RS256,
    ] {
        let issuer = issuer(alg);
        let issued = issuer.issue(&subject(), now).unwrap();
        let header = json_part(&issued.token, 0);
        assert_eq!(header["alg"], format!("{alg:?}"));
        assert_eq!(header["kid"], issuer.ring().signing_key().unwrap().kid());
        let body = json_part(&issued.token, 1);
        for claim in [
            "iss",
            "aud",
            "sub",
            "org",
            "exp",
            "iat",
            "nbf",
            "jti",
            "aws_arn",
            "aws_account",
            "rule",
        ] {
            assert!(body.get(claim).is_some(), "{alg:?}: claim {claim} missing");
        }
        assert_eq!(
            body["exp"].as_u64().unwrap() - body["iat"].as_u64().unwrap(),
            900
        );
        let claims = issuer.verify(&issued.token, now).unwrap();
        assert_eq!(claims, issued.claims);
        assert_eq!(claims.sub, "terraform@example.com");
        let jwks = serde_json::to_value(issuer.jwks()).unwrap();
        assert_eq!(jwks["keys"][0]["kid"], header["kid"]);
        assert_eq!(jwks["keys"][0]["use"], "sig");
    }
}

#[test]
fn two_tokens_never_share_a_jti() {
    let issuer = issuer(SigningAlgorithm::EdDSA);
    let now = SystemTime::now();
    let a = issuer.issue(&subject(), now).unwrap();
    let b = issuer.issue(&subject(), now).unwrap();
    assert_ne!(a.claims.jti, b.claims.jti);
}

#[test]
fn alg_none_is_refused() {
    let issuer = issuer(SigningAlgorithm::EdDSA);
    let now = SystemTime::now();
    let token = issuer.issue(&subject(), now).unwrap().token;
    let kid = issuer.ring().signing_key().unwrap().kid().to_owned();
    for alg in ["none", "None", "NONE"] {
        let forged = format!(
            "{}.{}.",
            enc(&serde_json::json!({"alg": alg, "typ": "JWT", "kid": kid})),
            part(&token, 1)
        );
        let err = issuer.verify(&forged, now).unwrap_err();
        assert!(
            matches!(err, VerifyTokenError::Malformed(_)),
            "{alg}: {err:?}"
        );
    }
}

#[test]
fn hmac_with_the_public_key_is_refused_before_any_crypto() {
    // The classic confusion: sign HS256 with the public key bytes.
    let issuer = issuer(SigningAlgorithm::RS256);
    let now = SystemTime::now();
    let key = issuer.ring().signing_key().unwrap();
    let public = serde_json::to_vec(key.jwk()).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(key.kid().to_owned());
    let claims = issuer.issue(&subject(), now).unwrap().claims;
    let forged = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&public),
    )
    .unwrap();
    let err = issuer.verify(&forged, now).unwrap_err();
    assert!(
        matches!(err, VerifyTokenError::AlgorithmNotAllowed(ref a) if a == "HS256"),
        "{err:?}"
    );
}

#[test]
fn a_header_algorithm_that_is_not_the_kids_is_refused() {
    let ed = KeyPair::generate(SigningAlgorithm::EdDSA).unwrap();
    let es = KeyPair::generate(SigningAlgorithm::ES256).unwrap();
    let ed_kid = ed.kid().to_owned();
    let issuer = TokenIssuer::new(TokenConfig::default(), KeyRing::new(ed, vec![es])).unwrap();
    let now = SystemTime::now();
    let token = issuer.issue(&subject(), now).unwrap().token;
    let header = enc(&serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": ed_kid}));
    let forged = format!("{header}.{}.{}", part(&token, 1), part(&token, 2));
    let err = issuer.verify(&forged, now).unwrap_err();
    assert!(
        matches!(err, VerifyTokenError::AlgorithmMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn kid_is_required_and_must_be_known() {
    let issuer = issuer(SigningAlgorithm::EdDSA);
    let now = SystemTime::now();
    let token = issuer.issue(&subject(), now).unwrap().token;
    let no_kid = format!(
        "{}.{}.{}",
        enc(&serde_json::json!({"alg": "EdDSA", "typ": "JWT"})),
        part(&token, 1),
        part(&token, 2)
    );
    assert!(matches!(
        issuer.verify(&no_kid, now),
        Err(VerifyTokenError::MissingKeyId)
    ));
    let other = format!(
        "{}.{}.{}",
        enc(&serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": "nope"})),
        part(&token, 1),
        part(&token, 2)
    );
    assert!(matches!(
        issuer.verify(&other, now),
        Err(VerifyTokenError::UnknownKeyId(_))
    ));
}

#[test]
fn a_tampered_payload_or_another_key_fails_the_signature() {
    let issuer_a = issuer(SigningAlgorithm::EdDSA);
    let now = SystemTime::now();
    let token = issuer_a.issue(&subject(), now).unwrap().token;
    let mut body = json_part(&token, 1);
    body["sub"] = "admin@example.com".into();
    let tampered = format!("{}.{}.{}", part(&token, 0), enc(&body), part(&token, 2));
    assert!(matches!(
        issuer_a.verify(&tampered, now),
        Err(VerifyTokenError::Signature)
    ));
    // Same kid claimed by a token signed with another key: the signature fails.
    let issuer_b = issuer(SigningAlgorithm::EdDSA);
    let theirs = issuer_b.issue(&subject(), now).unwrap().token;
    let swapped = format!(
        "{}.{}.{}",
        part(&token, 0),
        part(&theirs, 1),
        part(&theirs, 2)
    );
    assert!(matches!(
        issuer_a.verify(&swapped, now),
        Err(VerifyTokenError::Signature)
    ));
}

#[test]
fn wrong_issuer_and_wrong_audience_are_refused() {
    let dir = temp_dir("iss");
    let ring = || KeyRing::open_or_create(&dir, SigningAlgorithm::EdDSA).unwrap();
    let now = SystemTime::now();
    let ours = TokenIssuer::new(TokenConfig::default(), ring()).unwrap();
    let other_iss = TokenIssuer::new(
        TokenConfig {
            issuer: "someone-else".into(),
            ..TokenConfig::default()
        },
        ring(),
    )
    .unwrap();
    let other_aud = TokenIssuer::new(
        TokenConfig {
            audience: "another-api".into(),
            ..TokenConfig::default()
        },
        ring(),
    )
    .unwrap();
    let t = other_iss.issue(&subject(), now).unwrap().token;
    assert!(matches!(
        ours.verify(&t, now),
        Err(VerifyTokenError::Issuer)
    ));
    let t = other_aud.issue(&subject(), now).unwrap().token;
    assert!(matches!(
        ours.verify(&t, now),
        Err(VerifyTokenError::Audience)
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn expired_and_not_yet_valid_tokens_are_refused_with_leeway() {
    let issuer = issuer(SigningAlgorithm::EdDSA);
    let now = SystemTime::now();
    let t = issuer.issue(&subject(), now).unwrap().token;
    // Within the lifetime and the leeway: accepted.
    assert!(
        issuer
            .verify(&t, now + Duration::from_secs(900 + 29))
            .is_ok()
    );
    assert!(matches!(
        issuer.verify(&t, now + Duration::from_secs(900 + 31)),
        Err(VerifyTokenError::Expired)
    ));
    assert!(issuer.verify(&t, now - Duration::from_secs(29)).is_ok());
    assert!(matches!(
        issuer.verify(&t, now - Duration::from_secs(31)),
        Err(VerifyTokenError::NotYetValid)
    ));
}

#[test]
fn key_directory_files_are_private_and_rotation_keeps_old_tokens_valid() {
    let dir = temp_dir("ring");
    let now = SystemTime::now();
    let ring = KeyRing::open_or_create(&dir, SigningAlgorithm::EdDSA).unwrap();
    let first_kid = ring.signing_key().unwrap().kid().to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let pem = dir.join(format!("{first_kid}.pem"));
        let mode = std::fs::metadata(&pem).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
    let old = TokenIssuer::new(TokenConfig::default(), ring).unwrap();
    let old_token = old.issue(&subject(), now).unwrap().token;

    // A second start reuses the key.
    let again = KeyRing::open_or_create(&dir, SigningAlgorithm::EdDSA).unwrap();
    assert_eq!(again.signing_key().unwrap().kid(), first_kid);
    // A start asking for another algorithm is refused rather than silently rotating.
    let err = KeyRing::open_or_create(&dir, SigningAlgorithm::ES256).unwrap_err();
    assert!(matches!(err, KeyStoreError::Config(_)), "{err:?}");

    let new_kid = KeyRing::rotate(&dir, SigningAlgorithm::ES256).unwrap();
    assert_ne!(new_kid, first_kid);
    let config = TokenConfig {
        algorithm: SigningAlgorithm::ES256,
        ..TokenConfig::default()
    };
    let ring = KeyRing::open_or_create(&dir, SigningAlgorithm::ES256).unwrap();
    assert_eq!(ring.keys().len(), 2);
    let rotated = TokenIssuer::new(config, ring).unwrap();
    assert!(rotated.verify(&old_token, now).is_ok());
    let new_token = rotated.issue(&subject(), now).unwrap().token;
    assert_eq!(json_part(&new_token, 0)["kid"], new_kid.as_str());
    assert_eq!(rotated.jwks().keys.len(), 2);
    // The old issuer does not know the new key.
    assert!(matches!(
        old.verify(&new_token, now),
        Err(VerifyTokenError::AlgorithmNotAllowed(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn garbage_is_refused_without_panicking() {
    let issuer = issuer(SigningAlgorithm::EdDSA);
    let now = SystemTime::now();
    for t in [
        "",
        ".",
        "..",
        "a.b.c",
        "e30.e30.",
        "x".repeat(10_000).as_str(),
    ] {
        assert!(issuer.verify(t, now).is_err(), "{t:?}");
    }
    assert!(KeyPair::from_pem("not a key", "inline").is_err());
}

#[test]
fn configuration_limits_are_checked() {
    let ring = || KeyRing::single(KeyPair::generate(SigningAlgorithm::EdDSA).unwrap());
    for lifetime in [0, 12 * 3600 + 1] {
        let config = TokenConfig {
            lifetime_secs: lifetime,
            ..TokenConfig::default()
        };
        assert!(TokenIssuer::new(config, ring()).is_err());
    }
}
