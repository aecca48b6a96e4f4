//! What the pages show, in plain words: view models built from the API's decision DTOs, so that
//! a page shows exactly what the API would give the same reader, and templates stay free of
//! logic. Every string here is escaped by the templates; nothing is trusted markup.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::Value;

use super::filter::DECISION_TYPES;
use crate::api::decisions::{Decision, LineageEvent};
use crate::record::{
    Alternatives, Attendance, Conflicts, DecisionMakerKind, DecisionRecord, ParticipantRole,
};

/// A date as people write it: `18 November 2026`.
pub fn long_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

/// An RFC 3339 time in words, in UTC: `3 December 2026, 14:36 UTC`; the text as it is when it
/// is not such a time.
pub fn long_time_text(text: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(text).map_or_else(
        |_| text.to_owned(),
        |t| {
            t.with_timezone(&chrono::Utc)
                .format("%-d %B %Y, %H:%M UTC")
                .to_string()
        },
    )
}

fn long_date_text(text: &str) -> String {
    text.get(..10)
        .and_then(|d| d.parse::<NaiveDate>().ok())
        .map_or_else(|| text.to_owned(), long_date)
}

/// Words for a snake_case value: `referred_to_council` → `referred to council`.
pub fn words(value: &str) -> String {
    value.replace('_', " ")
}

fn type_label(decision_type: &str) -> String {
    DECISION_TYPES
        .iter()
        .find(|(k, _)| *k == decision_type)
        .map_or_else(|| words(decision_type), |(_, label)| (*label).to_owned())
}

fn json_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "nothing".into(),
        other => other.to_string(),
    }
}

/// `uri` if a page may link to it: only `http:` and `https:` addresses are links, so a recorded
/// `javascript:` or `data:` address can never run in a reader's browser. Empty otherwise (the
/// template then shows the address as text).
pub fn safe_href(uri: &str) -> String {
    let scheme = uri.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("http" | "https") => uri.to_owned(),
        _ => String::new(),
    }
}

/// Truncates `text` to about `max` characters at a word boundary.
pub fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}

/// A decision in a list.
#[derive(Debug, Clone)]
pub struct Card {
    /// The decision id.
    pub id: String,
    /// Its page.
    pub url: String,
    /// Its title, or what stands for a withheld one.
    pub title: String,
    /// Body slug.
    pub body: String,
    /// Body name.
    pub body_name: String,
    /// Decision date, ISO 8601.
    pub decided_on: String,
    /// Decision date in words.
    pub decided_on_long: String,
    /// Decision type in words.
    pub decision_type: String,
    /// Classification as recorded.
    pub classification: String,
    /// Status in words.
    pub status: String,
    /// Status as a CSS class suffix.
    pub status_class: String,
    /// Whether its review is overdue.
    pub overdue: bool,
    /// A short excerpt of what was decided, or the public summary.
    pub summary: String,
    /// Its tags.
    pub tags: Vec<String>,
}

