//! Datadog's persona-mapping API (`/api/v2/cloud_auth/aws/persona_mapping`):
//! its documents, an equivalent policy text, and the create requests for the
//! rules that API can express.
//!
//! A persona mapping says "callers matching `arn_pattern` are the account
//! `account_identifier`". [`parse_mappings`] reads what the API returns (a
//! list `{"data":[…]}` or one `{"data":{…}}`); [`policy_text`] renders the
//! mappings of an org as a policy whose rules are named after the mapping ids
//! (the service uses it to turn stored mappings into a policy source; its
//! output is stable); [`export`] turns a compiled policy back into
//! create-request bodies and names the rules the API cannot express.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::engine::policy::CompiledPolicy;
use crate::rule::Effect;
use crate::rule::target::{Target, is_account_identifier};

/// The JSON:API type of a persona mapping.
pub(crate) const MAPPING_TYPE: &str = "aws_cloud_auth_config";

/// One persona mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonaMapping {
    /// The mapping id (a UUID); the rule id in the policy.
    pub id: String,
    /// The account the callers map to (an email, a UUID or a handle).
    pub account_identifier: String,
    /// The ARN pattern (Datadog's patterns have at most a trailing `*`).
    pub arn_pattern: String,
    /// The account's UUID, when the API returned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_uuid: Option<String>,
}

/// Why a persona-mapping document was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DatadogError {
    /// Not JSON.
    #[error("not a JSON document: {0}")]
    Json(String),
    /// No top-level `data`.
    #[error(
        "the document has no top-level `data` (expected {{\"data\":[…]}} or {{\"data\":{{…}}}})"
    )]
    MissingData,
    /// `data` (or an element of it) is not an object.
    #[error("{at} is not an object")]
    NotAnObject {
        /// Where (`data`, `data[3]`).
        at: String,
    },
    /// A resource of another type.
    #[error("{at} has type {found:?}; a persona mapping has type \"{MAPPING_TYPE}\"")]
    WrongType {
        /// Where.
        at: String,
        /// The type found (`null` when absent).
        found: String,
    },
    /// A required field is absent or not a string.
    #[error("{at} has no string `{field}`")]
    MissingField {
        /// Where.
        at: String,
        /// The field (`id`, `attributes.arn_pattern`, …).
        field: &'static str,
    },
    /// A field holds a control character (a line break would end a policy string).
    #[error("{at}.{field} holds a control character")]
    ControlCharacter {
        /// Where.
        at: String,
        /// The field.
        field: &'static str,
    },
}

/// Reads a persona-mapping document: `{"data":[…]}` or `{"data":{…}}`.
pub fn parse_mappings(text: &str) -> Result<Vec<PersonaMapping>, DatadogError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| DatadogError::Json(e.to_string()))?;
    match doc.get("data") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| mapping(item, &format!("data[{i}]")))
            .collect(),
        Some(item @ Value::Object(_)) => Ok(vec![mapping(item, "data")?]),
        Some(_) => Err(DatadogError::NotAnObject { at: "data".into() }),
        None => Err(DatadogError::MissingData),
    }
}

fn mapping(item: &Value, at: &str) -> Result<PersonaMapping, DatadogError> {
    let Value::Object(obj) = item else {
        return Err(DatadogError::NotAnObject { at: at.into() });
    };
    match obj.get("type") {
        Some(Value::String(t)) if t == MAPPING_TYPE => {}
        other => {
            return Err(DatadogError::WrongType {
                at: at.into(),
                found: other.map_or("null".into(), Value::to_string),
            });
        }
    }
    let string = |value: Option<&Value>, field: &'static str| -> Result<String, DatadogError> {
        let s = value
            .and_then(Value::as_str)
            .ok_or_else(|| DatadogError::MissingField {
                at: at.into(),
                field,
            })?;
        if s.chars().any(char::is_control) {
            return Err(DatadogError::ControlCharacter {
                at: at.into(),
                field,
            });
        }
        Ok(s.to_owned())
    };
    let attributes = obj.get("attributes");
    let attr = |name: &str| attributes.and_then(|a| a.get(name));
    Ok(PersonaMapping {
        id: string(obj.get("id"), "id")?,
        account_identifier: string(attr("account_identifier"), "attributes.account_identifier")?,
        arn_pattern: string(attr("arn_pattern"), "attributes.arn_pattern")?,
        account_uuid: match attr("account_uuid") {
            None | Some(Value::Null) => None,
            v => Some(string(v, "attributes.account_uuid")?),
        },
    })
}

