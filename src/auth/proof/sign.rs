//! Making proofs, for `arnmap proof` and tests: SigV4 by `aws-sigv4`, the
//! wire format byte-compatible with `datadog_api_client.aws` (same header
//! names, order and spelling, same URL form).

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

use super::host::{GLOBAL_HOST, GLOBAL_REGION};
use super::wire::encode;
use super::{DEFAULT_ORG_HEADER, GET_CALLER_IDENTITY_BODY};
use crate::arn::partition::Partition;

/// The content type Datadog's clients send.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// AWS credentials to sign a proof with.
#[derive(Clone)]
pub struct AwsCredentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`, for temporary credentials.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl AwsCredentials {
    /// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and the optional
    /// `AWS_SESSION_TOKEN` from the environment.
    pub fn from_env() -> Result<Self, SignError> {
        let var = |name: &'static str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or(SignError::MissingEnv(name))
        };
        Ok(AwsCredentials {
            access_key_id: var("AWS_ACCESS_KEY_ID")?,
            secret_access_key: var("AWS_SECRET_ACCESS_KEY")?,
            session_token: var("AWS_SESSION_TOKEN").ok(),
        })
    }
}

/// Why a proof could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// A required environment variable is unset or empty.
    #[error("environment variable {0} is not set")]
    MissingEnv(&'static str),
    /// The region belongs to no known partition.
    #[error("`{0}` is not a region of any known partition")]
    Region(String),
    /// aws-sigv4 refused to sign.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// Where a proof is signed for: the global host, or a region's host.
pub fn sts_endpoint(region: Option<&str>) -> Result<(String, String), SignError> {
    match region {
        None => Ok((GLOBAL_HOST.to_owned(), GLOBAL_REGION.to_owned())),
        Some(region) => {
            let partition =
                Partition::of_region(region).ok_or_else(|| SignError::Region(region.to_owned()))?;
            Ok((
                format!("sts.{region}.{}", partition.dns_suffix()),
                region.to_owned(),
            ))
        }
    }
}

/// Builds a proof bound to `org`, signed at `now` for the global STS host
/// (or `region`'s regional host), in the Datadog wire format.
pub fn make_proof(
    creds: &AwsCredentials,
    org: &str,
    region: Option<&str>,
    now: SystemTime,
) -> Result<String, SignError> {
    let (host, region) = sts_endpoint(region)?;
    let url = format!("https://{host}");
    let body = GET_CALLER_IDENTITY_BODY;
    let length = body.len().to_string();
    let to_sign = [
        ("content-length", length.as_str()),
        ("content-type", FORM_CONTENT_TYPE),
        (DEFAULT_ORG_HEADER, org),
        ("host", host.as_str()),
    ];
    let identity = Credentials::new(
        creds.access_key_id.clone(),
        creds.secret_access_key.clone(),
        creds.session_token.clone(),
        None,
        "arnmap",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&region)
        .name("sts")
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| SignError::Signing(e.to_string()))?
        .into();
    let request = SignableRequest::new(
        "POST",
        url.as_str(),
        to_sign.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(|e| SignError::Signing(e.to_string()))?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| SignError::Signing(e.to_string()))?
        .into_parts();
    let added = |name: &str| {
        instructions
            .headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_owned())
    };
    let date = added("x-amz-date").ok_or_else(|| SignError::Signing("no X-Amz-Date".into()))?;
    let authorization =
        added("authorization").ok_or_else(|| SignError::Signing("no Authorization".into()))?;

    // The Python client's names, spelling and order.
    let mut headers: Vec<(&str, String)> = vec![
        ("Content-Length", length.clone()),
        ("Content-Type", FORM_CONTENT_TYPE.to_owned()),
        ("X-Amz-Date", date),
        (DEFAULT_ORG_HEADER, org.to_owned()),
    ];
    if let Some(token) = added("x-amz-security-token") {
        headers.push(("X-Amz-Security-Token", token));
    }
    headers.push(("host", host.clone()));
    headers.push(("Authorization", authorization));
    headers.push((
        "User-Agent",
        concat!("arnmap/", env!("CARGO_PKG_VERSION")).to_owned(),
    ));
    let json = headers_json(&headers);
    Ok(encode(body.as_bytes(), &json, "POST", &url))
}

/// `{"Name":["value"],…}` in the given order, compact like `json.dumps(separators=(",", ":"))`.
fn headers_json(headers: &[(&str, String)]) -> String {
    let fields: Vec<String> = headers
        .iter()
        .map(|(n, v)| {
            format!(
                "{}:[{}]",
                serde_json::Value::from(*n),
                serde_json::Value::from(v.as_str())
            )
        })
        .collect();
    format!("{{{}}}", fields.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::proof::{PrecheckConfig, precheck};

    #[test]
    fn made_proofs_pass_the_prechecks() {
        let creds = AwsCredentials {
            access_key_id: "ASIAEXAMPLEEXAMPLE12".into(),
            secret_access_key: "secret".into(),
            session_token: Some("token/with+chars=".into()),
        };
        let now = SystemTime::now();
        for region in [None, Some("eu-west-1"), Some("cn-north-1")] {
            let proof = make_proof(&creds, "org-1", region, now).unwrap();
            let checked = precheck(&proof, "org-1", now, &PrecheckConfig::default()).unwrap();
            assert_eq!(
                checked.authorization().access_key_id,
                "ASIAEXAMPLEEXAMPLE12"
            );
            assert!(
                checked
                    .authorization()
                    .signed_headers
                    .contains(&"x-ddog-org-id".to_owned())
            );
            assert!(
                checked
                    .authorization()
                    .signed_headers
                    .contains(&"x-amz-security-token".to_owned())
            );
        }
    }
}