impl Card {
    /// The card for `decision`; `bodies` maps slugs to names.
    pub fn of(decision: &Decision, bodies: &BTreeMap<String, String>) -> Card {
        let status = serde_json::to_value(decision.state.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let (title, summary, tags) = match (&decision.record, &decision.withheld) {
            (Some(r), _) => (r.title.clone(), excerpt(&r.decision, 280), r.tags.clone()),
            (None, Some(w)) => {
                let title = w
                    .published
                    .get("title")
                    .and_then(Value::as_str)
                    .map_or_else(
                        || {
                            format!(
                                "{} (content withheld)",
                                type_label(decision.decision_type.as_str())
                            )
                        },
                        str::to_owned,
                    );
                let summary = w
                    .exemption
                    .as_ref()
                    .map_or_else(|| w.reason.clone(), |e| e.public_summary.clone());
                (title, excerpt(&summary, 280), Vec::new())
            }
            (None, None) => (String::new(), String::new(), Vec::new()),
        };
        Card {
            id: decision.id.to_string(),
            url: format!("/decisions/{}", decision.id),
            title,
            body_name: bodies
                .get(&decision.body)
                .cloned()
                .unwrap_or_else(|| decision.body.clone()),
            body: decision.body.clone(),
            decided_on: decision.decided_on.to_string(),
            decided_on_long: long_date(decision.decided_on),
            decision_type: type_label(decision.decision_type.as_str()),
            classification: serde_json::to_value(decision.classification)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            status_class: status.replace('_', "-"),
            status: words(&status),
            overdue: decision.state.review_overdue,
            summary,
            tags,
        }
    }
}

/// What a reader who may not read the record sees of it.
#[derive(Debug, Clone)]
pub struct WithheldView {
    /// Why the content is withheld.
    pub reason: String,
    /// Schedule 12A paragraph.
    pub paragraph: Option<u8>,
    /// The public summary.
    pub public_summary: Option<String>,
    /// The public interest test.
    pub public_interest_reason: Option<String>,
    /// Fields published since: (label, text).
    pub published: Vec<(String, String)>,
}

/// A vote, in words.
#[derive(Debug, Clone)]
pub struct VoteView {
    /// The tally and result in a sentence.
    pub summary: String,
    /// (member, vote), when recorded.
    pub votes: Vec<(String, String)>,
}

/// A participant in words: (name, organisation, attendance).
pub type Person = (String, String, String);

/// The record, in words.
#[derive(Debug, Clone)]
pub struct RecordView {
    /// What was decided.
    pub decision: String,
    /// Who decided, in words.
    pub maker: String,
    /// The reasons.
    pub reasons: String,
    /// (option, why rejected); empty when none were considered.
    pub alternatives: Vec<(String, String)>,
    /// (who, nature, dispensation); empty when none were declared.
    pub conflicts: Vec<(String, String, String)>,
    /// Role label → (name, organisation, attendance).
    pub groups: Vec<(String, Vec<Person>)>,
    /// The vote, if one was taken.
    pub vote: Option<VoteView>,
    /// (title, uri if it may be a link (else empty), sha256)
    pub documents: Vec<(String, String, String)>,
    /// What success looks like.
    pub success_measures: Option<String>,
    /// (kind, summary, uri)
    pub inputs: Vec<(String, String, String)>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Areas affected.
    pub areas: Vec<String>,
}

const ROLE_ORDER: [(ParticipantRole, &str); 6] = [
    (ParticipantRole::DecisionMaker, "Decision makers"),
    (ParticipantRole::Chair, "Chair"),
    (ParticipantRole::Advisor, "Advisers"),
    (ParticipantRole::Consulted, "Consulted"),
    (ParticipantRole::Informed, "Informed"),
    (ParticipantRole::Observer, "Observers"),
];

fn attendance(a: Attendance) -> &'static str {
    match a {
        Attendance::Present => "present",
        Attendance::Remote => "attended remotely",
        Attendance::Apologies => "sent apologies",
        Attendance::Absent => "absent",
    }
}

