//! Leaf indexes and tree sizes as a request names them.
//!
//! Both backends store positions as signed 64-bit integers (`BIGINT`), so no leaf index or tree
//! size above `i64::MAX` exists. A request that names one is malformed: 400 in a query, 404 in a
//! path, refused here before the number reaches the store. Every leaf index, tree size and page
//! cursor a request carries — API, pages and feeds alike — is read through [`Position`], so that
//! no number a reader chooses can look like a log that contradicts itself (a 503 and a tamper
//! alarm anyone could raise).

use serde::{Deserialize, Deserializer};

/// The largest leaf index or tree size a request may name: `i64::MAX`.
pub const MAX_POSITION: u64 = i64::MAX as u64;

/// A leaf index or tree size of at most [`MAX_POSITION`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position(u64);

impl Position {
    /// `n`, if it is at most [`MAX_POSITION`].
    pub fn new(n: u64) -> Option<Position> {
        (n <= MAX_POSITION).then_some(Position(n))
    }

    /// A position written in decimal digits (nothing else: no sign, no spaces).
    pub fn parse(text: &str) -> Option<Position> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok().and_then(Position::new)
    }

    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Position, D::Error> {
        let n = u64::deserialize(deserializer)?;
        Position::new(n).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{n} is past any leaf index or tree size (at most {MAX_POSITION})"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_stop_at_the_largest_bigint() {
        assert_eq!(
            Position::new(MAX_POSITION).map(Position::get),
            Some(MAX_POSITION)
        );
        assert_eq!(Position::new(MAX_POSITION + 1), None);
        assert_eq!(
            Position::parse("9223372036854775807").map(Position::get),
            Some(MAX_POSITION)
        );
        for bad in [
            "9223372036854775808",
            "18446744073709551616",
            "",
            "+1",
            " 1",
            "-1",
            "1e3",
        ] {
            assert_eq!(Position::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_position_past_the_largest_is_refused_when_deserialised() {
        let ok: Position = serde_json::from_str("42").expect("a position");
        assert_eq!(ok.get(), 42);
        let error = serde_json::from_str::<Position>("9223372036854775808")
            .expect_err("too large")
            .to_string();
        assert!(error.contains("at most 9223372036854775807"), "{error}");
    }
}
