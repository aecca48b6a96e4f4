//! `GET /stats?body=…&from=YYYY-MM&to=YYYY-MM`: who is in the room — the figures a scrutiny
//! committee asks for, per body and period.
//!
//! The figures come from the store's monthly rollups ([`Store::statistics`]), summed over the
//! classifications the reader may read, so a page costs O(months × bodies) whatever the size of
//! the log. Counts about participants and content are drawn from withheld content for records
//! that are not public, hence the scopes: an anonymous reader's figures count public decisions
//! only, a signed-in reader's public and internal ones, and an auditor's or redactor's every
//! decision. Restricted figures pool bodies, so a secretariat token, cleared for the restricted
//! records of its own bodies only, sees public and internal figures, and the page says so.
//!
//! Every chart is inline SVG drawn with presentation attributes (the CSP forbids inline style
//! and script), labelled for assistive technology, and followed by a table carrying the same
//! numbers. Each number's cell carries a stable `data-stat` name.
//!
//! [`Store::statistics`]: crate::store::Store::statistics

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Datelike, Months, NaiveDate};

use super::filter::{DECISION_TYPES, STATUSES};
use super::pages::body_names;
use super::{Chrome, PageError, html};
use crate::api::AppState;
use crate::api::auth::Caller;
use crate::record::Classification;
use crate::store::{Role, StatsFilter, Tally};

/// The months shown when the query names none: the current one and the eleven before it.
const DEFAULT_MONTHS: u32 = 12;

/// The longest period a page covers, in months.
const MAX_MONTHS: u32 = 50 * 12;

/// Longer periods are charted by year rather than by month.
const MONTHLY_UP_TO: u32 = 24;

/// Organisations listed by name; the rest are summed as "other".
const TOP_ORGANISATIONS: usize = 10;

const ROLES: &[(&str, &str)] = &[
    ("decision_maker", "Decision maker"),
    ("chair", "Chair"),
    ("consulted", "Consulted"),
    ("advisor", "Advisor"),
    ("informed", "Informed"),
    ("observer", "Observer"),
];

const ATTENDANCE: &[(&str, &str)] = &[
    ("present", "Present"),
    ("remote", "Attended remotely"),
    ("apologies", "Sent apologies"),
    ("absent", "Absent without apologies"),
];

/// The query string of the statistics page.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatsQuery {
    /// Body slug; empty for every body.
    pub body: String,
    /// First month, `YYYY-MM`.
    pub from: String,
    /// Last month, `YYYY-MM`.
    pub to: String,
}

/// A month as `YYYY-MM`, as the first day of it.
fn month(value: &str, what: &str) -> Result<Option<NaiveDate>, String> {
    match value.trim() {
        "" => Ok(None),
        v if v.len() == 7 => NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d")
            .map(Some)
            .map_err(|_| format!("{what} must be a month as YYYY-MM")),
        _ => Err(format!("{what} must be a month as YYYY-MM")),
    }
}

fn months_between(from: NaiveDate, to: NaiveDate) -> u32 {
    let count = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32 + 1;
    u32::try_from(count).unwrap_or(0)
}

impl StatsQuery {
    /// The first and last months asked for (first days), on `today`.
    fn period(&self, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), String> {
        let back = Months::new(DEFAULT_MONTHS - 1);
        let this_month = today.with_day(1).unwrap_or(today);
        let (from, to) = match (month(&self.from, "from")?, month(&self.to, "to")?) {
            (Some(from), Some(to)) => (from, to),
            (Some(from), None) => (from, this_month.max(from)),
            (None, Some(to)) => (to.checked_sub_months(back).unwrap_or(to), to),
            (None, None) => (
                this_month.checked_sub_months(back).unwrap_or(this_month),
                this_month,
            ),
        };
        if from > to {
            return Err("from must not be after to".into());
        }
        if months_between(from, to) > MAX_MONTHS {
            return Err(format!(
                "a period is at most {} years long",
                MAX_MONTHS / 12
            ));
        }
        Ok((from, to))
    }
}