/// A policy string literal: `"` and `\` escaped (docs/semantics.md §3).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Is `s` a rule id the grammar accepts after `as` (letters, digits, `_`,
/// `-`; UUIDs included)?
pub(crate) fn is_rule_id(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !matches!(s, "and" | "or" | "not" | "when" | "as" | "to" | "in")
}

/// An equivalent policy for an org's mappings: one `map` rule per mapping, in
/// the order given, named after the mapping id (an id that is not a valid rule
/// id is kept as a comment and the rule keeps its default `file:line` id).
/// Stable: the service stores and diffs this text.
pub fn policy_text(org: &str, mappings: &[PersonaMapping]) -> String {
    let mut out =
        String::from("# Datadog persona mappings: one rule per mapping, named after its id.\n");
    out.push_str(&format!("org {} {{\n", quote(org)));
    for m in mappings {
        if let Some(uuid) = &m.account_uuid {
            out.push_str(&format!("    # account_uuid: {uuid}\n"));
        }
        let name = if is_rule_id(&m.id) {
            format!(" as {}", m.id)
        } else {
            out.push_str(&format!("    # id: {}\n", m.id.escape_debug()));
            String::new()
        };
        out.push_str(&format!(
            "    map {} to {}{name}\n",
            quote(&m.arn_pattern),
            quote(&m.account_identifier)
        ));
    }
    out.push_str("}\n");
    out
}

impl PersonaMapping {
    /// The mapping as a JSON:API resource object (`type`, `id`,
    /// `attributes`), as the API returns it and [`parse_mappings`] reads it.
    pub fn resource(&self) -> Value {
        let mut attributes = json!({
            "account_identifier": self.account_identifier,
            "arn_pattern": self.arn_pattern,
        });
        if let (Some(uuid), Some(map)) = (&self.account_uuid, attributes.as_object_mut()) {
            map.insert("account_uuid".into(), Value::String(uuid.clone()));
        }
        json!({ "type": MAPPING_TYPE, "id": self.id, "attributes": attributes })
    }
}

/// What a create request asks for (the body [`create_request`] renders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingRequest {
    /// The account the callers map to.
    pub account_identifier: String,
    /// The ARN pattern, as sent.
    pub arn_pattern: String,
}

/// Why a create request was refused. Each names the JSON pointer at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Not JSON.
    #[error("the body is not JSON: {0}")]
    Json(String),
    /// `data` is absent or not an object.
    #[error("`data` must be an object")]
    Data,
    /// `data.type` is not `aws_cloud_auth_config`.
    #[error("`type` must be \"{MAPPING_TYPE}\"")]
    Type,
    /// `data.attributes` is absent or not an object.
    #[error("`attributes` must be an object")]
    Attributes,
    /// An attribute other than `account_identifier` and `arn_pattern`.
    #[error("unknown attribute {0:?}; expected account_identifier and arn_pattern")]
    UnknownAttribute(String),
    /// A required attribute is absent or not a string.
    #[error("`{0}` is required and must be a string")]
    MissingAttribute(&'static str),
    /// `account_identifier` is not an email address, a UUID or a handle.
    #[error("{0:?} is not an account identifier (an email address, a UUID or a handle)")]
    AccountIdentifier(String),
}

impl RequestError {
    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::Json(_) => "invalid_json",
            RequestError::Data | RequestError::Attributes => "invalid_body",
            RequestError::Type => "invalid_type",
            RequestError::UnknownAttribute(_) => "unknown_attribute",
            RequestError::MissingAttribute(_) => "missing_attribute",
            RequestError::AccountIdentifier(_) => "invalid_account_identifier",
        }
    }

    /// The JSON pointer of the offending member (empty for the whole body).
    pub fn pointer(&self) -> String {
        match self {
            RequestError::Json(_) => String::new(),
            RequestError::Data => "/data".into(),
            RequestError::Type => "/data/type".into(),
            RequestError::Attributes => "/data/attributes".into(),
            RequestError::UnknownAttribute(name) => format!("/data/attributes/{name}"),
            RequestError::MissingAttribute(name) => format!("/data/attributes/{name}"),
            RequestError::AccountIdentifier(_) => "/data/attributes/account_identifier".into(),
        }
    }
}

