//! The replay cache every replica shares, when the store is PostgreSQL and
//! `verifier.replay.enabled`: each accepted proof's signature is reserved in
//! the store's `replay` table after the verifier's own cache, so a proof
//! accepted by one replica is refused by every other. While the database
//! cannot be reached, the verifier keeps to its own cache (a proof this
//! replica has seen is still refused) and cross-replica replay protection is
//! suspended; the first failure and the recovery are logged.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use super::store::{ReplayReservation, Store};
use crate::auth::verifier::{Shared, SharedReplay};

/// [`SharedReplay`] over the shared store.
pub(crate) struct StoreReplay {
    store: Arc<Store>,
    /// Whether the last reservation failed (for logging transitions only).
    down: AtomicBool,
}

impl StoreReplay {
    pub(crate) fn new(store: Arc<Store>) -> Self {
        StoreReplay {
            store,
            down: AtomicBool::new(false),
        }
    }
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl SharedReplay for StoreReplay {
    fn reserve(
        &self,
        signature: &str,
        org: &str,
        expires: SystemTime,
        now: SystemTime,
        per_org: usize,
    ) -> Result<Shared, String> {
        let per_org = i64::try_from(per_org).unwrap_or(i64::MAX);
        match self
            .store
            .reserve_replay(signature, org, millis(expires), millis(now), per_org)
        {
            Ok(answer) => {
                if self.down.swap(false, Ordering::AcqRel) {
                    tracing::info!(
                        "shared replay cache reachable again: cross-replica replay protection resumed"
                    );
                }
                Ok(match answer {
                    ReplayReservation::Reserved => Shared::Reserved,
                    ReplayReservation::Replayed => Shared::Replayed,
                    ReplayReservation::Full => Shared::Full,
                })
            }
            Err(e) => {
                if !self.down.swap(true, Ordering::AcqRel) {
                    tracing::warn!(error = %e, "shared replay cache unreachable: one-time use is enforced by this replica alone (cross-replica replay protection suspended)");
                }
                Err(e.to_string())
            }
        }
    }

    fn release(&self, signature: &str) {
        if let Err(e) = self.store.release_replay(signature) {
            tracing::debug!(error = %e, "shared replay entry not released");
        }
    }
}