/// The classifications whose figures `caller` may read: those it may read whatever the body.
fn readable_scopes(caller: &Caller) -> Vec<Classification> {
    [
        Classification::Public,
        Classification::Internal,
        Classification::Restricted,
    ]
    .into_iter()
    .filter(|c| caller.may_read_any_body(*c))
    .collect()
}

/// A share as a whole percentage, or a dash when there is nothing to share.
fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "–".into();
    }
    format!("{}%", (part * 200 + whole) / (whole * 2))
}

/// One line of a table: a labelled number, its share, and the `data-stat` name of its cell.
struct Line {
    key: String,
    label: String,
    value: i64,
    share: String,
    /// What the share is a share of, where lines of one table differ.
    of: &'static str,
}

impl Line {
    fn new(key: impl Into<String>, label: impl Into<String>, value: i64, whole: i64) -> Line {
        Line {
            key: key.into(),
            label: label.into(),
            value,
            share: percent(value, whole),
            of: "",
        }
    }

    fn of(mut self, whole: &'static str) -> Line {
        self.of = whole;
        self
    }

    /// A line whose share would say nothing (a total).
    fn total(mut self) -> Line {
        self.share.clear();
        self
    }
}

/// A horizontal bar chart, laid out here so that the template only places what it is given.
struct Chart {
    /// What the chart shows, with every number: its `<title>` and `aria-label`.
    summary: String,
    height: u32,
    bars: Vec<Bar>,
}

struct Bar {
    label: String,
    value_text: String,
    y: u32,
    text_y: u32,
    width: u32,
    value_x: u32,
}

// Chart geometry, in SVG user units.
const LABEL_CHARS: usize = 32;
const BAR_X: u32 = 232;
const BAR_MAX: u32 = 330;
const ROW: u32 = 26;

impl Chart {
    /// Bars for `lines`, scaled to the largest value (or to `full` when given, for shares).
    fn of(title: &str, lines: &[Line], full: Option<i64>, shares: bool) -> Chart {
        let max = full.unwrap_or_else(|| lines.iter().map(|l| l.value).max().unwrap_or(0));
        let text = |l: &Line| {
            if shares {
                l.share.clone()
            } else {
                l.value.to_string()
            }
        };
        let bars = lines
            .iter()
            .zip(0u32..)
            .map(|(l, i)| {
                let width = if max > 0 {
                    u32::try_from(l.value.clamp(0, max) * i64::from(BAR_MAX) / max).unwrap_or(0)
                } else {
                    0
                };
                let label = if l.label.chars().count() > LABEL_CHARS {
                    let cut: String = l.label.chars().take(LABEL_CHARS - 1).collect();
                    format!("{cut}…")
                } else {
                    l.label.clone()
                };
                Bar {
                    label,
                    value_text: text(l),
                    y: 8 + i * ROW,
                    text_y: 22 + i * ROW,
                    width,
                    value_x: BAR_X + width + 6,
                }
            })
            .collect::<Vec<_>>();
        let listed: Vec<String> = lines
            .iter()
            .map(|l| format!("{} {}", l.label, text(l)))
            .collect();
        Chart {
            summary: format!("{title}: {}.", listed.join(", ")),
            height: 16 + ROW * u32::try_from(bars.len()).unwrap_or(0),
            bars,
        }
    }
}

/// A titled table of lines with its chart.
struct Section {
    id: &'static str,
    heading: &'static str,
    caption: String,
    what: &'static str,
    count: &'static str,
    share_of: &'static str,
    lines: Vec<Line>,
    chart: Option<Chart>,
}

/// A body's line in the comparison table.
struct BodyLine {
    slug: String,
    name: String,
    url: String,
    decisions: i64,
    participants: i64,
    alternatives: String,
    conflicts: i64,
    with_dissent: i64,
    with_outcome: i64,
    review_overdue: i64,
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    chrome: Chrome,
    heading: String,
    from: String,
    to: String,
    period: String,
    bodies: Vec<(String, String, bool)>,
    counted: &'static str,
    not_counted: i64,
    secretariat: bool,
    has_decisions: bool,
    summary: Vec<Line>,
    summary_chart: Chart,
    sections: Vec<Section>,
    comparison: Vec<BodyLine>,
}

fn long_month(date: NaiveDate) -> String {
    date.format("%B %Y").to_string()
}

