//! The progress line of `verify`, `export` and `rebuild-views`: on stderr, only when it is a
//! terminal, at most 80 columns, e.g.
//! `[========>       ] 51000/100000 entries  25134/s  3.2 MB/s`.
//!
//! Throughput is what this run processed (entries and their bytes) over the time it has taken,
//! counted from where it started (a resumed `verify` does not count the entries it skipped). It
//! is shown from the first second on, and there is no estimate of the time left: the rate of the
//! first pages says little about the rest.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

/// The line: at most 80 columns for any log under 10^11 entries (tested below).
const TEMPLATE: &str = "[{bar:16}] {pos}/{len} entries  {rate}";

/// Entries and bytes per second, e.g. `25134/s  3.2 MB/s`.
fn rates(entries: f64, bytes: f64) -> String {
    format!("{entries:.0}/s  {}", bytes_per_second(bytes))
}

/// A progress line over entries.
pub(super) struct Progress {
    bar: ProgressBar,
    bytes: Arc<AtomicU64>,
}

impl Progress {
    /// A line for `total` entries (it grows if more come), starting at `done`; hidden when
    /// `quiet` or when stderr is not a terminal.
    pub(super) fn new(total: u64, done: u64, quiet: bool) -> Progress {
        let bytes = Arc::new(AtomicU64::new(0));
        if quiet || !std::io::stderr().is_terminal() {
            return Progress {
                bar: ProgressBar::hidden(),
                bytes,
            };
        }
        let bar = ProgressBar::new(total.max(done));
        let counted = bytes.clone();
        let rate = move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let seconds = state.elapsed().as_secs_f64();
            if seconds < 1.0 {
                return;
            }
            let entries = state.pos().saturating_sub(done) as f64 / seconds;
            let bytes = counted.load(Ordering::Relaxed) as f64 / seconds;
            let _ = w.write_str(&rates(entries, bytes));
        };
        bar.set_style(
            ProgressStyle::with_template(TEMPLATE)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key("rate", rate)
                .progress_chars("=> "),
        );
        bar.set_position(done);
        bar.reset_elapsed();
        Progress { bar, bytes }
    }

    /// `entries` more were processed, `bytes` long in all.
    pub(super) fn add(&self, entries: u64, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.bar.inc(entries);
    }

    /// Entries processed so far, resumed ones included.
    pub(super) fn position(&self) -> u64 {
        self.bar.position()
    }

    /// The log has `total` entries after all.
    pub(super) fn grow_to(&self, total: u64) {
        if self.bar.length().is_some_and(|len| len < total) {
            self.bar.set_length(total);
        }
    }

    /// Removes the line.
    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// `bytes` per second in decimal units with one decimal, e.g. `3.2 MB/s`.
fn bytes_per_second(bytes: f64) -> String {
    const UNITS: [&str; 4] = ["kB/s", "MB/s", "GB/s", "TB/s"];
    if bytes < 1_000.0 {
        return format!("{bytes:.0} B/s");
    }
    let mut value = bytes / 1_000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1_000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_is_shown_with_one_decimal_in_decimal_units() {
        assert_eq!(bytes_per_second(978.0), "978 B/s");
        assert_eq!(bytes_per_second(3_212_345.0), "3.2 MB/s");
        assert_eq!(bytes_per_second(999_960.0), "1.0 MB/s");
        assert_eq!(bytes_per_second(45_600.0), "45.6 kB/s");
        assert_eq!(bytes_per_second(2.5e9), "2.5 GB/s");
    }

    #[test]
    fn the_longest_line_fits_in_80_columns() {
        let line = TEMPLATE
            .replace("{bar:16}", &"=".repeat(16))
            .replace("{pos}", "99999999999")
            .replace("{len}", "99999999999")
            .replace("{rate}", &rates(9_999_999.0, 999.9e9));
        assert!(line.len() <= 80, "{} columns: {line}", line.len());
    }
}
