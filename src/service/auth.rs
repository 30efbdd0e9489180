//! Who is calling a persona-mapping endpoint: an API + application key pair,
//! or a Bearer token this service issued to an account holding a grant.

use std::time::SystemTime;

use axum::http::HeaderMap;

use super::AppState;
use super::jsonapi::ApiError;
use super::store::Permission;
use crate::auth::token::VerifyTokenError;

/// An authenticated caller of the management API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The org it acts in.
    pub org: String,
    /// What it may do there.
    pub permissions: Vec<Permission>,
}

impl Principal {
    /// Refuses with 403 unless `permission` is held.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.permissions.contains(&permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "missing_permission",
                format!(
                    "this credential lacks the {} permission",
                    permission.as_str()
                ),
            ))
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(Some)
            .map_err(|_| ApiError::unauthorized("bad_credentials", format!("{name} is not ASCII"))),
    }
}

/// Authenticates a management request. Blocking (SQLite): call from
/// `spawn_blocking`.
pub fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    if let Some(auth) = header(headers, "authorization")? {
        let Some(token) = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
        else {
            return Err(ApiError::unauthorized(
                "bad_credentials",
                "Authorization must be `Bearer <token>` on this endpoint",
            ));
        };
        let verify = || {
            state
                .exchange
                .issuer()
                .verify(token.trim(), SystemTime::now())
        };
        let claims = match verify() {
            // Signed by a replica that started since the keys were last read.
            Err(VerifyTokenError::UnknownKeyId(_))
                if super::sync::refresh_signing_keys_on_demand(state) =>
            {
                verify()
            }
            other => other,
        }
        .map_err(|e| {
            ApiError::unauthorized(
                &format!("token.{}", e.code()),
                format!("bearer token refused: {e}"),
            )
        })?;
        let permissions = state
            .store
            .granted(&claims.org, &claims.sub)
            .map_err(super::mappings::store_error)?;
        return Ok(Principal {
            org: claims.org,
            permissions,
        });
    }
    let api = header(headers, "dd-api-key")?;
    let app = header(headers, "dd-application-key")?;
    let (Some(api), Some(app)) = (api, app) else {
        return Err(ApiError::unauthorized(
            "missing_credentials",
            "send DD-API-KEY and DD-APPLICATION-KEY, or Authorization: Bearer <token>",
        ));
    };
    match state.store.authenticate_keys(api, app) {
        Ok(Some(holder)) => Ok(Principal {
            org: holder.org,
            permissions: holder.permissions,
        }),
        Ok(None) => Err(ApiError::unauthorized(
            "bad_credentials",
            "the API key or application key is not valid",
        )),
        Err(e) => Err(super::mappings::store_error(e)),
    }
}
