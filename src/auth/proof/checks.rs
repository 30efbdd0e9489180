//! The pre-checks, in a fixed order: size, encoding, headers, method, URL and
//! host, body, Host header, Authorization syntax, org binding, signed-header
//! set, date window, credential scope.

use std::time::SystemTime;

use super::error::ProofError;
use super::host::{StsHost, parse_sts_host};
use super::sigv4::{parse_amz_date, parse_authorization};
use super::wire::{RawProof, decode};
use super::{CheckedProof, GET_CALLER_IDENTITY_BODY, MAX_HEADERS, PrecheckConfig};

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
/// Pure: `now` is the caller's clock; nothing here does I/O.
pub fn precheck(
    raw: &str,
    org: &str,
    now: SystemTime,
    cfg: &PrecheckConfig,
) -> Result<CheckedProof, ProofError> {
    if raw.len() > cfg.max_proof_bytes {
        return Err(ProofError::TooLarge {
            len: raw.len(),
            max: cfg.max_proof_bytes,
        });
    }
    let proof = decode(raw)?;
    let headers = check_headers(&proof)?;
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    };

    if proof.method != "POST" {
        return Err(ProofError::Method(proof.method.clone()));
    }
    let host = check_url(&proof.url, cfg)?;
    check_body(&proof.body)?;
    if let Some(len) = get("content-length")
        && len.parse::<usize>().ok() != Some(proof.body.len())
    {
        return Err(ProofError::ContentLength {
            header: len.to_owned(),
            body: proof.body.len(),
        });
    }
    if let Some(ct) = get("content-type") {
        let media = ct.split(';').next().unwrap_or_default().trim();
        if !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(ProofError::ContentType(ct.to_owned()));
        }
    }
    let host_header = get("host").ok_or_else(|| ProofError::MissingHeader("Host".to_owned()))?;
    if host_header != host.host {
        return Err(ProofError::HostMismatch {
            header: host_header.to_owned(),
            url: host.host.clone(),
        });
    }

    let auth = get("authorization")
        .ok_or_else(|| ProofError::MissingHeader("Authorization".to_owned()))?;
    let auth = parse_authorization(auth)?;

    // The org binding: present, equal to the org asked for, signed.
    let org_header = cfg.org_header.to_ascii_lowercase();
    let bound = get(&org_header).ok_or_else(|| ProofError::OrgMissing(cfg.org_header.clone()))?;
    if bound != org {
        return Err(ProofError::OrgMismatch {
            got: bound.to_owned(),
            want: org.to_owned(),
        });
    }

    // The signed-header set.
    let signed = |name: &str| auth.signed_headers.iter().any(|s| s == name);
    for name in &auth.signed_headers {
        if *name != org_header && !SIGNABLE.contains(&name.as_str()) {
            return Err(ProofError::SignedHeaderUnexpected(name.clone()));
        }
        // A signed Content-Length may be missing: it is rebuilt from the body.
        if name != "content-length" && get(name).is_none() {
            return Err(ProofError::SignedHeaderAbsent(name.clone()));
        }
    }
    for required in ["host", "x-amz-date", org_header.as_str()] {
        if !signed(required) {
            return Err(ProofError::Unsigned(required.to_owned()));
        }
    }
    for (name, _) in &headers {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("x-amz-") && !signed(&lower) {
            return Err(ProofError::Unsigned(lower));
        }
    }

    // The date window, both ways, and the scope's day.
    let date =
        get("x-amz-date").ok_or_else(|| ProofError::MissingHeader("X-Amz-Date".to_owned()))?;
    let signed_at = parse_amz_date(date)?;
    match now.duration_since(signed_at) {
        Ok(age) if age.as_secs() > cfg.max_skew_secs => {
            return Err(ProofError::Expired {
                age_secs: age.as_secs(),
                max_secs: cfg.max_skew_secs,
            });
        }
        Ok(_) => {}
        Err(ahead) => {
            let ahead = ahead.duration();
            if ahead.as_secs() > cfg.max_skew_secs {
                return Err(ProofError::FutureDated {
                    ahead_secs: ahead.as_secs(),
                    max_secs: cfg.max_skew_secs,
                });
            }
        }
    }
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

    let replayed = headers
        .iter()
        .filter(|(n, _)| {
            let lower = n.to_ascii_lowercase();
            lower != "content-length"
                && (signed(&lower) || lower == "authorization" || lower == "user-agent")
        })
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    Ok(CheckedProof {
        host,
        headers: replayed,
        body: proof.body,
        authorization: auth,
        signed_at,
        org: org.to_owned(),
    })
}

/// Header names and values are well formed, single-valued, distinct, and
/// neither framing headers nor unexpected `X-Amz-*` ones.
fn check_headers(proof: &RawProof) -> Result<Vec<(&str, &str)>, ProofError> {
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
    Ok(out)
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

/// The org a proof says it is for: the value of its org binding header, read
/// before the pre-checks so a service can pick the org's policy. It proves
/// nothing by itself: [`precheck`] with this org then checks that the header
/// is signed, single and well formed.
#[cfg(feature = "token")]
pub fn bound_org(raw: &str, cfg: &PrecheckConfig) -> Result<String, ProofError> {
    if raw.len() > cfg.max_proof_bytes {
        return Err(ProofError::TooLarge {
            len: raw.len(),
            max: cfg.max_proof_bytes,
        });
    }
    let proof = decode(raw)?;
    proof
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(&cfg.org_header))
        .and_then(|(_, values)| values.first())
        .cloned()
        .ok_or_else(|| ProofError::OrgMissing(cfg.org_header.clone()))
}
