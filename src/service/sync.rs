//! Keeping a replica's compiled policy in step with a shared store
//! (PostgreSQL): a mapping written through another replica is in effect here
//! within about a second.
//!
//! Every mapping write on PostgreSQL notifies `arnmap_mappings` with its org,
//! inside its transaction (delivered on commit only). Each replica runs one
//! thread ([`spawn`]) with a dedicated connection that `LISTEN`s: per
//! notified org it re-reads that org's mappings and recompiles and installs
//! that org alone ([`refresh_org`]: the compile a local write runs, and
//! quarantine on failure as at startup). The backstop for notifications
//! missed (the listener was reconnecting, the database restarted) is a full
//! resynchronisation ([`resync`]) every [`RESYNC`] and at every (re)connect:
//! it compares each org's [`fingerprint`] in the store with the one in force
//! here and refreshes the orgs that differ.
//!
//! SQLite has no other writer: nothing runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::AppState;
use super::policies::OrgPolicies;
use super::store::{StoreError, StoredMapping, fingerprint};

/// How often the whole store is compared with the policy in force.
pub(crate) const RESYNC: Duration = Duration::from_secs(5);

/// The [`fingerprint`] of the mappings in force, per org (orgs with none
/// are absent).
#[derive(Debug, Default)]
pub(crate) struct InForce(Mutex<HashMap<String, String>>);

impl InForce {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the mappings now in force for `org`.
    pub(crate) fn set(&self, org: &str, mappings: &[StoredMapping]) {
        let mut table = self.lock();
        if mappings.is_empty() {
            table.remove(org);
        } else {
            table.insert(org.to_owned(), fingerprint(mappings));
        }
    }

    fn get(&self, org: &str) -> Option<String> {
        self.lock().get(org).cloned()
    }

    fn orgs(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }
}

/// Compiles `mappings` as `org`'s own rules and installs them (none: the
/// files alone), or quarantines the org when they no longer compile or pass
/// the files' tests (and, with `lint`, lint with the files); records them as
/// in force either way.
pub(crate) fn apply(
    policies: &OrgPolicies,
    in_force: &InForce,
    org: &str,
    mappings: &[StoredMapping],
    lint: bool,
) {
    if mappings.is_empty() {
        policies.remove(org);
    } else {
        let checked = policies.compile_stored(org, mappings).and_then(|own| {
            if lint {
                policies.lint_stored(org, mappings, &own)?;
            }
            Ok(own)
        });
        match checked {
            Ok(policy) => policies.install(org, policy),
            Err((sources, diags)) => {
                let rendered = diags.render(&sources, false);
                tracing::error!(org = %org, diagnostics = %rendered, "the stored persona mappings of this org no longer compile or pass the tests with the policy files; the org is quarantined (its exchanges get 503 org_unavailable)");
                policies.quarantine(org, super::first_error(&diags));
            }
        }
    }
    in_force.set(org, mappings);
}

/// Re-reads `org`'s mappings and, if they are not the ones in force,
/// recompiles and installs that org alone, under its write lock (so a local
/// write and a refresh never interleave). True when it changed anything.
/// Blocking: call from a thread, not from async code.
pub(crate) fn refresh_org(state: &AppState, org: &str) -> Result<bool, StoreError> {
    let lock = state.org_write_lock(org);
    let _writer = lock.blocking_lock();
    let mappings = state.store.mappings(org)?;
    let stored = (!mappings.is_empty()).then(|| fingerprint(&mappings));
    if stored == state.in_force.get(org) {
        return Ok(false);
    }
    // A quarantined org leaves quarantine only once its mappings lint with
    // the files again (as a delete through this replica would check).
    let lint = state.policies.is_quarantined(org);
    apply(&state.policies, &state.in_force, org, &mappings, lint);
    tracing::info!(org = %org, mappings = mappings.len(), "persona mappings changed in the store: this org recompiled");
    Ok(true)
}

/// Compares every org's fingerprint in the store with the one in force and
/// refreshes those that differ (including orgs whose last mapping went).
/// Returns how many orgs changed.
pub(crate) fn resync(state: &AppState) -> Result<usize, StoreError> {
    let stored: HashMap<String, String> = state.store.mapping_fingerprints()?.into_iter().collect();
    let mut orgs: Vec<String> = stored
        .iter()
        .filter(|(org, fp)| state.in_force.get(org).as_ref() != Some(*fp))
        .map(|(org, _)| org.clone())
        .collect();
    orgs.extend(
        state
            .in_force
            .orgs()
            .into_iter()
            .filter(|org| !stored.contains_key(org)),
    );
    let mut changed = 0;
    for org in orgs {
        if refresh_org(state, &org)? {
            changed += 1;
        }
    }
    Ok(changed)
}

