//! The proof wire format: `base64(body)|base64(headers JSON)|METHOD|base64(url)`,
//! exactly as `datadog_api_client.aws` builds it. Decoding only; no checks of
//! meaning (those live in the pre-checks).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::error::ProofError;

/// A decoded proof, nothing checked yet beyond its encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawProof {
    /// The request body, as sent.
    pub body: Vec<u8>,
    /// Headers in the order the client listed them, names as spelled, each
    /// with all its values. Repeated names are kept (the checks reject them).
    pub headers: Vec<(String, Vec<String>)>,
    /// The HTTP method.
    pub method: String,
    /// The URL the client signed for.
    pub url: String,
}

/// Splits and decodes the four parts of a proof.
pub fn decode(raw: &str) -> Result<RawProof, ProofError> {
    let raw = raw.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n');
    let parts: Vec<&str> = raw.split('|').collect();
    let [body, headers, method, url] = parts[..] else {
        return Err(ProofError::Parts(parts.len()));
    };
    let body = STANDARD
        .decode(body)
        .map_err(|_| ProofError::Base64("body"))?;
    let headers = STANDARD
        .decode(headers)
        .map_err(|_| ProofError::Base64("headers"))?;
    let headers = String::from_utf8(headers).map_err(|_| ProofError::Utf8("headers"))?;
    let url = STANDARD
        .decode(url)
        .map_err(|_| ProofError::Base64("url"))?;
    let url = String::from_utf8(url).map_err(|_| ProofError::Utf8("url"))?;
    let headers = parse_headers(&headers)?;
    Ok(RawProof {
        body,
        headers,
        method: method.to_owned(),
        url,
    })
}

/// Parses `{"Name": ["value", …], …}` keeping order and repeated names
/// (a plain map would silently keep the last of two `Host` keys).
pub fn parse_headers(json: &str) -> Result<Vec<(String, Vec<String>)>, ProofError> {
    let mut de = serde_json::Deserializer::from_str(json);
    let headers = de
        .deserialize_map(HeadersVisitor)
        .map_err(|e| ProofError::HeadersJson(e.to_string()))?;
    de.end()
        .map_err(|e| ProofError::HeadersJson(e.to_string()))?;
    Ok(headers)
}

struct HeadersVisitor;

impl<'de> Visitor<'de> for HeadersVisitor {
    type Value = Vec<(String, Vec<String>)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object mapping header names to arrays of strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        // The count is checked afterwards (`TooManyHeaders`); the proof's
        // size limit already bounds the work here.
        while let Some(name) = map.next_key::<String>()? {
            let values = map.next_value::<Values>()?;
            out.push((name, values.0));
        }
        Ok(out)
    }
}

/// An array of strings; a bare string is refused (clients always send arrays).
struct Values(Vec<String>);

impl<'de> serde::Deserialize<'de> for Values {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Values;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Values, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<String>()? {
                    if out.len() >= 8 {
                        return Err(de::Error::custom("more than 8 values for one header"));
                    }
                    out.push(v);
                }
                Ok(Values(out))
            }
        }
        d.deserialize_seq(V)
    }
}

/// Encodes a proof from its parts (the inverse of [`decode`]).
pub fn encode(body: &[u8], headers_json: &str, method: &str, url: &str) -> String {
    format!(
        "{}|{}|{}|{}",
        STANDARD.encode(body),
        STANDARD.encode(headers_json),
        method,
        STANDARD.encode(url)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_repeats() {
        let h = parse_headers(r#"{"Host":["a"],"host":["b"],"X":[]}"#).unwrap();
        assert_eq!(h.len(), 3);
        assert_eq!(h[1], ("host".to_owned(), vec!["b".to_owned()]));
        assert!(parse_headers(r#"{"Host":"a"}"#).is_err());
        assert!(parse_headers(r#"{"Host":["a"]} x"#).is_err());
        assert!(parse_headers(r#"[]"#).is_err());
    }

    #[test]
    fn round_trips() {
        let p = encode(b"Action=x", r#"{"a":["b"]}"#, "POST", "https://h/");
        let d = decode(&p).unwrap();
        assert_eq!(d.body, b"Action=x");
        assert_eq!(d.method, "POST");
        assert_eq!(d.url, "https://h/");
        assert_eq!(decode("a|b|c").unwrap_err(), ProofError::Parts(3));
    }
}
