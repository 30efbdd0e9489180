//! The STS exchange against a local misbehaving server (std::net): timeouts,
//! slow bodies, 5xx and throttling with retries, oversized and malformed XML,
//! redirects, inconsistent identities. Each ends within its bound, with the
//! right error and no identity.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use arnmap::StsError;
use arnmap::{AwsCredentials, make_proof};
use arnmap::{Verified, Verifier, VerifierConfig, VerifyError};

const ORG: &str = "org-1";
const ARN: &str = "arn:aws:sts::123456789012:assumed-role/terraform-runner/tf-42";

/// What the server does with one connection.
#[derive(Clone)]
enum Act {
    /// Reads the request, answers `status` with `body` (and extra headers).
    Respond(u16, Vec<(String, String)>, Vec<u8>),
    /// Reads the request and never answers.
    Silent,
    /// Answers headers promising 1000 bytes, then one byte every 200 ms.
    SlowBody,
}

fn ok_xml(arn: &str, user_id: &str, account: &str) -> Vec<u8> {
    format!(
        r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>{arn}</Arn><UserId>{user_id}</UserId><Account>{account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#
    )
    .into_bytes()
}

fn ok() -> Act {
    Act::Respond(
        200,
        vec![],
        ok_xml(ARN, "AROAEXAMPLEEXAMPLE1:tf-42", "123456789012"),
    )
}

fn error(status: u16, code: &str) -> Act {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>m</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    );
    Act::Respond(status, vec![], body.into_bytes())
}

/// A scripted server: the n-th connection gets `script[n]` (the last one repeats).
struct Server {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(script: Vec<Act>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { continue };
                let act = script.get(n).or(script.last()).cloned().unwrap();
                let seen = seen.clone();
                std::thread::spawn(move || serve(stream, act, &seen));
            }
        });
        Server { addr, requests }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

fn serve(mut stream: TcpStream, act: Act, seen: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    seen.lock().unwrap().push(head);
    match act {
        Act::Respond(status, headers, body) => {
            let mut out = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (n, v) in headers {
                out.push_str(&format!("{n}: {v}\r\n"));
            }
            out.push_str("\r\n");
            let _ = stream.write_all(out.as_bytes());
            let _ = stream.write_all(&body);
        }
        Act::Silent => std::thread::sleep(Duration::from_secs(5)),
        Act::SlowBody => {
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n<",
            );
            for _ in 0..50 {
                std::thread::sleep(Duration::from_millis(200));
                if stream.write_all(b" ").is_err() {
                    return;
                }
            }
        }
    }
}

fn config(base_url: &str) -> VerifierConfig {
    let mut cfg = VerifierConfig::default();
    cfg.sts
        .overrides
        .insert("sts.amazonaws.com".into(), base_url.into());
    cfg.sts.connect_timeout_ms = 300;
    cfg.sts.response_timeout_ms = 300;
    cfg.sts.body_timeout_ms = 500;
    cfg.sts.max_response_bytes = 16 * 1024;
    cfg.sts.retries = 2;
    cfg.sts.backoff_base_ms = 10;
    cfg.sts.backoff_max_ms = 40;
    cfg
}

/// Verifies a fresh proof against `base_url`; returns the result and how long it took.
fn run(base_url: &str) -> (Result<Verified, VerifyError>, Duration) {
    let creds = AwsCredentials {
        access_key_id: "ASIAEXAMPLEEXAMPLE12".into(),
        secret_access_key: "secret".into(),
        session_token: Some("token".into()),
    };
    let now = SystemTime::now();
    let proof = make_proof(&creds, ORG, None, now).unwrap();
    let verifier = Verifier::new(config(base_url)).unwrap();
    let start = Instant::now();
    let result = verifier.verify(&proof, ORG, now);
    (result, start.elapsed())
}

fn sts_code(r: &Result<Verified, VerifyError>) -> String {
    match r {
        Ok(v) => format!("accepted {}", v.identity.arn()),
        Err(e) => e.code(),
    }
}