/// Reads a create request's body. The pattern is returned as sent; the
/// caller compiles it (and reports its errors at `/data/attributes/arn_pattern`).
pub fn parse_create_request(body: &[u8]) -> Result<MappingRequest, RequestError> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| RequestError::Json(e.to_string()))?;
    let data = doc
        .get("data")
        .and_then(Value::as_object)
        .ok_or(RequestError::Data)?;
    if data.get("type").and_then(Value::as_str) != Some(MAPPING_TYPE) {
        return Err(RequestError::Type);
    }
    let attributes = data
        .get("attributes")
        .and_then(Value::as_object)
        .ok_or(RequestError::Attributes)?;
    if let Some(unknown) = attributes
        .keys()
        .find(|key| *key != "account_identifier" && *key != "arn_pattern")
    {
        return Err(RequestError::UnknownAttribute(unknown.clone()));
    }
    let string = |name: &'static str| {
        attributes
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(RequestError::MissingAttribute(name))
    };
    let account_identifier = string("account_identifier")?;
    let arn_pattern = string("arn_pattern")?;
    if !is_account_identifier(&account_identifier) {
        return Err(RequestError::AccountIdentifier(account_identifier));
    }
    Ok(MappingRequest {
        account_identifier,
        arn_pattern,
    })
}

/// The create-request body for one mapping.
pub fn create_request(account_identifier: &str, arn_pattern: &str) -> Value {
    json!({
        "data": {
            "type": MAPPING_TYPE,
            "attributes": {
                "account_identifier": account_identifier,
                "arn_pattern": arn_pattern,
            }
        }
    })
}

/// What [`export`] produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Export {
    /// Create-request bodies, in declaration order.
    pub requests: Vec<Value>,
    /// `(rule id, why)` for every rule the API cannot express.
    pub skipped: Vec<(String, String)>,
}

/// The create requests for an org's rules that the persona-mapping API can
/// express: `map` rules with a literal target, no condition, and a pattern
/// with no wildcard but an optional trailing `*` (the normalised pattern is
/// sent: `role/NAME` and `assumed-role/NAME/*` go as `assumed-role/NAME`).
/// Every other rule is named in [`Export::skipped`] with the reason.
pub fn export(policy: &CompiledPolicy, org: &str) -> Export {
    let mut export = Export::default();
    let Some((_, org_rules)) = policy.org(org) else {
        return export;
    };
    for &index in &org_rules.rules {
        let Some(rule) = policy.rules().get(index as usize) else {
            continue;
        };
        let id = policy.rule_id(rule).into_owned();
        let pattern = rule.pattern.as_str();
        let body = pattern.strip_suffix('*').unwrap_or(pattern);
        let why = match &rule.effect {
            Effect::Deny => Some("a deny rule (the API only maps)".to_owned()),
            Effect::Map(Target::Template(_)) => Some(format!(
                "its target `{}` is a template",
                target_text(&rule.effect)
            )),
            Effect::Map(Target::Literal(_)) if rule.condition.is_some() => {
                Some("it has a `when` condition".to_owned())
            }
            Effect::Map(Target::Literal(_)) if crate::arn::wildcard::has_wildcard(body) => Some(
                format!("its pattern `{pattern}` has a wildcard other than one trailing `*`"),
            ),
            Effect::Map(Target::Literal(_)) => None,
        };
        match (why, &rule.effect) {
            (None, Effect::Map(Target::Literal(user))) => {
                export.requests.push(create_request(user, pattern));
            }
            (why, _) => export
                .skipped
                .push((id, why.unwrap_or_else(|| "not expressible".into()))),
        }
    }
    export
}