fn labelled(
    labels: &[(&str, &str)],
    counts: &BTreeMap<String, i64>,
    prefix: &str,
    whole: i64,
) -> Vec<Line> {
    labels
        .iter()
        .map(|(key, label)| {
            Line::new(
                format!("{prefix}.{key}"),
                *label,
                counts.get(*key).copied().unwrap_or(0),
                whole,
            )
        })
        .collect()
}

fn organisations(tally: &Tally) -> Vec<Line> {
    let mut named: Vec<(&String, i64)> = tally
        .by_organisation
        .iter()
        .filter(|(name, n)| !name.is_empty() && **n != 0)
        .map(|(name, n)| (name, *n))
        .collect();
    named.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let whole = tally.participants;
    let mut lines: Vec<Line> = named
        .iter()
        .take(TOP_ORGANISATIONS)
        .map(|(name, n)| Line::new(format!("organisation.{name}"), name.as_str(), *n, whole))
        .collect();
    let other: i64 = named.iter().skip(TOP_ORGANISATIONS).map(|(_, n)| n).sum();
    if other != 0 {
        lines.push(Line::new(
            "organisation.other",
            "Other organisations",
            other,
            whole,
        ));
    }
    let unnamed = tally.by_organisation.get("").copied().unwrap_or(0);
    if unnamed != 0 {
        lines.push(Line::new("organisation.none", "None given", unnamed, whole));
    }
    lines
}

/// Decisions per month of the period, or per year when the period is long.
fn over_time(
    from: NaiveDate,
    to: NaiveDate,
    months: &BTreeMap<String, i64>,
    whole: i64,
) -> Vec<Line> {
    let count = months_between(from, to);
    let mut lines: Vec<Line> = Vec::new();
    for i in 0..count {
        let Some(first) = from.checked_add_months(Months::new(i)) else {
            break;
        };
        let key = first.format("%Y-%m").to_string();
        let n = months.get(&key).copied().unwrap_or(0);
        if count <= MONTHLY_UP_TO {
            lines.push(Line::new(
                format!("month.{key}"),
                long_month(first),
                n,
                whole,
            ));
        } else {
            let year = first.year().to_string();
            match lines.last_mut() {
                Some(line) if line.label == year => line.value += n,
                _ => lines.push(Line::new(format!("year.{year}"), year, n, whole)),
            }
        }
    }
    for line in &mut lines {
        line.share = percent(line.value, whole);
    }
    lines
}

fn summary(t: &Tally) -> Vec<Line> {
    let d = t.decisions;
    let input = |kind: &str| t.by_input.get(kind).copied().unwrap_or(0);
    let decisions = "decisions";
    vec![
        Line::new("decisions", "Decisions", d, d).total(),
        Line::new(
            "participants",
            "Participations (a person taking part in a decision)",
            t.participants,
            t.participants,
        )
        .total(),
        Line::new(
            "with_alternatives",
            "Alternatives considered are documented",
            t.with_alternatives,
            d,
        )
        .of(decisions),
        Line::new(
            "with_conflicts",
            "A conflict of interest was declared",
            t.with_conflicts,
            d,
        )
        .of(decisions),
        Line::new(
            "conflicts",
            "Conflicts of interest declared",
            t.conflicts,
            t.conflicts,
        )
        .total(),
        Line::new(
            "dispensations",
            "Dispensations granted",
            t.dispensations,
            t.conflicts,
        )
        .of("conflicts"),
        Line::new(
            "input.community",
            "Community input recorded",
            input("community"),
            d,
        )
        .of(decisions),
        Line::new("input.staff", "Staff input recorded", input("staff"), d).of(decisions),
        Line::new("input.expert", "Expert input recorded", input("expert"), d).of(decisions),
        Line::new("with_vote", "Decided by a vote", t.with_vote, d).of(decisions),
        Line::new(
            "with_dissent",
            "Dissent in the vote (a vote against, or the motion failed)",
            t.with_dissent,
            t.with_vote,
        )
        .of("decisions with a vote"),
        Line::new(
            "with_outcome",
            "An outcome has been reported",
            t.with_outcome,
            d,
        )
        .of(decisions),
        Line::new(
            "review_overdue",
            "Review overdue (review date passed, decision still stands)",
            t.review_overdue,
            d,
        )
        .of(decisions),
    ]
}