/// Reads the public keys every replica published and verifies with them
/// (and lists them in the JWKS) beside this replica's own.
pub(crate) fn refresh_signing_keys(state: &AppState) -> Result<usize, StoreError> {
    let published = state.store.signing_keys()?;
    Ok(state.exchange.issuer().set_peer_keys(&published))
}

/// [`refresh_signing_keys`] for a token whose kid is unknown here (a replica
/// that started since the last read), at most once per [`KEYS_ON_DEMAND`]
/// (the periodic reads do not count): tokens with made-up kids cannot make
/// this replica hammer the store. True when it read.
pub(crate) fn refresh_signing_keys_on_demand(state: &AppState) -> bool {
    if !state.store.is_shared() {
        return false;
    }
    {
        let mut last = state.keys_read.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < KEYS_ON_DEMAND) {
            return false;
        }
        *last = Some(Instant::now());
    }
    match refresh_signing_keys(state) {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the replicas' public keys");
            false
        }
    }
}

/// The least time between two reads of the public keys for unknown kids.
pub(crate) const KEYS_ON_DEMAND: Duration = Duration::from_secs(1);

fn refresh_logged(state: &AppState, org: &str) {
    if let Err(e) = refresh_org(state, org) {
        tracing::warn!(org = %org, error = %e, "could not re-read this org's persona mappings; the next resync retries");
    }
}

fn store_up(state: &AppState, up: bool) {
    state
        .store_up
        .store(up, std::sync::atomic::Ordering::Release);
}

fn resync_logged(state: &AppState) {
    if let Err(e) = refresh_signing_keys(state) {
        tracing::warn!(error = %e, "could not read the replicas' public keys");
    }
    match resync(state) {
        Ok(0) => store_up(state, true),
        Ok(n) => {
            store_up(state, true);
            tracing::info!(orgs = n, "resynchronised with the store");
        }
        Err(e) => {
            store_up(state, false);
            tracing::warn!(error = %e, "could not resynchronise with the store; exchanges use the policy in force")
        }
    }
}

/// Starts the thread that keeps this replica in step with a shared store
/// (nothing for SQLite). It ends once the state is dropped.
pub(crate) fn spawn(state: &Arc<AppState>) {
    if !state.store.is_shared() {
        return;
    }
    let weak = Arc::downgrade(state);
    let started = std::thread::Builder::new()
        .name("arnmap-sync".into())
        .spawn(move || run(&weak));
    if let Err(e) = started {
        tracing::error!(error = %e, "could not start the store listener; mappings written through other replicas apply here only after a restart");
    }
}

fn run(weak: &Weak<AppState>) {
    let mut backoff = Duration::from_millis(250);
    loop {
        let Some(state) = weak.upgrade() else { return };
        let mut feed = match state.store.change_feed() {
            None => return,
            Some(Ok(feed)) => feed,
            Some(Err(e)) => {
                store_up(&state, false);
                tracing::warn!(error = %e, retry_ms = backoff.as_millis() as u64, "cannot listen for mapping changes; retrying");
                drop(state);
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(RESYNC);
                continue;
            }
        };
        backoff = Duration::from_millis(250);
        tracing::info!("listening for persona-mapping changes (LISTEN arnmap_mappings)");
        // Whatever changed while nobody listened.
        resync_logged(&state);
        drop(state);
        let mut next = Instant::now() + RESYNC;
        loop {
            let heard = feed.wait(next.saturating_duration_since(Instant::now()));
            let Some(state) = weak.upgrade() else { return };
            match heard {
                Ok(orgs) => {
                    for org in orgs {
                        refresh_logged(&state, &org);
                    }
                }
                Err(e) => {
                    store_up(&state, false);
                    tracing::warn!(error = %e, "lost the mapping-change listener; reconnecting");
                    break;
                }
            }
            if Instant::now() >= next {
                if let Err(e) = feed.ping() {
                    store_up(&state, false);
                    tracing::warn!(error = %e, "lost the mapping-change listener; reconnecting");
                    break;
                }
                resync_logged(&state);
                next = Instant::now() + RESYNC;
            }
        }
    }
}
