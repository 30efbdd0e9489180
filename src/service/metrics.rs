//! Prometheus metrics: exchanges by outcome and the STS latency histogram.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The label of `arnmap_exchanges_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// `issued`, or the refusal code (`not_mapped`, `denied`, `proof.*`, `sts.*`, …).
    pub outcome: String,
}

/// The service's metrics.
pub struct Metrics {
    registry: Mutex<Registry>,
    exchanges: Family<OutcomeLabel, Counter>,
    sts_latency: Histogram,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let exchanges = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "arnmap_exchanges",
            "Token exchanges by outcome",
            exchanges.clone(),
        );
        // 1 ms … ~16 s.
        let sts_latency = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        registry.register(
            "arnmap_sts_request_duration_seconds",
            "Duration of STS GetCallerIdentity exchanges, retries included",
            sts_latency.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            exchanges,
            sts_latency,
        }
    }

    /// Counts one exchange.
    pub fn exchange(&self, outcome: &str) {
        // Outcome codes come from a closed set of error codes, so the label
        // cardinality is bounded.
        self.exchanges
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Observes one STS exchange.
    pub fn sts(&self, elapsed: Duration) {
        self.sts_latency.observe(elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }
}
