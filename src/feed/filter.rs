//! The filters of the latest-decisions page, shared by its feeds: the same query parameters give
//! the same decisions as a page, an Atom feed or a JSON Feed.
//!
//! HTML forms send every field, empty ones as `name=`; an empty value means "any". A value that
//! is not one the form offers is refused (400), never silently ignored.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::api::position::Position;
use crate::lineage::Status;
use crate::store::DecisionFilter;

/// The query string of the latest-decisions page and its feeds.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PageFilter {
    /// Body slug.
    pub body: String,
    /// Decision type, as spelt in JSON.
    pub decision_type: String,
    /// `in_force`, `called_in`, …, or `review_overdue`.
    pub status: String,
    /// `public`, `internal` or `restricted`.
    pub classification: String,
    /// A tag.
    pub tag: String,
    /// Earliest decision date, `YYYY-MM-DD`.
    pub decided_from: String,
    /// Latest decision date, `YYYY-MM-DD`.
    pub decided_to: String,
    /// The page cursor (the leaf index to continue before): `cursor`, as in the API; `before`,
    /// its earlier name, is still read.
    #[serde(rename = "cursor", alias = "before")]
    pub before: String,
}

/// Decision types, with the labels readers see.
pub const DECISION_TYPES: &[(&str, &str)] = &[
    ("key", "Key decision"),
    ("non_key", "Non-key decision"),
    ("officer_delegated", "Officer decision (delegated)"),
    ("general_exception", "Key decision (general exception)"),
    ("special_urgency", "Key decision (special urgency)"),
];

/// Statuses a reader can filter by, with their labels.
pub const STATUSES: &[(&str, &str)] = &[
    ("in_force", "In force"),
    ("called_in", "Called in"),
    ("referred_back", "Referred back"),
    ("referred_to_council", "Referred to council"),
    ("rescinded", "Rescinded"),
    ("superseded", "Superseded"),
    ("review_overdue", "Review overdue"),
];

/// Classifications, with their labels.
pub const CLASSIFICATIONS: &[(&str, &str)] = &[
    ("public", "Public"),
    ("internal", "Internal"),
    ("restricted", "Restricted"),
];

fn one_of(value: &str, allowed: &[(&str, &str)], what: &str) -> Result<Option<String>, String> {
    match value.trim() {
        "" => Ok(None),
        v if allowed.iter().any(|(k, _)| *k == v) => Ok(Some(v.to_owned())),
        v => Err(format!("{v:?} is not a {what}")),
    }
}

fn date(value: &str, what: &str) -> Result<Option<String>, String> {
    match value.trim() {
        "" => Ok(None),
        v => v
            .parse::<NaiveDate>()
            .map(|d| Some(d.to_string()))
            .map_err(|_| format!("{what} must be a date as YYYY-MM-DD")),
    }
}

impl PageFilter {
    /// The store filter this asks for, on `today` (for `review_overdue`).
    pub fn to_store(&self, today: NaiveDate) -> Result<DecisionFilter, String> {
        let status = one_of(&self.status, STATUSES, "status")?;
        let before = match self.before.trim() {
            "" => None,
            v => Some(
                Position::parse(v)
                    .map(Position::get)
                    .ok_or_else(|| "the page cursor is not valid".to_owned())?,
            ),
        };
        let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        Ok(DecisionFilter {
            body: text(&self.body),
            decision_type: one_of(&self.decision_type, DECISION_TYPES, "decision type")?,
            classification: one_of(&self.classification, CLASSIFICATIONS, "classification")?,
            status: status.as_deref().and_then(Status::parse),
            review_overdue_on: (status.as_deref() == Some("review_overdue"))
                .then(|| today.to_string()),
            tag: text(&self.tag),
            decided_from: date(&self.decided_from, "decided_from")?,
            decided_to: date(&self.decided_to, "decided_to")?,
            participant_role: None,
            before,
        })
    }

    /// The query string of these filters, without the cursor, starting with `?` (or empty).
    pub fn query(&self) -> String {
        let pairs: Vec<String> = [
            ("body", &self.body),
            ("decision_type", &self.decision_type),
            ("status", &self.status),
            ("classification", &self.classification),
            ("tag", &self.tag),
            ("decided_from", &self.decided_from),
            ("decided_to", &self.decided_to),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v.trim())))
        .collect();
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    }

    /// The same filters continuing before leaf `before`.
    pub fn next_page(&self, path: &str, before: u64) -> String {
        let query = self.query();
        let joiner = if query.is_empty() { '?' } else { '&' };
        format!("{path}{query}{joiner}cursor={before}")
    }

    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        self.query().is_empty()
    }
}

pub use crate::base_url::percent_encode as encode;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_mean_any_and_bad_ones_are_refused() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).expect("date");
        let filter = PageFilter::default().to_store(today).expect("valid");
        assert!(filter.body.is_none() && filter.status.is_none());
        let overdue = PageFilter {
            status: "review_overdue".into(),
            ..PageFilter::default()
        };
        let store = overdue.to_store(today).expect("valid");
        assert_eq!(store.review_overdue_on.as_deref(), Some("2026-11-29"));
        assert!(store.status.is_none());
        for bad in [
            PageFilter {
                status: "deleted".into(),
                ..PageFilter::default()
            },
            PageFilter {
                decided_from: "yesterday".into(),
                ..PageFilter::default()
            },
            PageFilter {
                before: "x".into(),
                ..PageFilter::default()
            },
            PageFilter {
                before: "9223372036854775808".into(),
                ..PageFilter::default()
            },
        ] {
            assert!(bad.to_store(today).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn queries_round_trip_without_the_cursor() {
        let filter = PageFilter {
            body: "cabinet".into(),
            tag: "waste & recycling".into(),
            before: "12".into(),
            ..PageFilter::default()
        };
        assert_eq!(filter.query(), "?body=cabinet&tag=waste%20%26%20recycling");
        assert_eq!(
            filter.next_page("/", 7),
            "/?body=cabinet&tag=waste%20%26%20recycling&cursor=7"
        );
        assert_eq!(PageFilter::default().next_page("/", 7), "/?cursor=7");
    }
}
