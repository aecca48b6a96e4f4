//! The filters of the latest-decisions page, shared by its feeds: the same query parameters give
//! the same decisions as a page, an Atom feed or a JSON Feed.
//!
//! HTML forms send every field, empty ones as `name=`; an empty value means "any". A value that
//! is not one the form offers is refused (400), never silently ignored.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::api::position::Position;
use crate::lineage::Status;
use crate::store::{DecisionFilter, ListOrder};

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
    /// `recorded` (the default: newest recorded first) or `decided` (latest decision date
    /// first).
    pub order: String,
    /// The page cursor: in recording order the leaf index to continue before, in decision-date
    /// order `YYYY-MM-DD.leaf`. `cursor`, as in the API; `before`, its earlier name, is still read.
    #[serde(rename = "cursor", alias = "before")]
    pub before: String,
}

/// The orders a list is offered in, with the labels readers see.
pub const ORDERS: &[(&str, &str)] = &[
    ("recorded", "Newest recorded first"),
    ("decided", "Latest decision date first"),
];

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
        let order = self.list_order()?;
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
            order,
        })
    }

    /// The order asked for, continuing at the cursor.
    fn list_order(&self) -> Result<ListOrder, String> {
        let bad = || "the page cursor is not valid".to_owned();
        let cursor = Some(self.before.trim()).filter(|c| !c.is_empty());
        let leaf = |v: &str| Position::parse(v).map(Position::get).ok_or_else(bad);
        match one_of(&self.order, ORDERS, "list order")?.as_deref() {
            Some("decided") => Ok(ListOrder::Decided {
                before: cursor
                    .map(|c| {
                        let (day, at) = c.split_once('.').ok_or_else(bad)?;
                        let day = day.parse::<NaiveDate>().map_err(|_| bad())?;
                        Ok::<_, String>((day, leaf(at)?))
                    })
                    .transpose()?,
            }),
            _ => Ok(ListOrder::Recorded {
                before: cursor.map(leaf).transpose()?,
            }),
        }
    }

    /// The page cursor that continues at `order`'s position.
    pub fn cursor(order: &ListOrder) -> Option<String> {
        match order {
            ListOrder::Recorded { before } => before.map(|leaf| leaf.to_string()),
            ListOrder::Decided { before } => before.map(|(day, leaf)| format!("{day}.{leaf}")),
        }
    }

    /// Whether the list is in decision-date order.
    pub fn by_decision_date(&self) -> bool {
        self.order.trim() == "decided"
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
            ("order", &self.order),
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

    /// The same filters, in the same order, continuing at page cursor `cursor`.
    pub fn next_page(&self, path: &str, cursor: &str) -> String {
        let query = self.query();
        let joiner = if query.is_empty() { '?' } else { '&' };
        format!("{path}{query}{joiner}cursor={}", encode(cursor))
    }

    /// Whether no filter is set (the order is not a filter).
    pub fn is_empty(&self) -> bool {
        PageFilter {
            order: String::new(),
            before: String::new(),
            ..self.clone()
        }
        .query()
        .is_empty()
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
            PageFilter {
                order: "alphabetical".into(),
                ..PageFilter::default()
            },
            PageFilter {
                order: "decided".into(),
                before: "12".into(),
                ..PageFilter::default()
            },
            PageFilter {
                order: "decided".into(),
                before: "2026-02-30.12".into(),
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
            filter.next_page("/", "7"),
            "/?body=cabinet&tag=waste%20%26%20recycling&cursor=7"
        );
        assert_eq!(PageFilter::default().next_page("/", "7"), "/?cursor=7");
    }

    #[test]
    fn both_orders_round_trip_their_cursors() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).expect("date");
        for (order, cursor) in [("", "12"), ("recorded", "12"), ("decided", "2026-11-02.12")] {
            let filter = PageFilter {
                order: order.into(),
                before: cursor.into(),
                ..PageFilter::default()
            };
            let store = filter.to_store(today).expect("valid");
            assert_eq!(PageFilter::cursor(&store.order).as_deref(), Some(cursor));
            assert_eq!(filter.by_decision_date(), order == "decided");
        }
        let decided = PageFilter {
            order: "decided".into(),
            ..PageFilter::default()
        };
        assert!(decided.is_empty(), "the order is not a filter");
        assert_eq!(decided.query(), "?order=decided");
    }
}
