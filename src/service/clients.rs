//! Who a request comes from, and each client's budget of failed exchanges.
//!
//! An exchange that fails before or at STS (no proof, a pre-check, an org
//! without rules, STS refusing the proof, a replay) or that STS confirmed but
//! the policy refused (not mapped, denied) is charged to the *client*, never
//! to the org the proof names: anyone can name any org. A unit of the client's
//! budget is reserved before any work is done and given back when the
//! exchange succeeds or fails for a reason that is not the client's (STS
//! unavailable, the org's rate, our own errors), so a flooding client is cut
//! off before it costs an STS call, however many requests it has in flight.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::http::HeaderMap;

/// The client a request is charged to: an IPv4 address, or the /64 of an
/// IPv6 address (one host usually holds a whole /64).
pub(crate) type ClientKey = IpAddr;

/// The client of a request: the last address in the configured trusted
/// header (the one the proxy in front appended) when there is one that
/// parses, else the socket's peer address.
pub(crate) fn client_of(header: Option<&str>, headers: &HeaderMap, peer: IpAddr) -> ClientKey {
    let from_header = header.and_then(|name| {
        let value = headers.get_all(name).iter().next_back()?.to_str().ok()?;
        let last = value.rsplit(',').next()?.trim();
        last.parse::<IpAddr>()
            .ok()
            .or_else(|| last.parse::<SocketAddr>().ok().map(|s| s.ip()))
    });
    key(from_header.unwrap_or(peer))
}

/// The budget key of an address: IPv4 (also when IPv4-mapped) as is, IPv6 by /64.
pub(crate) fn key(ip: IpAddr) -> ClientKey {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
    }
}

/// A token bucket per client: `burst` failures at once, refilled at `rate`
/// per second. Full buckets are forgotten, so the table holds only clients
/// that failed within the last `burst / rate` seconds.
pub(crate) struct FailureBudget {
    rate: f64,
    burst: f64,
    table: Mutex<Table>,
}

struct Table {
    buckets: HashMap<ClientKey, Bucket>,
    prune_at: usize,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

const MIN_PRUNE: usize = 1024;

impl FailureBudget {
    pub(crate) fn new(per_second: u32, burst: u32) -> FailureBudget {
        FailureBudget {
            rate: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            table: Mutex::new(Table {
                buckets: HashMap::new(),
                prune_at: MIN_PRUNE,
            }),
        }
    }

    fn refill(&self, bucket: &mut Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.at = now;
    }

    /// Reserves one failure for `client`; `Err(seconds)` until one is free.
    pub(crate) fn reserve(&self, client: ClientKey, now: Instant) -> Result<(), u64> {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if table.buckets.len() >= table.prune_at {
            let (rate, burst) = (self.rate, self.burst);
            table.buckets.retain(|_, b| {
                let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
                b.tokens + elapsed * rate < burst
            });
            table.prune_at = (table.buckets.len() * 2).max(MIN_PRUNE);
        }
        let bucket = table.buckets.entry(client).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        self.refill(bucket, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.rate;
            Err(wait.ceil().max(1.0) as u64)
        }
    }

    /// Gives back a reservation: the exchange did not fail by the client's doing.
    pub(crate) fn refund(&self, client: ClientKey, now: Instant) {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bucket) = table.buckets.get_mut(&client) {
            self.refill(bucket, now);
            bucket.tokens = (bucket.tokens + 1.0).min(self.burst);
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .buckets
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    #[test]
    fn a_client_is_cut_off_after_its_burst_and_refilled_at_its_rate() {
        let budget = FailureBudget::new(2, 3);
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        let t = Instant::now();
        for _ in 0..3 {
            assert_eq!(budget.reserve(a, t), Ok(()));
        }
        assert_eq!(budget.reserve(a, t), Err(1));
        assert_eq!(budget.reserve(b, t), Ok(()), "another client is unaffected");
        // A refund (a success) gives the unit back.
        budget.refund(a, t);
        assert_eq!(budget.reserve(a, t), Ok(()));
        assert!(budget.reserve(a, t).is_err());
        assert_eq!(budget.reserve(a, t + Duration::from_millis(500)), Ok(()));
    }

    #[test]
    fn full_buckets_are_forgotten() {
        let budget = FailureBudget::new(1, 1);
        let t = Instant::now();
        // At MIN_PRUNE entries none is full yet (all just failed): nothing
        // goes, and the next pruning waits for twice as many.
        for i in 0..(2 * MIN_PRUNE as u32) {
            let ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
            let _ = budget.reserve(ip, t);
        }
        assert_eq!(budget.tracked(), 2 * MIN_PRUNE);
        // Seconds later all are full again and are forgotten.
        let later = t + Duration::from_secs(5);
        let _ = budget.reserve(IpAddr::V4(Ipv4Addr::LOCALHOST), later);
        assert_eq!(budget.tracked(), 1);
    }

    #[test]
    fn the_client_is_the_trusted_header_else_the_peer() {
        let peer: IpAddr = "192.0.2.7".parse().unwrap();
        let mut headers = HeaderMap::new();
        assert_eq!(client_of(Some("x-forwarded-for"), &headers, peer), peer);
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.4".parse().unwrap(),
        );
        assert_eq!(
            client_of(Some("x-forwarded-for"), &headers, peer),
            "198.51.100.4".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_of(None, &headers, peer),
            peer,
            "no header configured"
        );
        headers.insert("x-forwarded-for", "junk".parse().unwrap());
        assert_eq!(client_of(Some("x-forwarded-for"), &headers, peer), peer);
        let v6: IpAddr = "2001:db8:1:2:3:4:5:6".parse().unwrap();
        assert_eq!(
            client_of(None, &headers, v6),
            "2001:db8:1:2::".parse::<IpAddr>().unwrap()
        );
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(key(mapped), peer);
    }
}