#[test]
fn success_replays_with_the_host_header_preserved() {
    let server = Server::start(vec![ok()]);
    let (result, took) = run(&server.url());
    let verified = result.unwrap();
    assert_eq!(verified.identity.arn(), ARN);
    assert!(took < Duration::from_secs(2));
    let head = server.requests.lock().unwrap()[0].to_ascii_lowercase();
    assert!(head.starts_with("post / http/1.1\r\n"), "{head}");
    assert!(head.contains("\r\nhost: sts.amazonaws.com\r\n"), "{head}");
    assert!(head.contains("\r\nx-ddog-org-id: org-1\r\n"), "{head}");
    assert!(head.contains("\r\ncontent-length: 43\r\n"), "{head}");
    assert!(
        head.contains("\r\nauthorization: aws4-hmac-sha256 credential="),
        "{head}"
    );
}

#[test]
fn connect_timeout() {
    // A listener that never accepts, its backlog filled: new SYNs are dropped.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    let mut full = false;
    for _ in 0..4096 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Ok(s) => held.push(s),
            Err(_) => {
                full = true;
                break;
            }
        }
    }
    assert!(
        full,
        "could not fill the accept backlog of a loopback listener"
    );
    let (result, took) = run(&format!("http://{addr}"));
    assert_eq!(sts_code(&result), "sts.Timeout", "{result:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    drop(held);
}

