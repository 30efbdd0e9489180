//! `/api/v2/cloud_auth/aws/persona_mapping`: list, create, get, delete.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Principal, authenticate};
use super::jsonapi::{ApiError, json as json_response};
use super::store::{Permission, StoreError, StoredMapping, unix_now};
use crate::rule::target::is_account_identifier;

/// The JSON:API type of a persona mapping.
pub const MAPPING_TYPE: &str = "aws_cloud_auth_config";

/// The Datadog-style account UUID of an account identifier: the identifier
/// itself when it is a UUID, else a name-based (v5) UUID in the org's namespace.
pub fn account_uuid(org: &str, account: &str) -> String {
    if let Ok(u) = uuid::Uuid::try_parse(account) {
        return u.hyphenated().to_string();
    }
    let namespace = uuid::Uuid::try_parse(org).unwrap_or(uuid::Uuid::NAMESPACE_URL);
    uuid::Uuid::new_v5(&namespace, account.as_bytes())
        .hyphenated()
        .to_string()
}

fn resource(m: &StoredMapping) -> Value {
    json!({
        "type": MAPPING_TYPE,
        "id": m.id,
        "attributes": {
            "account_identifier": m.account_identifier,
            "arn_pattern": m.arn_pattern,
            "account_uuid": account_uuid(&m.org, &m.account_identifier),
        }
    })
}

fn store_error(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "store failure");
    ApiError::internal()
}

async fn principal(
    state: &Arc<AppState>,
    headers: HeaderMap,
    need: Permission,
) -> Result<Principal, ApiError> {
    let state = Arc::clone(state);
    let principal = tokio::task::spawn_blocking(move || authenticate(&state, &headers))
        .await
        .map_err(|_| ApiError::internal())??;
    principal.require(need)?;
    Ok(principal)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::internal())?
}

/// `GET …/persona_mapping`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let who = principal(&state, headers, Permission::Read).await?;
    let store = Arc::clone(&state.store);
    let mappings = blocking(move || store.mappings(&who.org).map_err(store_error)).await?;
    let data: Vec<Value> = mappings.iter().map(resource).collect();
    Ok(json_response(StatusCode::OK, &json!({ "data": data })))
}

/// `GET …/persona_mapping/{id}`.
pub async fn get(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let who = principal(&state, headers, Permission::Read).await?;
    let store = Arc::clone(&state.store);
    let wanted = id.clone();
    let found = blocking(move || store.mapping(&who.org, &wanted).map_err(store_error))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no persona mapping {id:?} in this org")))?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "data": resource(&found) }),
    ))
}

/// 409: the pattern is already mapped in the org.
fn duplicate(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "duplicate",
        format!("this ARN pattern is already mapped (mapping {id})"),
    )
    .pointer("/data/attributes/arn_pattern")
}

/// What a create request asks for.
struct NewMapping {
    account_identifier: String,
    arn_pattern: String,
}

fn parse_create(body: &[u8]) -> Result<NewMapping, ApiError> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("invalid_json", format!("the body is not JSON: {e}"), "")
    })?;
    let data = doc.get("data").and_then(Value::as_object).ok_or_else(|| {
        ApiError::bad_request("invalid_body", "`data` must be an object", "/data")
    })?;
    match data.get("type").and_then(Value::as_str) {
        Some(MAPPING_TYPE) => {}
        _ => {
            return Err(ApiError::bad_request(
                "invalid_type",
                format!("`type` must be {MAPPING_TYPE:?}"),
                "/data/type",
            ));
        }
    }
    let attributes = data
        .get("attributes")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_body",
                "`attributes` must be an object",
                "/data/attributes",
            )
        })?;
    for key in attributes.keys() {
        if key != "account_identifier" && key != "arn_pattern" {
            return Err(ApiError::bad_request(
                "unknown_attribute",
                format!("unknown attribute {key:?}; expected account_identifier and arn_pattern"),
                &format!("/data/attributes/{key}"),
            ));
        }
    }
    let string = |name: &str| -> Result<String, ApiError> {
        attributes
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "missing_attribute",
                    format!("`{name}` is required and must be a string"),
                    &format!("/data/attributes/{name}"),
                )
            })
    };
    let account_identifier = string("account_identifier")?;
    let arn_pattern = string("arn_pattern")?;
    if !is_account_identifier(&account_identifier) {
        return Err(ApiError::bad_request(
            "invalid_account_identifier",
            format!(
                "{account_identifier:?} is not an account identifier (an email address, a UUID or a handle)"
            ),
            "/data/attributes/account_identifier",
        ));
    }
    Ok(NewMapping {
        account_identifier,
        arn_pattern,
    })
}

