//! The default [`Transport`]: ureq (sync, small, rustls with the Mozilla
//! roots compiled in) with redirects off, no proxy, timeouts at every stage
//! and a response size cap. Chosen over reqwest's blocking client, which
//! would bring a tokio runtime into a sync call path.

use std::collections::BTreeMap;
use std::time::Duration;

use ureq::Agent;

use super::{StsConfig, StsRequest, StsResponse, Transport, TransportError};
use crate::auth::proof::parse_sts_host;

/// The default HTTPS transport.
#[derive(Debug)]
pub struct HttpTransport {
    agent: Agent,
    overrides: BTreeMap<String, String>,
    max_response_bytes: u64,
}

/// An override that is not an allowlisted STS host mapped to a plain base URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OverrideError {
    /// The key is not an allowlisted STS host.
    #[error("override key `{0}` is not an allowlisted STS host")]
    Host(String),
    /// The value is not `https://HOST[:PORT]` (or `http://` on loopback).
    #[error(
        "override `{host}={url}`: expected https://HOST[:PORT], or http://127.0.0.1:PORT (loopback only), with no path"
    )]
    Url {
        /// The STS host.
        host: String,
        /// The offending URL.
        url: String,
    },
}

/// Checks one override: an allowlisted key, a base URL value.
pub fn check_override(host: &str, url: &str) -> Result<(), OverrideError> {
    if parse_sts_host(host).is_none() {
        return Err(OverrideError::Host(host.to_owned()));
    }
    let bad = || OverrideError::Url {
        host: host.to_owned(),
        url: url.to_owned(),
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
        return Err(bad());
    }
    match scheme {
        "https" => Ok(()),
        "http" => {
            let name = match authority.rsplit_once(':') {
                Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
                _ => authority,
            };
            let loopback = name == "localhost"
                || name == "[::1]"
                || name
                    .parse::<std::net::Ipv4Addr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback { Ok(()) } else { Err(bad()) }
        }
        _ => Err(bad()),
    }
}

impl HttpTransport {
    /// Builds the transport, checking every override.
    pub fn new(cfg: &StsConfig) -> Result<Self, OverrideError> {
        for (host, url) in &cfg.overrides {
            check_override(host, url)?;
        }
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_connect(Some(Duration::from_millis(cfg.connect_timeout_ms)))
            .timeout_send_request(Some(Duration::from_millis(cfg.response_timeout_ms)))
            .timeout_recv_response(Some(Duration::from_millis(cfg.response_timeout_ms)))
            .timeout_recv_body(Some(Duration::from_millis(cfg.body_timeout_ms)))
            .max_idle_connections(0)
            .build();
        Ok(HttpTransport {
            agent: config.into(),
            overrides: cfg
                .overrides
                .iter()
                .map(|(h, u)| (h.clone(), u.trim_end_matches('/').to_owned()))
                .collect(),
            max_response_bytes: cfg.max_response_bytes,
        })
    }

    /// Where a request for `host` is sent.
    pub fn url_for(&self, host: &str) -> String {
        match self.overrides.get(host) {
            Some(base) => format!("{base}/"),
            None => format!("https://{host}/"),
        }
    }
}

impl Transport for HttpTransport {
    fn send(&self, request: &StsRequest<'_>) -> Result<StsResponse, TransportError> {
        // Defence in depth: only allowlisted hosts, whatever the caller checked.
        if parse_sts_host(request.host).is_none() {
            return Err(TransportError::Io(format!(
                "refusing to send to non-STS host `{}`",
                request.host
            )));
        }
        let mut builder = self.agent.post(self.url_for(request.host));
        for (name, value) in request.headers {
            if !name.eq_ignore_ascii_case("content-length") {
                builder = builder.header(name.as_str(), value.as_str());
            }
        }
        let mut response = builder.send(request.body).map_err(map_error)?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_response_bytes)
            .read_to_vec()
            .map_err(map_error)?;
        Ok(StsResponse { status, body })
    }
}

fn map_error(e: ureq::Error) -> TransportError {
    match e {
        ureq::Error::Timeout(t) => TransportError::Timeout(t.to_string()),
        ureq::Error::BodyExceedsLimit(n) => TransportError::TooLarge(n),
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
            TransportError::Connect(e.to_string())
        }
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                TransportError::Timeout(io.to_string())
            }
            std::io::ErrorKind::ConnectionRefused => TransportError::Connect(io.to_string()),
            _ => TransportError::Io(io.to_string()),
        },
        other => TransportError::Io(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_are_checked() {
        assert!(check_override("sts.amazonaws.com", "http://127.0.0.1:5000").is_ok());
        assert!(check_override("sts.amazonaws.com", "https://vpce.example.com").is_ok());
        assert!(check_override("sts.eu-west-1.amazonaws.com", "http://localhost:1/").is_ok());
        assert!(check_override("evil.com", "http://127.0.0.1:5000").is_err());
        assert!(check_override("sts.amazonaws.com", "http://10.0.0.1:80").is_err());
        assert!(check_override("sts.amazonaws.com", "http://127.0.0.1:5000/x").is_err());
        assert!(check_override("sts.amazonaws.com", "ftp://127.0.0.1").is_err());
        assert!(check_override("sts.amazonaws.com", "http://u@127.0.0.1").is_err());
    }
}
