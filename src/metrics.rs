//! The service's metrics, written in the Prometheus text exposition format (version 0.0.4) at
//! `GET /metrics`.
//!
//! A small registry of atomics rather than a metrics crate: the service has a fixed, short list
//! of series and needs nothing a scrape cannot compute. Two rules keep it cheap and bounded:
//!
//! - **Bounded labels.** HTTP series are labelled by the matched route *pattern*
//!   (`/api/v1/decisions/{id}`, never the raw path), a method from a fixed list, and the status
//!   code; a request no route matches is [`UNMATCHED_ROUTE`]. Append series are labelled by entry
//!   kind. No label ever carries a value a client chose.
//! - **O(1) scrapes.** Counters and histograms are read from memory; the gauges about the log are
//!   one-row reads (the head, the newest checkpoint), never a scan of the log.
//!
//! Counters are this process's since it started, as Prometheus expects (`rate()` handles
//! restarts); the log gauges read the database, so every instance on one database reports the
//! same tree size.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use ledger::EntryKind;

/// The `Content-Type` of the exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `route` label of a request that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Upper bounds of the latency buckets, in seconds (`+Inf` is implied).
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram: per-bucket counts, the total count and the sum in nanoseconds.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations in each bucket alone (made cumulative when written).
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// How many observations there were.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Writes the `_bucket`, `_sum` and `_count` samples of `name` with `labels` (already
    /// formatted, without braces; empty for none).
    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.count();
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let braces = |labels: &str| {
            if labels.is_empty() {
                String::new()
            } else {
                format!("{{{labels}}}")
            }
        };
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {count}", braces(labels));
    }
}