/// `POST …/persona_mapping`: validate, compile the org with the new rule
/// (refusing what would not compile), store durably, then swap.
pub async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let who = principal(&state, headers, Permission::Write).await?;
    let new = parse_create(&body)?;
    let _writer = state.write_lock.lock().await;
    let worker = Arc::clone(&state);
    let created = blocking(move || {
        let state = worker;
        let org = who.org;
        let mut mappings = state.store.mappings(&org).map_err(store_error)?;
        if let Some(existing) = mappings.iter().find(|m| m.arn_pattern == new.arn_pattern) {
            return Err(duplicate(&existing.id));
        }
        let mapping = StoredMapping {
            id: uuid::Uuid::new_v4().to_string(),
            org: org.clone(),
            account_identifier: new.account_identifier,
            arn_pattern: new.arn_pattern,
            created: unix_now(),
        };
        mappings.push(mapping.clone());
        let policy = match state.policies.compile_with(&org, &mappings) {
            Ok((_, policy)) => policy,
            Err((sources, diags)) => {
                let detail = diags
                    .0
                    .iter()
                    .filter(|d| d.is_error())
                    .map(|d| {
                        let mut s = format!("{}: {}", d.code.as_str(), d.message);
                        if let Some((file, line, _)) = sources.locate(d.span)
                            && !file.starts_with("api:")
                        {
                            s.push_str(&format!(" (at {file}:{line})"));
                        }
                        if let Some(help) = &d.help {
                            s.push_str(&format!(" (help: {help})"));
                        }
                        s
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(ApiError::bad_request(
                    "invalid_arn_pattern",
                    detail,
                    "/data/attributes/arn_pattern",
                ));
            }
        };
        match state.store.insert_mapping(&mapping) {
            Ok(()) => {}
            Err(StoreError::Duplicate(id)) => {
                return Err(duplicate(&id));
            }
            Err(e) => return Err(store_error(e)),
        }
        state.policies.install(&org, policy);
        tracing::info!(target: "arnmap::audit", org = %org, mapping = %mapping.id, arn_pattern = %mapping.arn_pattern, account = %mapping.account_identifier, "persona mapping created");
        Ok(mapping)
    })
    .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({ "data": resource(&created) }),
    ))
}

/// `DELETE …/persona_mapping/{id}`.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let who = principal(&state, headers, Permission::Write).await?;
    let _writer = state.write_lock.lock().await;
    let worker = Arc::clone(&state);
    blocking(move || {
        let state = worker;
        let org = who.org;
        let mut mappings = state.store.mappings(&org).map_err(store_error)?;
        let before = mappings.len();
        mappings.retain(|m| m.id != id);
        if mappings.len() == before {
            return Err(ApiError::not_found(format!("no persona mapping {id:?} in this org")));
        }
        // Compile what remains before forgetting anything: fail closed.
        let policy = if mappings.is_empty() {
            None
        } else {
            let (_, policy) = state.policies.compile_with(&org, &mappings).map_err(|(_, d)| {
                tracing::error!(org = %org, diagnostics = ?d.0.len(), "remaining mappings do not compile");
                ApiError::internal()
            })?;
            Some(policy)
        };
        if !state.store.delete_mapping(&org, &id).map_err(store_error)? {
            return Err(ApiError::not_found(format!("no persona mapping {id:?} in this org")));
        }
        match policy {
            Some(policy) => state.policies.install(&org, policy),
            None => state.policies.remove(&org),
        }
        tracing::info!(target: "arnmap::audit", org = %org, mapping = %id, "persona mapping deleted");
        Ok(())
    })
    .await?;
    Ok(axum::response::IntoResponse::into_response(
        StatusCode::NO_CONTENT,
    ))
}