impl RecordView {
    /// The record in words.
    pub fn of(r: &DecisionRecord) -> RecordView {
        let name_of = |i: usize| {
            r.participants
                .get(i)
                .map_or_else(|| format!("participant {i}"), |p| p.name.clone())
        };
        let maker = match r.decision_maker.kind {
            DecisionMakerKind::Body => r.decision_maker.name.clone(),
            _ => match &r.decision_maker.title {
                Some(title) => format!("{}, {title}", r.decision_maker.name),
                None => r.decision_maker.name.clone(),
            },
        };
        let groups = ROLE_ORDER
            .iter()
            .filter_map(|(role, label)| {
                let people: Vec<Person> = r
                    .participants
                    .iter()
                    .filter(|p| p.role == *role)
                    .map(|p| {
                        (
                            p.name.clone(),
                            p.organisation.clone().unwrap_or_default(),
                            attendance(p.attendance).to_owned(),
                        )
                    })
                    .collect();
                (!people.is_empty()).then(|| ((*label).to_owned(), people))
            })
            .collect();
        let vote = r.vote.as_ref().map(|v| {
            let result = serde_json::to_value(v.result)
                .ok()
                .and_then(|x| x.as_str().map(str::to_owned))
                .unwrap_or_default();
            let method = serde_json::to_value(v.method)
                .ok()
                .and_then(|x| x.as_str().map(words))
                .unwrap_or_default();
            VoteView {
                summary: format!(
                    "By {method}: {} for, {} against, {} abstaining. The motion {result}{}.",
                    v.counts.in_favour,
                    v.counts.against,
                    v.counts.abstain,
                    if v.casting_vote {
                        " on the chair's casting vote"
                    } else {
                        ""
                    }
                ),
                votes: v
                    .votes
                    .iter()
                    .map(|pv| {
                        let choice = serde_json::to_value(pv.vote)
                            .ok()
                            .and_then(|x| x.as_str().map(str::to_owned))
                            .unwrap_or_default();
                        (name_of(pv.participant), choice)
                    })
                    .collect(),
            }
        });
        RecordView {
            decision: r.decision.clone(),
            maker,
            reasons: r.reasons.clone(),
            alternatives: match &r.alternatives {
                Alternatives::Considered(list) => list
                    .iter()
                    .map(|a| (a.option.clone(), a.why_rejected.clone()))
                    .collect(),
                Alternatives::None(_) => Vec::new(),
            },
            conflicts: match &r.conflicts {
                Conflicts::Declared(list) => list
                    .iter()
                    .map(|c| {
                        let dispensation = c.dispensation.as_ref().map_or_else(String::new, |d| {
                            let mut text = format!(
                                "granted by {} on {}",
                                d.granted_by,
                                long_date(d.granted_on)
                            );
                            if let Some(note) = &d.note {
                                text.push_str(&format!(" — {note}"));
                            }
                            text
                        });
                        (name_of(c.participant), c.nature.clone(), dispensation)
                    })
                    .collect(),
                Conflicts::None(_) => Vec::new(),
            },
            groups,
            vote,
            documents: r
                .documents
                .iter()
                .map(|d| (d.title.clone(), safe_href(&d.uri), d.sha256.clone()))
                .collect(),
            success_measures: r.success_measures.clone(),
            inputs: r
                .input_from
                .iter()
                .map(|i| {
                    let kind = serde_json::to_value(i.kind)
                        .ok()
                        .and_then(|x| x.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    let kind = match kind.as_str() {
                        "community" => "Community".to_owned(),
                        "staff" => "Staff".to_owned(),
                        "expert" => "Experts".to_owned(),
                        other => other.to_owned(),
                    };
                    let uri = i.uri.as_deref().map(safe_href).unwrap_or_default();
                    (kind, i.summary.clone(), uri)
                })
                .collect(),
            tags: r.tags.clone(),
            areas: r.areas.clone(),
        }
    }
}

/// One step of a decision's timeline.
#[derive(Debug, Clone)]
pub struct EventView {
    /// What happened, in words.
    pub label: String,
    /// When, in words.
    pub date: String,
    /// When, RFC 3339.
    pub recorded_at: String,
    /// The token that recorded it.
    pub by: String,
    /// Details, one sentence each.
    pub lines: Vec<String>,
    /// A link to follow, if any: (href, text).
    pub link: Option<(String, String)>,
    /// Its leaf index.
    pub leaf: u64,
    /// Its entry hash.
    pub entry_hash: String,
}

fn text(detail: &Value, key: &str) -> String {
    detail.get(key).map(json_text).unwrap_or_default()
}

impl EventView {
    /// A lineage event in words.
    pub fn of(event: &LineageEvent) -> EventView {
        let d = &event.detail;
        let mut link = None;
        let (label, lines) = match event.kind.as_str() {
            "decision.recorded" => ("Recorded".to_owned(), Vec::new()),
            "decision.amended" => {
                let mut lines: Vec<String> = d["changes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        format!(
                            "{} changed from “{}” to “{}”.",
                            capitalise(&words(&text(c, "field"))),
                            excerpt(&json_text(&c["old"]), 200),
                            excerpt(&json_text(&c["new"]), 200)
                        )
                    })
                    .collect();
                lines.push(format!("Reason: {}", text(d, "reason")));
                ("Amended".to_owned(), lines)
            }
            "decision.outcome_reported" => {
                let mut lines = vec![format!(
                    "Outcome: {} (assessed {}).",
                    words(&text(d, "status")),
                    long_date_text(&text(d, "reported_on"))
                )];
                lines.push(text(d, "narrative"));
                for e in d["evidence"].as_array().into_iter().flatten() {
                    lines.push(format!(
                        "Evidence: {} (SHA-256 {})",
                        text(e, "title"),
                        text(e, "sha256")
                    ));
                }
                if let Some(next) = d.get("next_review_on") {
                    lines.push(format!(
                        "Next review: {}.",
                        long_date_text(&json_text(next))
                    ));
                }
                ("Outcome reported".to_owned(), lines)
            }
            "decision.call_in" => {
                let status = text(d, "status");
                let label = match status.as_str() {
                    "called_in" => "Called in",
                    "upheld" => "Call-in resolved: decision upheld",
                    "referred_back" => "Referred back to the decision maker",
                    "referred_to_council" => "Referred to full council",
                    _ => "Call-in",
                };
                let mut lines = vec![format!("On {}.", long_date_text(&text(d, "on")))];
                if d.get("note").is_some() {
                    lines.push(text(d, "note"));
                }
                (label.to_owned(), lines)
            }
            "decision.rescinded" => (
                "Rescinded".to_owned(),
                vec![
                    format!("On {}.", long_date_text(&text(d, "rescinded_on"))),
                    format!("Reason: {}", text(d, "reason")),
                ],
            ),
            "decision.superseded" => {
                let by = text(d, "superseded_by");
                link = Some((
                    format!("/decisions/{by}"),
                    "The decision that replaces it".to_owned(),
                ));
                (
                    "Superseded".to_owned(),
                    vec![format!("Reason: {}", text(d, "reason"))],
                )
            }
            "decision.redacted" => (
                "Personal data erased".to_owned(),
                vec![
                    format!(
                        "A personal detail ({}) was erased under {}, authorised by {}.",
                        text(d, "path").trim_start_matches('/').replace('/', " "),
                        text(d, "basis"),
                        text(d, "authorised_by")
                    ),
                    format!("Reason: {}", text(d, "reason")),
                ],
            ),
            "decision.published" => {
                let what = if text(d, "scope") == "record" {
                    "The whole record was published.".to_owned()
                } else {
                    let fields: Vec<String> = d["fields"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|f| words(&json_text(f)))
                        .collect();
                    format!("Published: {}.", fields.join(", "))
                };
                (
                    "Published".to_owned(),
                    vec![what, format!("Reason: {}", text(d, "reason"))],
                )
            }
            other => (words(other), Vec::new()),
        };
        EventView {
            label,
            date: long_time_text(&event.recorded_at),
            recorded_at: event.recorded_at.clone(),
            by: event.recorded_by.clone(),
            lines,
            link,
            leaf: event.leaf_index,
            entry_hash: event.entry_hash.clone(),
        }
    }
}

/// `text` with its first letter in upper case.
pub fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().collect::<String>() + chars.as_str()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_dates_and_excerpts_read_well() {
        assert_eq!(words("referred_to_council"), "referred to council");
        let date = NaiveDate::from_ymd_opt(2026, 11, 8).expect("date");
        assert_eq!(long_date(date), "8 November 2026");
        assert_eq!(
            long_date_text("2026-11-08T10:00:00.000Z"),
            "8 November 2026"
        );
        assert_eq!(excerpt("one two three four", 9), "one two…");
        assert_eq!(excerpt("short", 9), "short");
        assert_eq!(capitalise("title"), "Title");
        assert_eq!(safe_href("https://example.org/a"), "https://example.org/a");
        assert_eq!(safe_href("HTTP://example.org"), "HTTP://example.org");
        for hostile in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,x",
            "vbscript:x",
            "/relative",
        ] {
            assert_eq!(safe_href(hostile), "", "{hostile}");
        }
    }
}