/// The method label: the standard methods by name, anything else as `other`, so that a client
/// sending made-up methods cannot add series.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// A label value escaped as the exposition format requires (`\\`, `\"`, `\n`).
fn label_value(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The series of one route, method and status.
type HttpKey = (String, &'static str, u16);

/// HTTP requests served, by route pattern, method and status.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    series: RwLock<HashMap<HttpKey, Arc<Histogram>>>,
}

impl HttpMetrics {
    /// Records a request answered with `status` after `elapsed`; `route` is the matched pattern,
    /// or `None` when no route matched.
    pub fn observe(
        &self,
        route: Option<&str>,
        method: &actix_web::http::Method,
        status: u16,
        elapsed: Duration,
    ) {
        let key = (
            route.unwrap_or(UNMATCHED_ROUTE).to_owned(),
            method_label(method),
            status,
        );
        // Every series but the first request of each exists already: a shared read lock.
        let existing = self
            .series
            .read()
            .ok()
            .and_then(|series| series.get(&key).cloned());
        let histogram = match existing {
            Some(histogram) => histogram,
            None => match self.series.write() {
                Ok(mut series) => series.entry(key).or_default().clone(),
                // A panic while the lock was held: lose this observation, never the request.
                Err(_) => return,
            },
        };
        histogram.observe(elapsed);
    }

    fn write(&self, out: &mut String) {
        let Ok(series) = self.series.read() else {
            return;
        };
        let mut keys: Vec<&HttpKey> = series.keys().collect();
        keys.sort();
        let labels = |(route, method, status): &HttpKey| {
            format!(
                "route=\"{}\",method=\"{method}\",status=\"{status}\"",
                label_value(route)
            )
        };
        header(
            out,
            "decision_log_http_requests_total",
            "counter",
            "HTTP requests answered, by route pattern, method and status.",
        );
        for key in &keys {
            let _ = writeln!(
                out,
                "decision_log_http_requests_total{{{}}} {}",
                labels(key),
                series[*key].count()
            );
        }
        header(
            out,
            "decision_log_http_request_duration_seconds",
            "histogram",
            "Time from receiving a request's head to its response's head, in seconds.",
        );
        for key in &keys {
            series[*key].write(
                out,
                "decision_log_http_request_duration_seconds",
                &labels(key),
            );
        }
    }
}

/// Entries appended through [`crate::store::Store::append`] and
/// [`crate::store::Store::append_lineage`] (the decision and lineage writes), by kind, how long
/// each took from being asked for to its commit, and the sizes of the batches they were
/// committed in. The `access.*` entries
/// that token changes append are not counted here; the tree size counts every entry.
#[derive(Debug, Default)]
pub struct AppendMetrics {
    by_kind: [AtomicU64; EntryKind::ALL.len()],
    seconds: Histogram,
    /// Batches committed (or failed) by the sequencer, by how many appends each held.
    batch_sizes: [AtomicU64; BATCH_BUCKETS.len()],
    batches: AtomicU64,
    batched: AtomicU64,
}

/// Upper bounds of the batch-size buckets (`+Inf` is implied).
const BATCH_BUCKETS: [u64; 9] = [1, 2, 4, 8, 16, 32, 64, 128, 256];

impl AppendMetrics {
    /// Records an entry of `kind`, durable after `elapsed`.
    pub fn observe(&self, kind: EntryKind, elapsed: Duration) {
        if let Some(i) = EntryKind::ALL.iter().position(|k| *k == kind) {
            self.by_kind[i].fetch_add(1, Ordering::Relaxed);
        }
        self.seconds.observe(elapsed);
    }

    /// Records a batch of `size` appends taken by the sequencer.
    pub fn observe_batch(&self, size: usize) {
        let size = size as u64;
        if let Some(i) = BATCH_BUCKETS.iter().position(|bound| size <= *bound) {
            self.batch_sizes[i].fetch_add(1, Ordering::Relaxed);
        }
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.batched.fetch_add(size, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String) {
        header(
            out,
            "decision_log_appends_total",
            "counter",
            "Entries appended by the decision and lineage writes, by entry kind.",
        );
        for (kind, count) in EntryKind::ALL.iter().zip(&self.by_kind) {
            if kind.is_decision() {
                let _ = writeln!(
                    out,
                    "decision_log_appends_total{{kind=\"{}\"}} {}",
                    kind.as_str(),
                    count.load(Ordering::Relaxed)
                );
            }
        }
        header(
            out,
            "decision_log_append_duration_seconds",
            "histogram",
            "Time an append took, from being queued to the commit of its batch.",
        );
        self.seconds
            .write(out, "decision_log_append_duration_seconds", "");
        let name = "decision_log_append_batch_size";
        header(
            out,
            name,
            "histogram",
            "Appends per batch the sequencer committed in one transaction.",
        );
        let mut cumulative = 0;
        for (bound, bucket) in BATCH_BUCKETS.iter().zip(&self.batch_sizes) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let batches = self.batches.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {batches}");
        let _ = writeln!(out, "{name}_sum {}", self.batched.load(Ordering::Relaxed));
        let _ = writeln!(out, "{name}_count {batches}");
    }
}

/// What a scrape reads from the database and the pool: one row each, never a scan.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// The log's size, from its head; `None` when the database could not be read.
    pub tree_size: Option<u64>,
    /// The newest checkpoint's size and age in seconds, if one could be read.
    pub checkpoint: Option<(u64, f64)>,
    /// Pooled database connections in use.
    pub pool_in_use: u64,
    /// Pooled database connections idle.
    pub pool_idle: u64,
    /// The pool's largest size.
    pub pool_max: u64,
    /// Appends queued in this process and not yet taken into a batch.
    pub append_queue: u64,
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

/// The whole exposition: HTTP and append series, then the gauges.
pub fn render(http: &HttpMetrics, appends: &AppendMetrics, gauges: &Gauges) -> String {
    let mut out = String::with_capacity(8 * 1024);
    http.write(&mut out);
    appends.write(&mut out);
    gauge(
        &mut out,
        "decision_log_database_up",
        "Whether the last scrape could read the log's head (1) or not (0).",
        u8::from(gauges.tree_size.is_some()),
    );
    if let Some(size) = gauges.tree_size {
        gauge(
            &mut out,
            "decision_log_tree_size",
            "Entries in the log (its head's tree size).",
            size,
        );
    }
    if let Some((size, age)) = gauges.checkpoint {
        gauge(
            &mut out,
            "decision_log_checkpoint_tree_size",
            "The tree size the newest signed checkpoint commits to.",
            size,
        );
        gauge(
            &mut out,
            "decision_log_checkpoint_age_seconds",
            "Seconds since the newest checkpoint was signed (a new one is signed only when the tree has grown).",
            age,
        );
    }
    gauge(
        &mut out,
        "decision_log_append_queue_depth",
        "Appends queued in this process and not yet taken into a batch.",
        gauges.append_queue,
    );
    gauge(
        &mut out,
        "decision_log_db_pool_connections_in_use",
        "Pooled database connections lent to a query or transaction.",
        gauges.pool_in_use,
    );
    gauge(
        &mut out,
        "decision_log_db_pool_connections_idle",
        "Pooled database connections open and idle.",
        gauges.pool_idle,
    );
    gauge(
        &mut out,
        "decision_log_db_pool_connections_max",
        "Most database connections the pool opens (--max-connections).",
        gauges.pool_max,
    );
    out
}

#[cfg(test)]
mod tests {
    use actix_web::http::Method;

    use super::*;

    #[test]
    fn a_histogram_writes_cumulative_buckets_its_sum_and_count() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_micros(500));
        histogram.observe(Duration::from_millis(30));
        histogram.observe(Duration::from_secs(60));
        let mut out = String::new();
        histogram.write(&mut out, "x", "a=\"b\"");
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.001\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.025\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.05\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"10\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_sum{a=\"b\"} 60.0305\n"), "{out}");
        assert!(out.contains("x_count{a=\"b\"} 3\n"), "{out}");
    }

    #[test]
    fn requests_are_counted_by_pattern_and_made_up_methods_share_one_series() {
        let http = HttpMetrics::default();
        let pattern = Some("/api/v1/decisions/{id}");
        http.observe(pattern, &Method::GET, 200, Duration::ZERO);
        http.observe(pattern, &Method::GET, 200, Duration::ZERO);
        http.observe(None, &Method::GET, 404, Duration::ZERO);
        for name in ["FOO", "BAR"] {
            let method = Method::from_bytes(name.as_bytes()).expect("method");
            http.observe(pattern, &method, 405, Duration::ZERO);
        }
        let mut out = String::new();
        http.write(&mut out);
        assert!(
            out.contains(
                "decision_log_http_requests_total{route=\"/api/v1/decisions/{id}\",method=\"GET\",status=\"200\"} 2\n"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "decision_log_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1\n"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "decision_log_http_requests_total{route=\"/api/v1/decisions/{id}\",method=\"other\",status=\"405\"} 2\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn appends_are_counted_by_decision_kind() {
        let appends = AppendMetrics::default();
        appends.observe(EntryKind::DecisionAmended, Duration::from_millis(2));
        let mut out = String::new();
        appends.write(&mut out);
        assert!(
            out.contains("decision_log_appends_total{kind=\"decision.amended\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("decision_log_appends_total{kind=\"decision.recorded\"} 0\n"),
            "{out}"
        );
        assert!(!out.contains("access.granted"), "{out}");
        assert!(
            out.contains("decision_log_append_duration_seconds_count 1\n"),
            "{out}"
        );
    }
}