#[test]
fn read_timeout_is_not_retried() {
    let server = Server::start(vec![Act::Silent]);
    let (result, took) = run(&server.url());
    assert_eq!(sts_code(&result), "sts.Timeout", "{result:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert_eq!(server.count(), 1);
}

#[test]
fn slow_body_times_out() {
    let server = Server::start(vec![Act::SlowBody]);
    let (result, took) = run(&server.url());
    assert_eq!(sts_code(&result), "sts.Timeout", "{result:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
}

#[test]
fn five_hundreds_then_success() {
    let server = Server::start(vec![
        error(503, "ServiceUnavailable"),
        error(500, "InternalFailure"),
        ok(),
    ]);
    let (result, took) = run(&server.url());
    assert_eq!(result.unwrap().identity.arn(), ARN);
    assert_eq!(server.count(), 3);
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn persistent_5xx_gives_up_after_the_retries() {
    let server = Server::start(vec![Act::Respond(
        502,
        vec![],
        b"<html>bad gateway</html>".to_vec(),
    )]);
    let (result, took) = run(&server.url());
    assert!(
        matches!(
            result,
            Err(VerifyError::Sts(StsError::Unavailable {
                status: 502,
                attempts: 3
            }))
        ),
        "{result:?}"
    );
    assert_eq!(server.count(), 3);
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn throttling_is_retried_then_reported() {
    let server = Server::start(vec![error(400, "Throttling")]);
    let (result, _) = run(&server.url());
    assert!(
        matches!(
            result,
            Err(VerifyError::Sts(StsError::Throttled { attempts: 3 }))
        ),
        "{result:?}"
    );
    assert_eq!(server.count(), 3);

    let server = Server::start(vec![Act::Respond(429, vec![], vec![]), ok()]);
    let (result, _) = run(&server.url());
    assert_eq!(result.unwrap().identity.arn(), ARN);
    assert_eq!(server.count(), 2);
}

#[test]
fn client_errors_are_not_retried() {
    for (act, want) in [
        (error(403, "SignatureDoesNotMatch"), "sts.BadSignature"),
        (error(403, "ExpiredToken"), "sts.Expired"),
        (error(403, "InvalidClientTokenId"), "sts.InvalidToken"),
        (error(400, "ValidationError"), "sts.Rejected"),
        (
            Act::Respond(403, vec![], b"forbidden".to_vec()),
            "sts.Malformed",
        ),
    ] {
        let server = Server::start(vec![act]);
        let (result, _) = run(&server.url());
        assert_eq!(sts_code(&result), want, "{result:?}");
        assert_eq!(server.count(), 1, "{want}");
    }
}

#[test]
fn oversized_xml_is_cut_off() {
    let mut big = b"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>".to_vec();
    big.extend(std::iter::repeat_n(b'a', 1 << 20));
    let server = Server::start(vec![Act::Respond(200, vec![], big)]);
    let (result, took) = run(&server.url());
    assert_eq!(sts_code(&result), "sts.TooLarge", "{result:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
}

#[test]
fn malformed_xml() {
    for body in [
        &b"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>x"[..],
        b"{\"Arn\": \"arn:aws:iam::123456789012:user/a\"}",
        b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><GetCallerIdentityResponse/>",
        b"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>a</Arn><Arn>b</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>",
    ] {
        let server = Server::start(vec![Act::Respond(200, vec![], body.to_vec())]);
        let (result, _) = run(&server.url());
        assert_eq!(sts_code(&result), "sts.Malformed", "{result:?}");
        assert_eq!(server.count(), 1);
    }
}

#[test]
fn redirects_are_never_followed() {
    let target = Server::start(vec![ok()]);
    let location = format!("{}/", target.url());
    let origin = Server::start(vec![Act::Respond(
        302,
        vec![("Location".into(), location)],
        vec![],
    )]);
    let (result, _) = run(&origin.url());
    assert!(
        matches!(result, Err(VerifyError::Sts(StsError::Redirect(302)))),
        "{result:?}"
    );
    assert_eq!(origin.count(), 1);
    assert_eq!(target.count(), 0, "the redirect target was contacted");
}

#[test]
fn inconsistent_identities_are_refused() {
    for (body, want) in [
        (
            ok_xml(ARN, "AROAEXAMPLEEXAMPLE1:tf-42", "111111111111"),
            "AccountMismatch",
        ),
        (
            ok_xml(ARN, "AROAEXAMPLEEXAMPLE1:other", "123456789012"),
            "SessionMismatch",
        ),
        (
            ok_xml(
                "arn:aws:iam::123456789012:role/x",
                "AROAEXAMPLEEXAMPLE1",
                "123456789012",
            ),
            "IamRole",
        ),
    ] {
        let server = Server::start(vec![Act::Respond(200, vec![], body)]);
        let (result, _) = run(&server.url());
        match result {
            Err(VerifyError::Sts(StsError::Identity(e))) => {
                assert!(format!("{e:?}").starts_with(want), "{e:?}")
            }
            other => panic!("want {want}, got {other:?}"),
        }
    }
    // A caller of another partition than the host's.
    let server = Server::start(vec![Act::Respond(
        200,
        vec![],
        ok_xml(
            "arn:aws-cn:sts::123456789012:assumed-role/r/tf-42",
            "AROAEXAMPLEEXAMPLE1:tf-42",
            "123456789012",
        ),
    )]);
    let (result, _) = run(&server.url());
    assert_eq!(sts_code(&result), "sts.PartitionMismatch", "{result:?}");
}

#[test]
fn the_override_never_widens_the_allowlist() {
    // An override for an allowlisted host does not let a proof name another.
    let server = Server::start(vec![ok()]);
    let mut cfg = config(&server.url());
    cfg.sts
        .overrides
        .insert("sts.eu-west-1.amazonaws.com".into(), server.url());
    assert!(Verifier::new(cfg.clone()).is_ok());
    cfg.sts
        .overrides
        .insert("evil.example.com".into(), server.url());
    assert!(Verifier::new(cfg.clone()).is_err());
    // And no plain-http override off loopback.
    let mut cfg = config(&server.url());
    cfg.sts
        .overrides
        .insert("sts.amazonaws.com".into(), "http://192.0.2.1:80".into());
    assert!(Verifier::new(cfg).is_err());
    assert_eq!(server.count(), 0);
}

#[test]
fn https_overrides_really_speak_tls() {
    // A plain-HTTP server behind an https:// override: the TLS handshake
    // fails and nothing is accepted.
    let server = Server::start(vec![ok()]);
    let (result, took) = run(&format!("https://{}", server.addr));
    assert!(
        matches!(result, Err(VerifyError::Sts(StsError::Transport(_)))),
        "{result:?}"
    );
    assert!(took < Duration::from_millis(1500), "{took:?}");
}
