//! `/api/v2/cloud_auth/aws/persona_mapping`: list, create, get, delete.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Principal, authenticate};
use super::guard::{Deadline, timed_out};
use super::jsonapi::{ApiError, json as json_response};
use super::store::{Permission, StoreError, StoredMapping, fingerprint, unix_now};
use crate::policy::datadog::{self, MappingRequest, PersonaMapping};

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
    PersonaMapping {
        id: m.id.clone(),
        account_identifier: m.account_identifier.clone(),
        arn_pattern: m.arn_pattern.clone(),
        account_uuid: Some(account_uuid(&m.org, &m.account_identifier)),
    }
    .resource()
}

pub(crate) fn store_error(e: StoreError) -> ApiError {
    if let StoreError::Unavailable(why) = &e {
        tracing::warn!(error = %why, "store unavailable");
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the store cannot be reached; nothing was written; retry later",
        )
        .retry_after(1);
    }
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

/// How many times a create reads, lints and inserts when other replicas
/// keep changing the org's mappings in between.
const WRITE_ATTEMPTS: u32 = 5;

/// 409: the org's mappings kept changing under a create (other replicas
/// writing the same org): nothing was written.
fn changed() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "concurrent_write",
        "this org's persona mappings kept changing while the new one was checked; nothing was written; retry",
    )
    .retry_after(1)
}

fn parse_create(body: &[u8]) -> Result<MappingRequest, ApiError> {
    datadog::parse_create_request(body)
        .map_err(|e| ApiError::bad_request(e.code(), e.to_string(), &e.pointer()))
}

/// Waits for `org`'s write lock until the deadline (408 after: nothing written).
async fn org_writer(
    state: &AppState,
    org: &str,
    deadline: Deadline,
) -> Result<tokio::sync::OwnedMutexGuard<()>, ApiError> {
    let lock = state.org_write_lock(org);
    tokio::time::timeout(deadline.remaining(), lock.lock_owned())
        .await
        .map_err(|_| timed_out())
}

/// The deadline of a write (the router's guard sets it; a handler mounted
/// without it gets the configured timeout from now).
fn write_deadline(state: &AppState, deadline: Option<Extension<Deadline>>) -> Deadline {
    deadline.map_or_else(
        || {
            Deadline(
                std::time::Instant::now()
                    + std::time::Duration::from_secs(state.config.limits.request_timeout_secs),
            )
        },
        |Extension(d)| d,
    )
}

/// `POST …/persona_mapping`: validate, compile the org's mappings with the
/// new rule and lint the new rule against the rules it can meet (refusing
/// what would not compile or lint), store durably — if still within the
/// deadline, checked inside the transaction — then swap.
pub async fn create(
    State(state): State<Arc<AppState>>,
    deadline: Option<Extension<Deadline>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let deadline = write_deadline(&state, deadline);
    let who = principal(&state, headers, Permission::Write).await?;
    let new = parse_create(&body)?;
    let _writer = org_writer(&state, &who.org, deadline).await?;
    let worker = Arc::clone(&state);
    let created = blocking(move || {
        let state = worker;
        let org = who.org;
        if state.policies.is_quarantined(&org) {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "org_unavailable",
                "this org's stored persona mappings no longer work with the policy files (see /readyz); delete the conflicting mappings first",
            ));
        }
        // Read → lint → insert, the insert checking (under the org's lock,
        // which every replica takes) that the org's mappings are still the
        // ones linted against; if another replica wrote in between, again.
        let mut attempt = 0;
        loop {
        attempt += 1;
        let mut mappings = state.store.mappings(&org).map_err(store_error)?;
        let read = fingerprint(&mappings);
        if let Some(existing) = mappings.iter().find(|m| m.arn_pattern == new.arn_pattern) {
            return Err(duplicate(&existing.id));
        }
        let mapping = StoredMapping {
            id: uuid::Uuid::new_v4().to_string(),
            org: org.clone(),
            account_identifier: new.account_identifier.clone(),
            arn_pattern: new.arn_pattern.clone(),
            created: unix_now(),
        };
        mappings.push(mapping.clone());
        let policy = match state.policies.compile_with_new(&org, &mappings, &mapping.id) {
            Ok(policy) => policy,
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
                    super::jsonapi::relative_to_policies(&state.config.policies, &detail),
                    "/data/attributes/arn_pattern",
                ));
            }
        };
        match state.store.insert_mapping_checked(&mapping, &read, || deadline.open()) {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(org = %org, arn_pattern = %mapping.arn_pattern, "persona mapping not created: past the request deadline");
                return Err(timed_out());
            }
            Err(StoreError::Changed) if attempt < WRITE_ATTEMPTS && deadline.open() => {
                tracing::info!(org = %org, attempt, "the org's mappings changed under a create; linting again");
                continue;
            }
            Err(StoreError::Changed) => {
                tracing::warn!(org = %org, arn_pattern = %mapping.arn_pattern, attempt, "persona mapping not created: the org's mappings kept changing");
                return Err(changed());
            }
            Err(StoreError::Duplicate(id)) => {
                return Err(duplicate(&id));
            }
            Err(e) => return Err(store_error(e)),
        }
        state.policies.install(&org, policy);
        state.in_force.set(&org, &mappings);
        tracing::info!(target: "arnmap::audit", org = %org, mapping = %mapping.id, arn_pattern = %mapping.arn_pattern, account = %mapping.account_identifier, "persona mapping created");
        break Ok(mapping);
        }
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
    deadline: Option<Extension<Deadline>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let deadline = write_deadline(&state, deadline);
    let who = principal(&state, headers, Permission::Write).await?;
    let _writer = org_writer(&state, &who.org, deadline).await?;
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
        // Compile what remains before forgetting anything: fail closed. In a
        // quarantined org, what remains is checked in full, and the org
        // stays quarantined until it passes (deleting is how it recovers).
        let quarantined = state.policies.is_quarantined(&org);
        let next = if mappings.is_empty() {
            None
        } else {
            let checked = state.policies.compile_stored(&org, &mappings).and_then(|own| {
                if quarantined {
                    state.policies.lint_stored(&org, &mappings, &own)?;
                }
                Ok(own)
            });
            match checked {
                Ok(policy) => Some(Ok(policy)),
                Err((_, d)) if quarantined => Some(Err(super::first_error(&d))),
                Err((_, d)) => {
                    tracing::error!(org = %org, diagnostics = ?d.0.len(), "remaining mappings do not compile");
                    return Err(ApiError::internal());
                }
            }
        };
        match state.store.delete_mapping_if(&org, &id, || deadline.open()) {
            Ok(Some(true)) => {}
            Ok(Some(false)) => {
                return Err(ApiError::not_found(format!("no persona mapping {id:?} in this org")));
            }
            Ok(None) => {
                tracing::warn!(org = %org, mapping = %id, "persona mapping not deleted: past the request deadline");
                return Err(timed_out());
            }
            Err(e) => return Err(store_error(e)),
        }
        match next {
            Some(Ok(policy)) => state.policies.install(&org, policy),
            Some(Err(reason)) => state.policies.quarantine(&org, reason),
            None => state.policies.remove(&org),
        }
        state.in_force.set(&org, &mappings);
        tracing::info!(target: "arnmap::audit", org = %org, mapping = %id, "persona mapping deleted");
        Ok(())
    })
    .await?;
    Ok(axum::response::IntoResponse::into_response(
        StatusCode::NO_CONTENT,
    ))
}
