//! The pre-checks, in a fixed order: size, encoding, headers, method, URL and
//! host, body, Host header, Authorization syntax, org binding, signed-header
//! set, date window, credential scope.

use std::time::SystemTime;

use super::error::ProofError;
use super::host::{StsHost, parse_sts_host};
use super::sigv4::{Authorization, parse_amz_date, parse_authorization};
use super::wire::RawProof;
use super::{CheckedProof, DecodedProof, GET_CALLER_IDENTITY_BODY, MAX_HEADERS, PrecheckConfig};

/// `X-Amz-*` headers a proof may carry (each must then be signed).
const AMZ_HEADERS: [&str; 3] = ["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"];
/// Headers a GetCallerIdentity proof may sign, besides the org header.
const SIGNABLE: [&str; 6] = [
    "content-length",
    "content-type",
    "host",
    "x-amz-content-sha256",
    "x-amz-date",
    "x-amz-security-token",
];
/// Framing and hop-by-hop headers: never replayed, never accepted.
const FORBIDDEN: [&str; 8] = [
    "connection",
    "expect",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-connection",
];

/// Decodes a proof and runs every pre-check against the org asked for.
///
/// Pure: `now` is the caller's clock; nothing here does I/O. The same as
/// [`DecodedProof::decode`] then [`DecodedProof::precheck`].
pub fn precheck(
    raw: &str,
    org: &str,
    now: SystemTime,
    cfg: &PrecheckConfig,
) -> Result<CheckedProof, ProofError> {
    DecodedProof::decode(raw, cfg)?.precheck(org, now, cfg)
}

/// The pre-checks after decoding, in order: the first that fails names the
/// error.
pub(super) fn run(
    proof: RawProof,
    org: &str,
    now: SystemTime,
    cfg: &PrecheckConfig,
) -> Result<CheckedProof, ProofError> {
    let headers = check_headers(&proof)?;
    check_method(&proof.method)?;
    let host = check_url(&proof.url, cfg)?;
    check_body(&proof.body)?;
    check_content_headers(&headers, &proof.body)?;
    check_host_header(&headers, &host)?;
    let auth = check_authorization(&headers)?;
    check_org_binding(&headers, org, cfg)?;
    check_signed_headers(&headers, &auth, cfg)?;
    let signed_at = check_date_window(&headers, now, cfg)?;
    check_scope(&headers, &auth, &host)?;
    let headers = replayed_headers(&headers, &auth);
    Ok(CheckedProof {
        host,
        headers,
        body: proof.body,
        authorization: auth,
        signed_at,
        org: org.to_owned(),
    })
}

/// A proof's headers once [`check_headers`] passed: one value each.
struct Headers<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Headers<'a> {
    /// The value of `name`, looked up case-insensitively.
    fn get(&self, name: &str) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// The value of a header the proof must carry.
    fn require(&self, name: &str, shown: &str) -> Result<&'a str, ProofError> {
        self.get(name)
            .ok_or_else(|| ProofError::MissingHeader(shown.to_owned()))
    }
}

/// The method is `POST`.
fn check_method(method: &str) -> Result<(), ProofError> {
    if method != "POST" {
        return Err(ProofError::Method(method.to_owned()));
    }
    Ok(())
}

/// `Content-Length`, if present, is the body's length; `Content-Type`, if
/// present, is a form encoding.
fn check_content_headers(headers: &Headers<'_>, body: &[u8]) -> Result<(), ProofError> {
    if let Some(len) = headers.get("content-length")
        && len.parse::<usize>().ok() != Some(body.len())
    {
        return Err(ProofError::ContentLength {
            header: len.to_owned(),
            body: body.len(),
        });
    }
    if let Some(ct) = headers.get("content-type") {
        let media = ct.split(';').next().unwrap_or_default().trim();
        if !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(ProofError::ContentType(ct.to_owned()));
        }
    }
    Ok(())
}