/// `GET /stats`: who is in the room, per body and period.
pub async fn stats(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<StatsQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let today = (state.clock)().date_naive();
    let (from, to) = query.period(today).map_err(PageError::BadRequest)?;
    let names = body_names(&state).await?;
    let body = query.body.trim().to_owned();
    if !body.is_empty() && !names.contains_key(&body) {
        return Err(PageError::NotFound(format!("There is no body {body}.")));
    }
    let scopes = readable_scopes(&caller);
    let (from_key, to_key) = (
        from.format("%Y-%m").to_string(),
        to.format("%Y-%m").to_string(),
    );
    let stats = state
        .store
        .statistics(&StatsFilter {
            body: Some(body.clone()).filter(|b| !b.is_empty()),
            from: from_key.clone(),
            to: to_key.clone(),
            scopes: scopes.clone(),
            today,
        })
        .await?;
    let t = &stats.total;

    let shares = [
        (
            "with_alternatives",
            "Alternatives documented",
            t.with_alternatives,
        ),
        ("with_conflicts", "Conflict declared", t.with_conflicts),
        (
            "input.community",
            "Community input",
            t.by_input.get("community").copied().unwrap_or(0),
        ),
        (
            "input.staff",
            "Staff input",
            t.by_input.get("staff").copied().unwrap_or(0),
        ),
        (
            "input.expert",
            "Expert input",
            t.by_input.get("expert").copied().unwrap_or(0),
        ),
        ("with_vote", "Decided by a vote", t.with_vote),
        ("with_outcome", "Outcome reported", t.with_outcome),
        ("review_overdue", "Review overdue", t.review_overdue),
    ]
    .map(|(key, label, n)| Line::new(key, label, n, t.decisions));
    let summary_chart = Chart::of("Share of decisions", &shares, Some(t.decisions), true);

    let statuses: Vec<(&str, &str)> = STATUSES
        .iter()
        .filter(|(k, _)| *k != "review_overdue")
        .copied()
        .collect();
    let mut sections = vec![
        Section {
            id: "months",
            heading: "Decisions over time",
            caption: "Decisions per period".into(),
            what: "Period",
            count: "Decisions",
            share_of: "of decisions",
            lines: over_time(from, to, &stats.months, t.decisions),
            chart: None,
        },
        Section {
            id: "roles",
            heading: "Participation by role",
            caption: "People taking part in decisions, by role".into(),
            what: "Role",
            count: "Participations",
            share_of: "of participations",
            lines: labelled(ROLES, &t.by_role, "role", t.participants),
            chart: None,
        },
        Section {
            id: "organisations",
            heading: "Participation by team or organisation",
            caption: format!(
                "People taking part in decisions, by team or organisation (the {TOP_ORGANISATIONS} largest, then the rest)"
            ),
            what: "Team or organisation",
            count: "Participations",
            share_of: "of participations",
            lines: organisations(t),
            chart: None,
        },
        Section {
            id: "attendance",
            heading: "Attendance",
            caption: "People taking part in decisions, by attendance".into(),
            what: "Attendance",
            count: "Participations",
            share_of: "of participations",
            lines: labelled(ATTENDANCE, &t.by_attendance, "attendance", t.participants),
            chart: None,
        },
        Section {
            id: "types",
            heading: "By decision type",
            caption: "Decisions by type".into(),
            what: "Type",
            count: "Decisions",
            share_of: "of decisions",
            lines: labelled(DECISION_TYPES, &t.by_type, "type", t.decisions),
            chart: None,
        },
        Section {
            id: "statuses",
            heading: "By status",
            caption: "Decisions by where they stand today".into(),
            what: "Status",
            count: "Decisions",
            share_of: "of decisions",
            lines: labelled(&statuses, &t.by_status, "status", t.decisions),
            chart: None,
        },
    ];
    for section in &mut sections {
        section.chart = Some(Chart::of(&section.caption, &section.lines, None, false));
    }

    let period_query = format!("&from={from_key}&to={to_key}");
    let comparison = if body.is_empty() {
        let mut slugs: Vec<&String> = names.keys().chain(stats.bodies.keys()).collect();
        slugs.sort();
        slugs.dedup();
        let empty = Tally::default();
        slugs
            .into_iter()
            .map(|slug| {
                let b = stats.bodies.get(slug).unwrap_or(&empty);
                BodyLine {
                    slug: slug.clone(),
                    name: names.get(slug).cloned().unwrap_or_else(|| slug.clone()),
                    url: format!("/stats?body={slug}{period_query}"),
                    decisions: b.decisions,
                    participants: b.participants,
                    alternatives: percent(b.with_alternatives, b.decisions),
                    conflicts: b.conflicts,
                    with_dissent: b.with_dissent,
                    with_outcome: b.with_outcome,
                    review_overdue: b.review_overdue,
                }
            })
            .collect()
    } else {
        Vec::new()
    };

    let counted = match scopes.as_slice() {
        [Classification::Public] => "public decisions only",
        [_, _] => "public and internal decisions",
        _ => "public, internal and restricted decisions",
    };
    let page = StatsPage {
        chrome: Chrome::new(&state, &caller, "stats"),
        heading: match names.get(&body) {
            Some(name) => format!("Who is in the room: {name}"),
            None => "Who is in the room".into(),
        },
        bodies: names
            .iter()
            .map(|(slug, name)| (slug.clone(), name.clone(), *slug == body))
            .collect(),
        period: if from == to {
            long_month(from)
        } else {
            format!("{} to {}", long_month(from), long_month(to))
        },
        from: from_key,
        to: to_key,
        counted,
        not_counted: stats.not_counted,
        secretariat: caller
            .0
            .as_ref()
            .is_some_and(|t| t.role == Role::Secretariat),
        has_decisions: t.decisions > 0,
        summary: summary(t),
        summary_chart,
        sections,
        comparison,
    };
    html(page.render()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("date")
    }

    #[test]
    fn the_default_period_is_the_last_twelve_months() {
        let (from, to) = StatsQuery::default()
            .period(day("2026-11-29"))
            .expect("valid");
        assert_eq!((from, to), (day("2025-12-01"), day("2026-11-01")));
        let only_to = StatsQuery {
            to: "2026-03".into(),
            ..StatsQuery::default()
        };
        assert_eq!(
            only_to.period(day("2026-11-29")).expect("valid").0,
            day("2025-04-01")
        );
    }

    #[test]
    fn malformed_or_reversed_periods_are_refused() {
        for (from, to) in [
            ("2026-13", ""),
            ("2026-1", ""),
            ("26-01", ""),
            ("2026-11", "2026-10"),
            ("1900-01", "2026-01"),
        ] {
            let query = StatsQuery {
                from: from.into(),
                to: to.into(),
                ..StatsQuery::default()
            };
            assert!(query.period(day("2026-11-29")).is_err(), "{from} {to}");
        }
    }

    #[test]
    fn shares_round_to_whole_percentages() {
        assert_eq!(percent(2, 3), "67%");
        assert_eq!(percent(1, 8), "13%");
        assert_eq!(percent(0, 0), "–");
    }

    #[test]
    fn long_periods_are_counted_by_year() {
        let months = BTreeMap::from([("2024-03".to_owned(), 2), ("2024-11".to_owned(), 1)]);
        let lines = over_time(day("2023-06-01"), day("2026-05-01"), &months, 3);
        let keys: Vec<&str> = lines.iter().map(|l| l.key.as_str()).collect();
        assert_eq!(keys, ["year.2023", "year.2024", "year.2025", "year.2026"]);
        assert_eq!(lines[1].value, 3);
    }

    #[test]
    fn bars_scale_to_the_largest_value() {
        let lines = [Line::new("a", "A", 4, 6), Line::new("b", "B", 2, 6)];
        let chart = Chart::of("T", &lines, None, false);
        assert_eq!(chart.bars[0].width, BAR_MAX);
        assert_eq!(chart.bars[1].width, BAR_MAX / 2);
        assert_eq!(chart.summary, "T: A 4, B 2.");
    }
}
