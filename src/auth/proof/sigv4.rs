//! Syntax of the SigV4 `Authorization` header and of `X-Amz-Date`. No
//! cryptography: STS verifies the signature; we only refuse what cannot be one.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::PrimitiveDateTime;
use time::macros::format_description;

use super::error::ProofError;

/// The only signing algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// A parsed `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The access key id (`AKIA…`, `ASIA…`).
    pub access_key_id: String,
    /// The scope date, `YYYYMMDD`.
    pub scope_date: String,
    /// The scope region.
    pub scope_region: String,
    /// The signed header names, lower-case, sorted, distinct.
    pub signed_headers: Vec<String>,
    /// 64 lower-case hex digits.
    pub signature: String,
}

/// Parses an `Authorization` header value.
///
/// The three components must each appear once, in any order, separated by
/// `,` with optional spaces (botocore and aws-sigv4 write `, `).
pub fn parse_authorization(value: &str) -> Result<Authorization, ProofError> {
    let Some(rest) = value.strip_prefix(ALGORITHM) else {
        return Err(ProofError::AuthScheme);
    };
    let Some(rest) = rest.strip_prefix(' ') else {
        return Err(ProofError::AuthScheme);
    };
    let syntax = |m: &str| ProofError::AuthSyntax(m.to_owned());
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for component in rest.split(',') {
        let component = component.trim_matches(' ');
        let Some((key, val)) = component.split_once('=') else {
            return Err(syntax("expected KEY=VALUE components"));
        };
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => return Err(ProofError::AuthSyntax(format!("unknown component `{key}`"))),
        };
        if slot.replace(val).is_some() {
            return Err(ProofError::AuthSyntax(format!("`{key}` appears twice")));
        }
    }
    let credential = credential.ok_or_else(|| syntax("no Credential"))?;
    let signed = signed.ok_or_else(|| syntax("no SignedHeaders"))?;
    let signature = signature.ok_or_else(|| syntax("no Signature"))?;

    let scope: Vec<&str> = credential.split('/').collect();
    let [akid, date, region, service, terminator] = scope[..] else {
        return Err(ProofError::CredentialScope(credential.to_owned()));
    };
    if !(16..=128).contains(&akid.len())
        || !akid
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(ProofError::AccessKeyId(akid.to_owned()));
    }
    if date.len() != 8
        || !date.bytes().all(|b| b.is_ascii_digit())
        || region.is_empty()
        || service != "sts"
        || terminator != "aws4_request"
    {
        return Err(ProofError::CredentialScope(credential.to_owned()));
    }

    let names: Vec<&str> = signed.split(';').collect();
    let well_formed = names.iter().all(|n| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }) && names.windows(2).all(|w| matches!(w, [a, b] if a < b));
    if !well_formed {
        return Err(ProofError::SignedHeadersSyntax(signed.to_owned()));
    }

    if signature.len() != 64
        || !signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(ProofError::Signature);
    }

    Ok(Authorization {
        access_key_id: akid.to_owned(),
        scope_date: date.to_owned(),
        scope_region: region.to_owned(),
        signed_headers: names.into_iter().map(str::to_owned).collect(),
        signature: signature.to_owned(),
    })
}

/// Parses `X-Amz-Date` (`YYYYMMDD'T'HHMMSS'Z'`, UTC) into a time.
pub fn parse_amz_date(value: &str) -> Result<SystemTime, ProofError> {
    let bad = || ProofError::AmzDate(value.to_owned());
    if value.len() != 16 {
        return Err(bad());
    }
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    let parsed = PrimitiveDateTime::parse(value, &format).map_err(|_| bad())?;
    let secs = parsed.assume_utc().unix_timestamp();
    let secs = u64::try_from(secs).map_err(|_| bad())?;
    UNIX_EPOCH
        .checked_add(Duration::from_secs(secs))
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_botocore_style() {
        let v = format!(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature={SIG}"
        );
        let a = parse_authorization(&v).unwrap();
        assert_eq!(a.scope_region, "us-east-1");
        assert_eq!(a.signed_headers, ["host", "x-amz-date"]);
    }

    #[test]
    fn dates() {
        let t = parse_amz_date("20260101T000000Z").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_767_225_600
        );
        for bad in [
            "2026-01-01T00:00:00Z",
            "20261301T000000Z",
            "20260101T000000",
            "20260101T246000Z",
        ] {
            assert!(parse_amz_date(bad).is_err(), "{bad}");
        }
    }
}