/// The Host header is present and names the URL's host.
fn check_host_header(headers: &Headers<'_>, host: &StsHost) -> Result<(), ProofError> {
    let host_header = headers.require("host", "Host")?;
    if host_header != host.host {
        return Err(ProofError::HostMismatch {
            header: host_header.to_owned(),
            url: host.host.clone(),
        });
    }
    Ok(())
}

/// `Authorization` is present and is SigV4 syntax.
fn check_authorization(headers: &Headers<'_>) -> Result<Authorization, ProofError> {
    parse_authorization(headers.require("authorization", "Authorization")?)
}

/// The org binding: present and equal to the org asked for (that it is
/// signed is checked with the signed-header set).
fn check_org_binding(
    headers: &Headers<'_>,
    org: &str,
    cfg: &PrecheckConfig,
) -> Result<(), ProofError> {
    let bound = headers
        .get(&cfg.org_header)
        .ok_or_else(|| ProofError::OrgMissing(cfg.org_header.clone()))?;
    if bound != org {
        return Err(ProofError::OrgMismatch {
            got: bound.to_owned(),
            want: org.to_owned(),
        });
    }
    Ok(())
}

/// The signed-header set: only signable names, each carried (but
/// Content-Length); Host, X-Amz-Date and the org header signed; every
/// `X-Amz-*` header signed.
fn check_signed_headers(
    headers: &Headers<'_>,
    auth: &Authorization,
    cfg: &PrecheckConfig,
) -> Result<(), ProofError> {
    let org_header = cfg.org_header.to_ascii_lowercase();
    for name in &auth.signed_headers {
        if *name != org_header && !SIGNABLE.contains(&name.as_str()) {
            return Err(ProofError::SignedHeaderUnexpected(name.clone()));
        }
        // A signed Content-Length may be missing: it is rebuilt from the body.
        if name != "content-length" && headers.get(name).is_none() {
            return Err(ProofError::SignedHeaderAbsent(name.clone()));
        }
    }
    for required in ["host", "x-amz-date", org_header.as_str()] {
        if !is_signed(auth, required) {
            return Err(ProofError::Unsigned(required.to_owned()));
        }
    }
    for (name, _) in &headers.0 {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("x-amz-") && !is_signed(auth, &lower) {
            return Err(ProofError::Unsigned(lower));
        }
    }
    Ok(())
}

/// Whether `Authorization` signs `name` (lower-case).
fn is_signed(auth: &Authorization, name: &str) -> bool {
    auth.signed_headers.iter().any(|s| s == name)
}

/// `X-Amz-Date` parses and is within `max_skew_secs` of `now`, both ways.
fn check_date_window(
    headers: &Headers<'_>,
    now: SystemTime,
    cfg: &PrecheckConfig,
) -> Result<SystemTime, ProofError> {
    let signed_at = parse_amz_date(headers.require("x-amz-date", "X-Amz-Date")?)?;
    let max_secs = cfg.max_skew_secs;
    match now.duration_since(signed_at) {
        Ok(age) if age.as_secs() > max_secs => Err(ProofError::Expired {
            age_secs: age.as_secs(),
            max_secs,
        }),
        Err(ahead) if ahead.duration().as_secs() > max_secs => Err(ProofError::FutureDated {
            ahead_secs: ahead.duration().as_secs(),
            max_secs,
        }),
        Ok(_) | Err(_) => Ok(signed_at),
    }
}

/// The credential scope: its day is X-Amz-Date's, its region the host's.
fn check_scope(
    headers: &Headers<'_>,
    auth: &Authorization,
    host: &StsHost,
) -> Result<(), ProofError> {
    let date = headers.require("x-amz-date", "X-Amz-Date")?;
    if date.get(..8) != Some(auth.scope_date.as_str()) {
        return Err(ProofError::ScopeDate {
            scope: auth.scope_date.clone(),
            date: date.to_owned(),
        });
    }
    if auth.scope_region != host.region {
        return Err(ProofError::ScopeRegion {
            scope: auth.scope_region.clone(),
            host: host.host.clone(),
            host_region: host.region.clone(),
        });
    }
    Ok(())
}