fn target_text(effect: &Effect) -> String {
    match effect {
        Effect::Map(t) => t.to_string(),
        Effect::Deny => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = "0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10";

    #[test]
    fn reads_a_list_and_a_single_mapping() {
        let list = r#"{"data":[{"id":"c5c758c6-18c2-4484-ae3f-46b84128404a","type":"aws_cloud_auth_config",
            "attributes":{"account_identifier":"a@example.com","arn_pattern":"arn:aws:iam::123456789012:user/*","account_uuid":"x"}}]}"#;
        let m = parse_mappings(list).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].account_uuid.as_deref(), Some("x"));
        let one = r#"{"data":{"id":"i","type":"aws_cloud_auth_config",
            "attributes":{"account_identifier":"a@example.com","arn_pattern":"p"}}}"#;
        assert_eq!(parse_mappings(one).unwrap()[0].id, "i");
    }

    #[test]
    fn malformed_documents_have_specific_errors() {
        assert!(matches!(parse_mappings("{"), Err(DatadogError::Json(_))));
        assert_eq!(parse_mappings("{}"), Err(DatadogError::MissingData));
        assert!(matches!(
            parse_mappings(r#"{"data":[{"id":"i","type":"users","attributes":{}}]}"#),
            Err(DatadogError::WrongType { at, .. }) if at == "data[0]"
        ));
        assert_eq!(
            parse_mappings(
                r#"{"data":{"id":"i","type":"aws_cloud_auth_config","attributes":{"account_identifier":"a"}}}"#
            ),
            Err(DatadogError::MissingField {
                at: "data".into(),
                field: "attributes.arn_pattern"
            })
        );
        assert!(matches!(
            parse_mappings(
                r#"{"data":{"id":"i\n","type":"aws_cloud_auth_config","attributes":{"account_identifier":"a","arn_pattern":"p"}}}"#
            ),
            Err(DatadogError::ControlCharacter { .. })
        ));
        assert_eq!(
            parse_mappings(r#"{"data":[1]}"#),
            Err(DatadogError::NotAnObject {
                at: "data[0]".into()
            })
        );
    }

    #[test]
    fn policy_text_compiles_with_ids_as_rule_names() {
        let mappings = vec![
            PersonaMapping {
                id: "c5c758c6-18c2-4484-ae3f-46b84128404a".into(),
                account_identifier: "terraform-service-account@myorg.com".into(),
                arn_pattern: "arn:aws:sts::123456789012:assumed-role/terraform-runner".into(),
                account_uuid: None,
            },
            PersonaMapping {
                id: "not an id".into(),
                account_identifier: "b@example.com".into(),
                arn_pattern: "arn:aws:iam::123456789012:user/b*".into(),
                account_uuid: Some("u".into()),
            },
        ];
        let text = policy_text(ORG, &mappings);
        let policy = CompiledPolicy::compile_str("dd.policy", &text).unwrap();
        let (_, org) = policy.org(ORG).unwrap();
        let ids: Vec<String> = org
            .rules
            .iter()
            .map(|&r| policy.rule_id(&policy.rules()[r as usize]).into_owned())
            .collect();
        assert_eq!(ids, ["c5c758c6-18c2-4484-ae3f-46b84128404a", "dd.policy:6"]);
    }

    #[test]
    fn quoting_escapes_quotes_and_backslashes() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }

    #[test]
    fn export_names_what_the_api_cannot_express() {
        let policy = CompiledPolicy::compile_str(
            "p.policy",
            &format!(
                r#"org "{ORG}" {{
                map "arn:aws:iam::123456789012:role/deploy" to "d@example.com" as plain
                map "arn:aws:iam::123456789012:user/ops-*" to "o@example.com" as prefix
                map "arn:aws:iam::123456789012:user/a?c" to "a@example.com" as question
                map "arn:aws:iam::123456789012:role/ci-*" to "c@example.com" as role-prefix
                map "arn:aws:sts::123456789012:assumed-role/gh-*/*" to "g@example.com" as session-prefix
                map "arn:aws:iam::123456789012:role/*-x" to "x@example.com" as suffix
                map "arn:aws:sts::123456789012:assumed-role/human" to "{{session}}@example.com" as templated
                map "arn:aws:sts::123456789012:assumed-role/x" to "x@example.com" as conditional when session == "s1"
                deny "arn:aws:iam::*:root" as no-root
            }}"#
            ),
        )
        .unwrap();
        let export = export(&policy, ORG);
        assert_eq!(
            export.requests,
            vec![
                create_request(
                    "d@example.com",
                    "arn:aws:sts::123456789012:assumed-role/deploy"
                ),
                create_request("o@example.com", "arn:aws:iam::123456789012:user/ops-*"),
                // Role-name patterns go normalised; a trailing `*` in the role
                // name means the same callers to the API.
                create_request(
                    "c@example.com",
                    "arn:aws:sts::123456789012:assumed-role/ci-*"
                ),
                create_request(
                    "g@example.com",
                    "arn:aws:sts::123456789012:assumed-role/gh-*"
                ),
            ]
        );
        let skipped: Vec<&str> = export.skipped.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            skipped,
            ["question", "suffix", "templated", "conditional", "no-root"]
        );
    }
}
