//! Each org's exchange budget (`limits.exchanges_per_second`,
//! `limits.exchange_burst`). With a shared store (PostgreSQL) the budget is
//! charged in the store — a token bucket row per org in `org_budget`, one
//! statement per charge — so it holds across every replica. While the
//! database cannot be reached (the listener says so, or a charge fails
//! within its one-second wait) each replica charges its own limiter instead:
//! budgets are then per replica; the first failure and the recovery are
//! logged. With SQLite the replica's own limiter is the budget.

use std::sync::atomic::{AtomicBool, Ordering};

use governor::clock::{Clock as _, DefaultClock};

use super::AppState;
use super::store::BudgetCharge;
use crate::auth::exchange::ExchangeError;

/// Whether the shared budget's last charge failed (for logging transitions).
#[derive(Debug, Default)]
pub(crate) struct SharedBudget {
    down: AtomicBool,
}

fn limited(org: &str, wait_secs: f64) -> ExchangeError {
    ExchangeError::RateLimited {
        org: org.to_owned(),
        retry_after_secs: wait_secs.ceil().max(1.0) as u64,
    }
}

impl AppState {
    /// Takes one exchange from `org`'s rate budget: the shared one when the
    /// store is shared and reachable, else this replica's.
    pub(super) fn rate_limit(&self, org: &str) -> Result<(), ExchangeError> {
        if self.store.is_shared() {
            let charged = if self.store_up.load(Ordering::Acquire) {
                let l = &self.config.limits;
                self.store
                    .charge_budget(
                        org,
                        f64::from(l.exchanges_per_second),
                        f64::from(l.exchange_burst),
                    )
                    .map_err(|e| e.to_string())
            } else {
                // The listener found the database down: no wait for it here.
                Err("the store is unavailable".to_owned())
            };
            match charged {
                Ok(charge) => {
                    if self.budget.down.swap(false, Ordering::AcqRel) {
                        tracing::info!(
                            "shared exchange budgets reachable again: per-org budgets hold across replicas"
                        );
                    }
                    return match charge {
                        BudgetCharge::Taken => Ok(()),
                        BudgetCharge::Limited { wait_secs } => Err(limited(org, wait_secs)),
                    };
                }
                Err(e) => {
                    if !self.budget.down.swap(true, Ordering::AcqRel) {
                        tracing::warn!(error = %e, "shared exchange budgets unreachable: each replica charges its own per-org limiter (budgets are per replica)");
                    }
                }
            }
        }
        self.limiter
            .check_key(&org.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                limited(org, wait.as_secs_f64())
            })
    }
}