/// What is replayed: the signed headers, `Authorization` and `User-Agent`;
/// never `Content-Length` (the transport sends the body's length).
fn replayed_headers(headers: &Headers<'_>, auth: &Authorization) -> Vec<(String, String)> {
    headers
        .0
        .iter()
        .filter(|(n, _)| {
            let lower = n.to_ascii_lowercase();
            lower != "content-length"
                && (is_signed(auth, &lower) || lower == "authorization" || lower == "user-agent")
        })
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

/// Header names and values are well formed, single-valued, distinct, and
/// neither framing headers nor unexpected `X-Amz-*` ones.
fn check_headers(proof: &RawProof) -> Result<Headers<'_>, ProofError> {
    if proof.headers.len() > MAX_HEADERS {
        return Err(ProofError::TooManyHeaders {
            count: proof.headers.len(),
            max: MAX_HEADERS,
        });
    }
    let mut out: Vec<(&str, &str)> = Vec::with_capacity(proof.headers.len());
    for (name, values) in &proof.headers {
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(ProofError::HeaderName(name.clone()));
        }
        if out.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Err(ProofError::DuplicateHeader(name.clone()));
        }
        let [value] = values.as_slice() else {
            return Err(ProofError::HeaderValues {
                name: name.clone(),
                count: values.len(),
            });
        };
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(ProofError::HeaderValue(name.clone()));
        }
        let lower = name.to_ascii_lowercase();
        if FORBIDDEN.contains(&lower.as_str()) || lower.starts_with("proxy-") {
            return Err(ProofError::ForbiddenHeader(name.clone()));
        }
        if lower.starts_with("x-amz-") && !AMZ_HEADERS.contains(&lower.as_str()) {
            return Err(ProofError::UnexpectedAmzHeader(name.clone()));
        }
        out.push((name, value));
    }
    Ok(Headers(out))
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `https://` + an allowlisted host, no userinfo, port, query or fragment,
/// path empty or `/`; and the host's partition and region allowed.
fn check_url(url: &str, cfg: &PrecheckConfig) -> Result<StsHost, ProofError> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(ProofError::Url(url.to_owned()));
    };
    if scheme != "https" {
        return Err(ProofError::UrlScheme(scheme.to_owned()));
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return Err(ProofError::UrlUserinfo);
    }
    if let Some((_, port)) = authority.rsplit_once(':') {
        return Err(ProofError::UrlPort(port.to_owned()));
    }
    if authority.is_empty() {
        return Err(ProofError::Url(url.to_owned()));
    }
    if tail.contains('#') {
        return Err(ProofError::UrlFragment);
    }
    if tail.contains('?') {
        return Err(ProofError::UrlQuery);
    }
    if !tail.is_empty() && tail != "/" {
        return Err(ProofError::UrlPath(tail.to_owned()));
    }
    let host = parse_sts_host(authority).ok_or_else(|| ProofError::Host(authority.to_owned()))?;
    if !cfg.partitions.iter().any(|p| p == host.partition.as_str()) {
        return Err(ProofError::PartitionNotAllowed {
            host: host.host.clone(),
            partition: host.partition,
        });
    }
    if !cfg.regions.is_empty() && !cfg.regions.contains(&host.region) {
        return Err(ProofError::RegionNotAllowed {
            host: host.host.clone(),
            region: host.region.clone(),
        });
    }
    Ok(host)
}

/// Exactly the two GetCallerIdentity parameters, in either order.
fn check_body(body: &[u8]) -> Result<(), ProofError> {
    const SWAPPED: &str = "Version=2011-06-15&Action=GetCallerIdentity";
    if body == GET_CALLER_IDENTITY_BODY.as_bytes() || body == SWAPPED.as_bytes() {
        return Ok(());
    }
    let shown: String = String::from_utf8_lossy(body).chars().take(120).collect();
    Err(ProofError::Body(shown))
}
