//! The decision record: what a secretariat submits, how it is validated, and which of its values
//! are committed to the log rather than embedded in it.
//!
//! The shape follows `DOMAIN.md`: the statutory minimum of the 2012 and 2014 regulations (the
//! decision and its date, reasons, alternatives considered and rejected, conflicts declared and
//! dispensations granted) and what peer systems keep (participants and roles, votes, documents by
//! hash, success measures, who was listened to).
//!
//! Validation is strict and complete: [`DecisionRecord::from_json`] names every offending field,
//! not only the first, so a secretariat fixes a rejected record in one round trip.
//!
//! [`DecisionRecord::commit`] produces the hashed form. Values that identify a person are always
//! committed (see `ledger::disclosure`). A record that is not public also commits every field a
//! public reader may not see, so that the canonical entry — which anyone can fetch and verify —
//! never carries non-public content.

use chrono::NaiveDate;
use ledger::Disclosure;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

/// Longest accepted title (of a record or a document), in characters.
pub const MAX_TITLE_CHARS: usize = 300;
/// Longest accepted tag or area, in characters.
pub const MAX_TAG_CHARS: usize = 64;
/// Longest accepted name, office or organisation, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest accepted URI, in characters.
pub const MAX_URI_CHARS: usize = 2_000;
/// Most participants in a record, and so most individual votes.
pub const MAX_PARTICIPANTS: usize = 500;
/// Most alternatives in a record.
pub const MAX_ALTERNATIVES: usize = 50;
/// Most declared conflicts in a record.
pub const MAX_CONFLICTS: usize = 100;
/// Most documents in a record, and most evidence documents in an outcome.
pub const MAX_DOCUMENTS: usize = 100;
/// Most inputs in a record.
pub const MAX_INPUTS: usize = 100;
/// Most tags, and most areas, in a record.
pub const MAX_TAGS: usize = 50;
/// Largest record in RFC 8785 canonical form with every value revealed: the size of a log entry
/// (C2SP tlog-tiles carries an entry's length in 16 bits). A public record must fit in its entry
/// anyway; the same bound on a non-public one keeps what its disclosures hold, and what
/// publishing it later shows, no larger than a public record could be.
pub const MAX_RECORD_BYTES: usize = 65_535;
/// Earliest year of any date in a request: no record is older.
pub const EARLIEST_YEAR: i32 = 1900;
/// Latest year of any date in a request (a review or an expiry far ahead, never a typo's year
/// 20260).
pub const LATEST_YEAR: i32 = 2199;
/// Longest field path kept in a [`FieldError`], in characters.
const MAX_ERROR_FIELD_CHARS: usize = 200;
/// Longest message kept in a [`FieldError`], in characters.
const MAX_ERROR_MESSAGE_CHARS: usize = 500;

/// A decision as recorded by a secretariat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRecord {
    /// Short plain-language title.
    #[schema(
        max_length = 300,
        example = "Close Northgate depot and move waste collection to Southfield"
    )]
    pub title: String,
    /// What was decided, in plain words.
    pub decision: String,
    /// The date the decision was made (reg. 12(2)(a)); not later than tomorrow.
    #[serde(deserialize_with = "date")]
    pub decided_on: NaiveDate,
    /// Slug of the deciding body: lowercase letters, digits and single hyphens.
    #[schema(
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$",
        max_length = 64,
        example = "cabinet"
    )]
    pub body: String,
    /// Who took the decision (reg. 9).
    pub decision_maker: DecisionMaker,
    /// The statutory category of the decision.
    pub decision_type: DecisionType,
    /// The reasons for the decision (reg. 12(2)(b)).
    pub reasons: String,
    /// Alternative options considered and rejected (reg. 12(2)(c)), or `"none_considered"`.
    pub alternatives: Alternatives,
    /// Conflicts of interest declared (reg. 12(2)(d),(e)), or `"none_declared"`.
    pub conflicts: Conflicts,
    /// Who took part and in what role; at least one `decision_maker`.
    #[schema(min_items = 1)]
    pub participants: Vec<Participant>,
    /// The vote, when one was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote: Option<Vote>,
    /// Who may read the record.
    pub classification: Classification,
    /// Required when, and only when, `classification` is `restricted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemption: Option<Exemption>,
    /// Documents the decision rests on, committed by SHA-256 (the log does not store them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<Document>,
    /// What "it worked" means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_measures: Option<String>,
    /// When to look at the outcome again; not before `decided_on`.
    #[serde(
        default,
        deserialize_with = "optional_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub review_on: Option<NaiveDate>,
    /// Who was listened to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_from: Vec<Input>,
    /// When the decision takes effect; not before `decided_on`.
    #[serde(
        default,
        deserialize_with = "optional_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub effective_from: Option<NaiveDate>,
    /// Themes and services, for browsing and filtering.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Wards or areas affected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub areas: Vec<String>,
}

/// Who took the decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionMaker {
    /// A body, an individual member (e.g. a cabinet member), or an officer under delegation.
    pub kind: DecisionMakerKind,
    /// The body's or the person's name. A person's name is personal data and is committed.
    pub name: String,
    /// The office held, e.g. "Cabinet Member for Environment".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// The kind of decision maker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionMakerKind {
    /// A committee, board, cabinet or other body.
    Body,
    /// An individual elected member.
    Member,
    /// An officer acting under delegated powers.
    Officer,
}

/// The statutory category of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionType {
    /// A key decision, announced 28 clear days ahead.
    Key,
    /// An executive decision that is not a key decision.
    NonKey,
    /// An officer's decision under delegated powers.
    OfficerDelegated,
    /// A key decision taken under the general exception route.
    GeneralException,
    /// A key decision taken under special urgency.
    SpecialUrgency,
}

impl DecisionType {
    /// The spelling used in JSON and in filters.
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionType::Key => "key",
            DecisionType::NonKey => "non_key",
            DecisionType::OfficerDelegated => "officer_delegated",
            DecisionType::GeneralException => "general_exception",
            DecisionType::SpecialUrgency => "special_urgency",
        }
    }
}

/// Alternatives considered and rejected, or an explicit statement that none were.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Alternatives {
    /// At least one option that was considered and rejected.
    Considered(Vec<Alternative>),
    /// `"none_considered"`.
    None(NoneConsidered),
}

/// The explicit statement that no alternatives were considered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum NoneConsidered {
    /// No alternatives were considered.
    #[serde(rename = "none_considered")]
    NoneConsidered,
}

/// An option considered and rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Alternative {
    /// The option.
    pub option: String,
    /// Why it was rejected.
    pub why_rejected: String,
}

/// Conflicts of interest declared, or an explicit statement that none were.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Conflicts {
    /// At least one declared conflict.
    Declared(Vec<Conflict>),
    /// `"none_declared"`.
    None(NoneDeclared),
}

/// The explicit statement that no conflicts were declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum NoneDeclared {
    /// No conflicts were declared.
    #[serde(rename = "none_declared")]
    NoneDeclared,
}

/// A declared conflict of interest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Conflict {
    /// Index into `participants` of the person who declared it.
    pub participant: usize,
    /// The nature of the interest.
    pub nature: String,
    /// The dispensation granted, if any (reg. 12(2)(e)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispensation: Option<Dispensation>,
}

/// A dispensation allowing a conflicted participant to take part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dispensation {
    /// Who granted it (committed: it may name a person).
    pub granted_by: String,
    /// When it was granted.
    #[serde(deserialize_with = "date")]
    pub granted_on: NaiveDate,
    /// Its terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A person who took part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    /// The person's name (personal data: committed, never embedded in the hashed entry).
    pub name: String,
    /// Their part in the decision.
    pub role: ParticipantRole,
    /// Team or organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// Whether and how they attended.
    pub attendance: Attendance,
}

/// A participant's part in a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantRole {
    /// Took the decision.
    DecisionMaker,
    /// Chaired the meeting.
    Chair,
    /// Was consulted.
    Consulted,
    /// Advised (e.g. a statutory officer).
    Advisor,
    /// Was informed.
    Informed,
    /// Observed.
    Observer,
}

impl ParticipantRole {
    /// The spelling used in JSON and in filters.
    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantRole::DecisionMaker => "decision_maker",
            ParticipantRole::Chair => "chair",
            ParticipantRole::Consulted => "consulted",
            ParticipantRole::Advisor => "advisor",
            ParticipantRole::Informed => "informed",
            ParticipantRole::Observer => "observer",
        }
    }
}

/// Attendance at the meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Attendance {
    /// In the room.
    Present,
    /// Attended remotely.
    Remote,
    /// Sent apologies.
    Apologies,
    /// Absent without apologies.
    Absent,
}

impl Attendance {
    /// The spelling used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Attendance::Present => "present",
            Attendance::Remote => "remote",
            Attendance::Apologies => "apologies",
            Attendance::Absent => "absent",
        }
    }
}

/// A vote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Vote {
    /// How the vote was taken.
    pub method: VoteMethod,
    /// The tally.
    pub counts: VoteCounts,
    /// Individual votes, when recorded (roll call); they must add up to `counts`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub votes: Vec<ParticipantVote>,
    /// The result, which must follow from `counts`.
    pub result: VoteResult,
    /// Whether the chair's casting vote decided a tie.
    #[serde(default, skip_serializing_if = "is_false")]
    pub casting_vote: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// How a vote was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoteMethod {
    /// Agreed without a count of dissent.
    Consensus,
    /// Show of hands.
    ShowOfHands,
    /// Roll call (individual votes recorded).
    RollCall,
    /// Secret ballot.
    Ballot,
}

/// The tally of a vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteCounts {
    /// Votes for.
    #[serde(rename = "for")]
    pub in_favour: u32,
    /// Votes against.
    pub against: u32,
    /// Abstentions.
    pub abstain: u32,
}

/// One participant's vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantVote {
    /// Index into `participants`.
    pub participant: usize,
    /// How they voted.
    pub vote: VoteChoice,
}

/// A single vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoteChoice {
    /// For.
    For,
    /// Against.
    Against,
    /// Abstained.
    Abstain,
    /// Absent for the vote.
    Absent,
}

/// The result of a vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoteResult {
    /// The motion passed.
    Passed,
    /// The motion failed.
    Failed,
}

/// Who may read a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// Anyone.
    Public,
    /// Staff of the organisation.
    Internal,
    /// Withheld as exempt information; only its existence, date, body and public summary are public.
    Restricted,
}

impl Classification {
    /// The spelling used in JSON, filters and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Public => "public",
            Classification::Internal => "internal",
            Classification::Restricted => "restricted",
        }
    }
}

/// Why a restricted record is withheld (Local Government Act 1972, Schedule 12A).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Exemption {
    /// The Schedule 12A paragraph, 1 to 7.
    #[schema(minimum = 1, maximum = 7)]
    pub paragraph: u8,
    /// Why the public interest in withholding outweighs that in disclosure.
    pub public_interest_reason: String,
    /// What the public may know of the decision.
    pub public_summary: String,
}

/// A document the decision rests on, committed by hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// The document's title.
    pub title: String,
    /// Where it can be read (an absolute URI).
    pub uri: String,
    /// SHA-256 of the document's bytes, lowercase hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
}

/// Input that informed the decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Who gave it.
    pub kind: InputKind,
    /// What they said.
    pub summary: String,
    /// Where it is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// Where input came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// Residents, service users, community groups.
    Community,
    /// The organisation's staff.
    Staff,
    /// Experts and advisers.
    Expert,
}

/// One reason a submitted record was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// The offending field, e.g. `participants[2].attendance` (empty for the whole body).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// An error about `field`. Field paths and messages can quote the request (an unknown
    /// member's name, serde's "unknown variant `…`"), so both are cut to a bounded length: an
    /// error never echoes more than a few hundred characters of what was sent.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        let bounded = |text: String, max| match crate::text::truncate(&text, max) {
            std::borrow::Cow::Borrowed(_) => text,
            std::borrow::Cow::Owned(cut) => cut,
        };
        FieldError {
            field: bounded(field.into(), MAX_ERROR_FIELD_CHARS),
            message: bounded(message.into(), MAX_ERROR_MESSAGE_CHARS),
        }
    }
}

/// Which values a record commits rather than embeds, and who may see each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Anyone who may read the record.
    Public,
    /// Readers cleared for the record's classification.
    Classified(Classification),
}

impl Visibility {
    /// The spelling stored beside a disclosure.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Classified(c) => c.as_str(),
        }
    }
}

/// Top-level fields a non-public record withholds from the hashed entry.
pub const WITHHELD_FIELDS: &[&str] = &[
    "title",
    "decision",
    "decision_maker",
    "reasons",
    "alternatives",
    "conflicts",
    "participants",
    "vote",
    "documents",
    "success_measures",
    "input_from",
    "tags",
    "areas",
];

pub(crate) const FIELDS: &[&str] = &[
    "title",
    "decision",
    "decided_on",
    "body",
    "decision_maker",
    "decision_type",
    "reasons",
    "alternatives",
    "conflicts",
    "participants",
    "vote",
    "classification",
    "exemption",
    "documents",
    "success_measures",
    "review_on",
    "input_from",
    "effective_from",
    "tags",
    "areas",
];

impl DecisionRecord {
    /// Parses and validates a submitted record. `today` is the server's date; a decision dated
    /// later than tomorrow is refused (a day's slack covers time zones ahead of UTC).
    ///
    /// Each field is read on its own, and the checks of a field run whenever that field parsed,
    /// whatever became of the others: a wrong type in one field, an unknown value in another and
    /// a date in the future in a third are refused together. A check that relates two fields
    /// (a review date and the decision date, a conflict and the participants) runs when both
    /// parsed.
    pub fn from_json(value: &Value, today: NaiveDate) -> Result<DecisionRecord, Vec<FieldError>> {
        let Some(object) = value.as_object() else {
            return Err(vec![FieldError::new("", "the body must be a JSON object")]);
        };
        let mut errors = Vec::new();
        for key in object.keys() {
            if !FIELDS.contains(&key.as_str()) {
                errors.push(FieldError::new(key, "unknown field"));
            }
        }
        let mut p = Parser { object, errors };
        let parsed = p.parse();
        let mut errors = p.errors;
        parsed.check(today, &mut errors);
        let record = parsed.complete();
        if let Some(record) = &record
            && errors.is_empty()
        {
            let size = serde_json::to_value(record)
                .ok()
                .and_then(|v| ledger::canonical::to_canonical_bytes(&v).ok())
                .map_or(usize::MAX, |bytes| bytes.len());
            if size > MAX_RECORD_BYTES {
                errors.push(FieldError::new(
                    "",
                    format!(
                        "the record is {size} bytes in canonical form (RFC 8785); a record is \
                         at most {MAX_RECORD_BYTES}"
                    ),
                ));
            }
        }
        match record {
            Some(record) if errors.is_empty() => Ok(record),
            _ => Err(errors),
        }
    }

    /// The hashed form of the record and the disclosures that open its commitments. `salt` is
    /// called once per committed value and MUST return fresh random bytes.
    pub fn commit(
        &self,
        mut salt: impl FnMut() -> [u8; 16],
    ) -> (Value, Vec<(Disclosure, Visibility)>) {
        let mut record = serde_json::to_value(self).unwrap_or(Value::Null);
        let public = self.classification == Classification::Public;
        let personal_visibility = if public {
            Visibility::Public
        } else {
            Visibility::Classified(self.classification)
        };
        // Every name is committed, a body's too: the writer cannot tell a body's name from a
        // person's typed under kind `body`, and only a committed value can be erased.
        let mut paths = vec!["/decision_maker/name".to_owned()];
        for i in 0..self.participants.len() {
            paths.push(format!("/participants/{i}/name"));
        }
        if let Conflicts::Declared(list) = &self.conflicts {
            for (i, c) in list.iter().enumerate() {
                if c.dispensation.is_some() {
                    paths.push(format!("/conflicts/{i}/dispensation/granted_by"));
                }
            }
        }
        let mut out = Vec::new();
        for path in paths {
            if let Ok(d) = ledger::disclosure::commit(&mut record, &path, salt()) {
                out.push((d, personal_visibility));
            }
        }
        if !public {
            for field in WITHHELD_FIELDS {
                let path = format!("/{field}");
                if record.pointer(&path).is_some()
                    && let Ok(d) = ledger::disclosure::commit(&mut record, &path, salt())
                {
                    out.push((d, Visibility::Classified(self.classification)));
                }
            }
        }
        (record, out)
    }
}

/// A record's fields as far as they parsed: `None` for a field that did not, whose error is
/// already named. The checks run on this, so that one bad field hides no other field's errors.
struct Parsed {
    title: Option<String>,
    decision: Option<String>,
    decided_on: Option<NaiveDate>,
    body: Option<String>,
    decision_maker: Option<DecisionMaker>,
    decision_type: Option<DecisionType>,
    reasons: Option<String>,
    alternatives: Option<Alternatives>,
    conflicts: Option<Conflicts>,
    participants: Option<Vec<Participant>>,
    vote: Option<Option<Vote>>,
    classification: Option<Classification>,
    exemption: Option<Option<Exemption>>,
    documents: Option<Vec<Document>>,
    success_measures: Option<Option<String>>,
    review_on: Option<Option<NaiveDate>>,
    input_from: Option<Vec<Input>>,
    effective_from: Option<Option<NaiveDate>>,
    tags: Option<Vec<String>>,
    areas: Option<Vec<String>>,
}

impl Parsed {
    /// The record, when every field parsed.
    fn complete(self) -> Option<DecisionRecord> {
        Some(DecisionRecord {
            title: self.title?,
            decision: self.decision?,
            decided_on: self.decided_on?,
            body: self.body?,
            decision_maker: self.decision_maker?,
            decision_type: self.decision_type?,
            reasons: self.reasons?,
            alternatives: self.alternatives?,
            conflicts: self.conflicts?,
            participants: self.participants?,
            vote: self.vote?,
            classification: self.classification?,
            exemption: self.exemption?,
            documents: self.documents?,
            success_measures: self.success_measures?,
            review_on: self.review_on?,
            input_from: self.input_from?,
            effective_from: self.effective_from?,
            tags: self.tags?,
            areas: self.areas?,
        })
    }

    fn check(&self, today: NaiveDate, errors: &mut Vec<FieldError>) {
        self.check_text(errors);
        let mut require_text = |field: String, text: &str| {
            if text.trim().is_empty() {
                errors.push(FieldError::new(field, "must not be empty"));
            }
        };
        if let Some(maker) = &self.decision_maker {
            require_text("decision_maker.name".into(), &maker.name);
        }
        if let Some(Alternatives::Considered(list)) = &self.alternatives {
            for (i, a) in list.iter().enumerate() {
                require_text(format!("alternatives[{i}].option"), &a.option);
                require_text(format!("alternatives[{i}].why_rejected"), &a.why_rejected);
            }
        }
        if let Some(Conflicts::Declared(list)) = &self.conflicts {
            for (i, c) in list.iter().enumerate() {
                require_text(format!("conflicts[{i}].nature"), &c.nature);
                if let Some(d) = &c.dispensation {
                    require_text(
                        format!("conflicts[{i}].dispensation.granted_by"),
                        &d.granted_by,
                    );
                }
            }
        }
        for (i, p) in self.participants.iter().flatten().enumerate() {
            require_text(format!("participants[{i}].name"), &p.name);
        }
        for (i, d) in self.documents.iter().flatten().enumerate() {
            require_text(format!("documents[{i}].title"), &d.title);
        }
        for (i, input) in self.input_from.iter().flatten().enumerate() {
            require_text(format!("input_from[{i}].summary"), &input.summary);
        }
        if let Some(Some(e)) = &self.exemption {
            require_text(
                "exemption.public_interest_reason".into(),
                &e.public_interest_reason,
            );
            require_text("exemption.public_summary".into(), &e.public_summary);
        }
        if let Some(Some(s)) = &self.success_measures {
            require_text("success_measures".into(), s);
        }

        if let Some(decided_on) = self.decided_on {
            if decided_on > today + chrono::Days::new(1) {
                errors.push(FieldError::new("decided_on", "must not be in the future"));
            }
            for (field, date) in [
                ("review_on", self.review_on),
                ("effective_from", self.effective_from),
            ] {
                if date.flatten().is_some_and(|d| d < decided_on) {
                    errors.push(FieldError::new(field, "must not be before decided_on"));
                }
            }
        }

        // The number of participants, when they parsed: what conflicts and votes refer to.
        let participants = self.participants.as_ref().map(Vec::len);
        if let Some(list) = &self.participants {
            if list.is_empty() {
                errors.push(FieldError::new(
                    "participants",
                    "must list at least one participant",
                ));
            } else if !list
                .iter()
                .any(|p| p.role == ParticipantRole::DecisionMaker)
            {
                errors.push(FieldError::new(
                    "participants",
                    "must include at least one participant with role decision_maker",
                ));
            }
        }
        if let Some(Conflicts::Declared(list)) = &self.conflicts {
            for (i, c) in list.iter().enumerate() {
                if let Some(n) = participants
                    && c.participant >= n
                {
                    errors.push(FieldError::new(
                        format!("conflicts[{i}].participant"),
                        format!(
                            "must be the index of a participant (0 to {})",
                            n.saturating_sub(1)
                        ),
                    ));
                }
            }
        }
        if let Some(Some(vote)) = &self.vote {
            if vote.votes.len() > MAX_PARTICIPANTS {
                errors.push(too_many("vote.votes", MAX_PARTICIPANTS, vote.votes.len()));
            } else {
                check_vote(vote, participants, errors);
            }
        }

        match (self.classification, &self.exemption) {
            (Some(Classification::Restricted), Some(None)) => errors.push(FieldError::new(
                "exemption",
                "a restricted record must give its exemption (Schedule 12A paragraph, public interest reason, public summary)",
            )),
            (Some(Classification::Public | Classification::Internal), Some(Some(_))) => errors.push(
                FieldError::new("exemption", "only a restricted record has an exemption"),
            ),
            _ => {}
        }
        if let Some(Some(e)) = &self.exemption
            && !(1..=7).contains(&e.paragraph)
        {
            errors.push(FieldError::new(
                "exemption.paragraph",
                "must be a Schedule 12A paragraph, 1 to 7",
            ));
        }

        for (i, d) in self.documents.iter().flatten().enumerate() {
            if !is_absolute_uri(&d.uri) {
                errors.push(FieldError::new(
                    format!("documents[{i}].uri"),
                    "must be an absolute URI",
                ));
            }
            if ledger::Hash::parse(&d.sha256).is_err() {
                errors.push(FieldError::new(
                    format!("documents[{i}].sha256"),
                    "must be 64 lowercase hexadecimal characters",
                ));
            }
        }
        for (i, input) in self.input_from.iter().flatten().enumerate() {
            if input.uri.as_deref().is_some_and(|u| !is_absolute_uri(u)) {
                errors.push(FieldError::new(
                    format!("input_from[{i}].uri"),
                    "must be an absolute URI",
                ));
            }
        }
        for (field, list) in [("tags", &self.tags), ("areas", &self.areas)] {
            // A set, not a scan of the items before: the check stays linear in the list.
            let list = list.as_deref().unwrap_or_default();
            let mut seen = std::collections::HashSet::with_capacity(list.len());
            for (i, tag) in list.iter().enumerate() {
                if tag.trim() != tag || tag.is_empty() {
                    errors.push(FieldError::new(
                        format!("{field}[{i}]"),
                        format!("must be 1 to {MAX_TAG_CHARS} characters with no leading or trailing space"),
                    ));
                } else if !seen.insert(tag.as_str()) {
                    errors.push(FieldError::new(format!("{field}[{i}]"), "is listed twice"));
                }
            }
        }
    }

    /// The text rules of `crate::text`: lines (names, titles, offices, tags, URIs) and prose.
    /// Blank required text is reported by `check` as empty, not here.
    fn check_text(&self, errors: &mut Vec<FieldError>) {
        let mut line = |field: &dyn Fn() -> String, text: &str, max: usize| {
            if let Some(message) = crate::text::line_problem(text, max) {
                errors.push(FieldError::new(field(), message));
            }
        };
        if let Some(title) = &self.title {
            line(&|| "title".into(), title, MAX_TITLE_CHARS);
        }
        if let Some(maker) = &self.decision_maker {
            line(
                &|| "decision_maker.name".into(),
                &maker.name,
                MAX_NAME_CHARS,
            );
            if let Some(title) = &maker.title {
                line(&|| "decision_maker.title".into(), title, MAX_NAME_CHARS);
            }
        }
        for (i, p) in self.participants.iter().flatten().enumerate() {
            line(
                &|| format!("participants[{i}].name"),
                &p.name,
                MAX_NAME_CHARS,
            );
            if let Some(org) = &p.organisation {
                line(
                    &|| format!("participants[{i}].organisation"),
                    org,
                    MAX_NAME_CHARS,
                );
            }
        }
        if let Some(Conflicts::Declared(list)) = &self.conflicts {
            for (i, c) in list.iter().enumerate() {
                if let Some(d) = &c.dispensation {
                    line(
                        &|| format!("conflicts[{i}].dispensation.granted_by"),
                        &d.granted_by,
                        MAX_NAME_CHARS,
                    );
                }
            }
        }
        for (i, d) in self.documents.iter().flatten().enumerate() {
            line(
                &|| format!("documents[{i}].title"),
                &d.title,
                MAX_TITLE_CHARS,
            );
            line(&|| format!("documents[{i}].uri"), &d.uri, MAX_URI_CHARS);
        }
        for (i, input) in self.input_from.iter().flatten().enumerate() {
            if let Some(uri) = &input.uri {
                line(&|| format!("input_from[{i}].uri"), uri, MAX_URI_CHARS);
            }
        }
        for (field, list) in [("tags", &self.tags), ("areas", &self.areas)] {
            for (i, tag) in list.iter().flatten().enumerate() {
                line(&|| format!("{field}[{i}]"), tag, MAX_TAG_CHARS);
            }
        }

        let mut prose = |field: &dyn Fn() -> String, text: &str| {
            if let Some(message) = crate::text::prose_problem(text) {
                errors.push(FieldError::new(field(), message));
            }
        };
        if let Some(decision) = &self.decision {
            prose(&|| "decision".into(), decision);
        }
        if let Some(reasons) = &self.reasons {
            prose(&|| "reasons".into(), reasons);
        }
        if let Some(Alternatives::Considered(list)) = &self.alternatives {
            for (i, a) in list.iter().enumerate() {
                prose(&|| format!("alternatives[{i}].option"), &a.option);
                prose(
                    &|| format!("alternatives[{i}].why_rejected"),
                    &a.why_rejected,
                );
            }
        }
        if let Some(Conflicts::Declared(list)) = &self.conflicts {
            for (i, c) in list.iter().enumerate() {
                prose(&|| format!("conflicts[{i}].nature"), &c.nature);
                if let Some(note) = c.dispensation.as_ref().and_then(|d| d.note.as_ref()) {
                    prose(&|| format!("conflicts[{i}].dispensation.note"), note);
                }
            }
        }
        if let Some(Some(e)) = &self.exemption {
            prose(
                &|| "exemption.public_interest_reason".into(),
                &e.public_interest_reason,
            );
            prose(&|| "exemption.public_summary".into(), &e.public_summary);
        }
        if let Some(Some(s)) = &self.success_measures {
            prose(&|| "success_measures".into(), s);
        }
        for (i, input) in self.input_from.iter().flatten().enumerate() {
            prose(&|| format!("input_from[{i}].summary"), &input.summary);
        }
    }
}

/// Checks a vote; the participant indexes of individual votes only when `participants` (their
/// number) is known.
fn check_vote(vote: &Vote, participants: Option<usize>, errors: &mut Vec<FieldError>) {
    let c = vote.counts;
    if !vote.votes.is_empty() {
        let mut tally = VoteCounts {
            in_favour: 0,
            against: 0,
            abstain: 0,
        };
        let mut seen = participants.map(|n| vec![false; n]);
        for (i, v) in vote.votes.iter().enumerate() {
            match seen.as_mut().map(|seen| seen.get_mut(v.participant)) {
                None => {}
                Some(None) => errors.push(FieldError::new(
                    format!("vote.votes[{i}].participant"),
                    "must be the index of a participant",
                )),
                Some(Some(true)) => errors.push(FieldError::new(
                    format!("vote.votes[{i}].participant"),
                    "votes twice",
                )),
                Some(Some(slot)) => *slot = true,
            }
            match v.vote {
                VoteChoice::For => tally.in_favour += 1,
                VoteChoice::Against => tally.against += 1,
                VoteChoice::Abstain => tally.abstain += 1,
                VoteChoice::Absent => {}
            }
        }
        if tally != c {
            errors.push(FieldError::new(
                "vote.counts",
                format!(
                    "does not add up: the individual votes give {} for, {} against, {} abstaining",
                    tally.in_favour, tally.against, tally.abstain
                ),
            ));
        }
    }
    let tie = c.in_favour == c.against;
    if vote.casting_vote && !tie {
        errors.push(FieldError::new(
            "vote.casting_vote",
            "a casting vote decides only a tie",
        ));
    }
    let consistent = match vote.result {
        VoteResult::Passed => c.in_favour > c.against || (tie && vote.casting_vote),
        VoteResult::Failed => c.in_favour < c.against || tie,
    };
    if !consistent {
        errors.push(FieldError::new(
            "vote.result",
            format!(
                "does not follow from the counts ({} for, {} against{})",
                c.in_favour,
                c.against,
                if vote.casting_vote {
                    ", casting vote"
                } else {
                    ""
                }
            ),
        ));
    }
}

pub(crate) fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

pub(crate) fn is_absolute_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
        && !text.chars().any(char::is_whitespace)
}

/// Reads each field on its own so that one bad field does not hide the next.
struct Parser<'a> {
    object: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl Parser<'_> {
    fn parse(&mut self) -> Parsed {
        let title = self.required_text("title");
        let decision = self.required_text("decision");
        let decided_on = self.required_date("decided_on");
        let body = self.required_slug("body");
        let decision_maker = self.required("decision_maker");
        let decision_type = self.required("decision_type");
        let reasons = self.required_text("reasons");
        let alternatives = self.either(
            "alternatives",
            NoneConsidered::NoneConsidered,
            "none_considered",
            MAX_ALTERNATIVES,
        );
        let conflicts = self.either(
            "conflicts",
            NoneDeclared::NoneDeclared,
            "none_declared",
            MAX_CONFLICTS,
        );
        let participants = self.list("participants", true, MAX_PARTICIPANTS);
        let vote = self.optional("vote");
        let classification = self.required("classification");
        let exemption = self.optional("exemption");
        let documents = self.list("documents", false, MAX_DOCUMENTS);
        let success_measures = self.optional("success_measures");
        let review_on = self.optional_date("review_on");
        let input_from = self.list("input_from", false, MAX_INPUTS);
        let effective_from = self.optional_date("effective_from");
        let tags = self.list("tags", false, MAX_TAGS);
        let areas = self.list("areas", false, MAX_TAGS);
        Parsed {
            title,
            decision,
            decided_on,
            body,
            decision_maker,
            decision_type,
            reasons,
            alternatives: alternatives.map(|e| match e {
                Either::List(l) => Alternatives::Considered(l),
                Either::Word(w) => Alternatives::None(w),
            }),
            conflicts: conflicts.map(|e| match e {
                Either::List(l) => Conflicts::Declared(l),
                Either::Word(w) => Conflicts::None(w),
            }),
            participants,
            vote,
            classification,
            exemption,
            documents,
            success_measures,
            review_on,
            input_from,
            effective_from,
            tags,
            areas,
        }
    }

    fn decode<T: DeserializeOwned>(&mut self, field: &str, value: &Value) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => Some(v),
            Err(e) => {
                let path = e.path().to_string();
                let name = match path.as_str() {
                    "." => field.to_owned(),
                    p if p.starts_with('[') => format!("{field}{p}"),
                    p => format!("{field}.{p}"),
                };
                self.errors
                    .push(FieldError::new(name, e.into_inner().to_string()));
                None
            }
        }
    }

    fn required<T: DeserializeOwned>(&mut self, field: &str) -> Option<T> {
        match self.object.get(field) {
            None | Some(Value::Null) => {
                self.errors.push(FieldError::new(field, "is required"));
                None
            }
            Some(value) => self.decode(field, value),
        }
    }

    /// Required text that is not blank.
    fn required_text(&mut self, field: &str) -> Option<String> {
        let text: String = self.required(field)?;
        if text.trim().is_empty() {
            self.errors
                .push(FieldError::new(field, "must not be empty"));
            return None;
        }
        Some(text)
    }

    /// A slug: 1 to 64 lowercase letters, digits and single hyphens.
    fn required_slug(&mut self, field: &str) -> Option<String> {
        let text: String = self.required(field)?;
        if !is_slug(&text) {
            self.errors.push(FieldError::new(
                field,
                "must be a slug: 1 to 64 lowercase letters, digits and single hyphens",
            ));
            return None;
        }
        Some(text)
    }

    fn optional<T: DeserializeOwned>(&mut self, field: &str) -> Option<Option<T>> {
        match self.object.get(field) {
            None | Some(Value::Null) => Some(None),
            Some(value) => self.decode(field, value).map(Some),
        }
    }

    fn required_date(&mut self, field: &str) -> Option<NaiveDate> {
        let text: String = self.required(field)?;
        self.date(field, &text)
    }

    fn optional_date(&mut self, field: &str) -> Option<Option<NaiveDate>> {
        match self.optional::<String>(field)? {
            None => Some(None),
            Some(text) => self.date(field, &text).map(Some),
        }
    }

    fn date(&mut self, field: &str, text: &str) -> Option<NaiveDate> {
        match parse_date(text) {
            Ok(d) => Some(d),
            Err(message) => {
                self.errors.push(FieldError::new(field, message));
                None
            }
        }
    }

    /// A list of at most `max` elements, decoded one by one so that every bad element is named.
    /// A longer list is refused whole, before any element is decoded: the errors of one request
    /// stay bounded by the limits, not by the size of the body.
    fn list<T: DeserializeOwned>(
        &mut self,
        field: &str,
        required: bool,
        max: usize,
    ) -> Option<Vec<T>> {
        let items = match self.object.get(field) {
            None | Some(Value::Null) if required => {
                self.errors.push(FieldError::new(field, "is required"));
                return None;
            }
            None | Some(Value::Null) => return Some(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(_) => {
                self.errors.push(FieldError::new(field, "must be an array"));
                return None;
            }
        };
        if items.len() > max {
            self.errors.push(too_many(field, max, items.len()));
            return None;
        }
        let decoded: Vec<Option<T>> = items
            .iter()
            .enumerate()
            .map(|(i, v)| self.decode(&format!("{field}[{i}]"), v))
            .collect();
        decoded.into_iter().collect()
    }

    /// A non-empty list, or the one word that says there is nothing to list.
    fn either<T: DeserializeOwned, W>(
        &mut self,
        field: &str,
        word: W,
        spelling: &str,
        max: usize,
    ) -> Option<Either<T, W>> {
        match self.object.get(field) {
            Some(Value::String(s)) if s == spelling => Some(Either::Word(word)),
            Some(Value::Array(items)) if items.is_empty() => {
                self.errors.push(FieldError::new(
                    field,
                    format!("must not be empty: list at least one, or say \"{spelling}\""),
                ));
                None
            }
            Some(Value::Array(_)) => self.list(field, true, max).map(Either::List),
            None | Some(Value::Null) => {
                self.errors.push(FieldError::new(
                    field,
                    format!("is required: list at least one, or say \"{spelling}\""),
                ));
                None
            }
            Some(_) => {
                self.errors.push(FieldError::new(
                    field,
                    format!("must be an array, or the string \"{spelling}\""),
                ));
                None
            }
        }
    }
}

enum Either<T, W> {
    List(Vec<T>),
    Word(W),
}

fn too_many(field: &str, max: usize, got: usize) -> FieldError {
    FieldError::new(field, format!("must list at most {max} items, not {got}"))
}

/// Parses a `YYYY-MM-DD` date between [`EARLIEST_YEAR`] and [`LATEST_YEAR`]: every date of
/// every request goes through here.
pub(crate) fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let well_formed = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !well_formed {
        return Err(format!("must be a date as YYYY-MM-DD, not {text:?}"));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("{text} is not a calendar date"))?;
    if !(EARLIEST_YEAR..=LATEST_YEAR).contains(&chrono::Datelike::year(&date)) {
        return Err(format!(
            "must be between {EARLIEST_YEAR}-01-01 and {LATEST_YEAR}-12-31, not {text}"
        ));
    }
    Ok(date)
}

pub(crate) fn date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_date(&text).map_err(serde::de::Error::custom)
}

pub(crate) fn optional_date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<NaiveDate>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|text| parse_date(&text).map_err(serde::de::Error::custom))
        .transpose()
}

/// A complete, realistic record: the example in the OpenAPI spec, accepted as is by the server.
pub fn example() -> Value {
    json!({
        "title": "Close Northgate depot and move waste collection to Southfield",
        "decision": "Northgate depot closes on 31 March 2027. Waste and recycling rounds move to the Southfield site, which is extended with a covered vehicle bay.",
        "decided_on": "2026-11-18",
        "body": "cabinet",
        "decision_maker": {"kind": "body", "name": "Cabinet"},
        "decision_type": "key",
        "reasons": "The Northgate lease ends in 2027 and the building needs £2.1m of repairs. Southfield has space for the fleet and cuts average round mileage by 9%.",
        "alternatives": [
            {"option": "Renew the Northgate lease and repair the building", "why_rejected": "£2.1m capital cost with no improvement to rounds."},
            {"option": "Outsource waste collection", "why_rejected": "Market testing in 2025 gave no bid below current cost."}
        ],
        "conflicts": [
            {"participant": 2, "nature": "Lives on a road next to the Southfield site.", "dispensation": {"granted_by": "Monitoring Officer", "granted_on": "2026-11-10", "note": "May speak and vote; the interest is shared with many residents."}}
        ],
        "participants": [
            {"name": "Cllr Amina Okafor", "role": "chair", "organisation": "Cabinet", "attendance": "present"},
            {"name": "Cllr Tom Reid", "role": "decision_maker", "organisation": "Cabinet", "attendance": "present"},
            {"name": "Cllr Priya Shah", "role": "decision_maker", "organisation": "Cabinet", "attendance": "remote"},
            {"name": "Cllr Owen Hughes", "role": "decision_maker", "organisation": "Cabinet", "attendance": "apologies"},
            {"name": "Dana Mills", "role": "advisor", "organisation": "Environmental Services", "attendance": "present"}
        ],
        "vote": {
            "method": "roll_call",
            "counts": {"for": 2, "against": 1, "abstain": 0},
            "votes": [
                {"participant": 0, "vote": "for"},
                {"participant": 1, "vote": "for"},
                {"participant": 2, "vote": "against"},
                {"participant": 3, "vote": "absent"}
            ],
            "result": "passed"
        },
        "classification": "public",
        "documents": [
            {"title": "Depot options appraisal", "uri": "https://intranet.example.gov.uk/papers/cabinet/2026-11-18/item-7.pdf", "sha256": "9f2c8d3b6a1e4f5071c2d8e9a0b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5"}
        ],
        "success_measures": "Round mileage down at least 8% and no missed-collection rise over 2% in the first six months.",
        "review_on": "2027-10-01",
        "input_from": [
            {"kind": "staff", "summary": "Crews asked for covered parking and earlier site opening.", "uri": "https://intranet.example.gov.uk/consultations/depot-staff"},
            {"kind": "community", "summary": "Southfield residents raised traffic at school times; rounds will leave before 07:30."}
        ],
        "effective_from": "2026-11-26",
        "tags": ["waste", "property"],
        "areas": ["Northgate", "Southfield"]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).expect("date")
    }

    fn fields(result: Result<DecisionRecord, Vec<FieldError>>) -> Vec<String> {
        result
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn the_example_is_accepted_and_round_trips() {
        let record = DecisionRecord::from_json(&example(), today()).expect("valid");
        assert_eq!(
            serde_json::to_value(&record).expect("serialises"),
            example()
        );
    }

    #[test]
    fn every_offending_field_is_named() {
        let mut bad = example();
        bad["title"] = json!("  ");
        bad["decided_on"] = json!("18/11/2026");
        bad["participants"][1]["attendance"] = json!("asleep");
        bad["participants"][4]["role"] = json!(7);
        bad["alternatives"] = json!([]);
        bad["colour"] = json!("blue");
        let got = fields(DecisionRecord::from_json(&bad, today()));
        for want in [
            "title",
            "decided_on",
            "participants[1].attendance",
            "participants[4].role",
            "alternatives",
            "colour",
        ] {
            assert!(
                got.contains(&want.to_owned()),
                "{want} missing from {got:?}"
            );
        }
    }

    #[test]
    fn a_parse_error_hides_no_other_fields_check() {
        let mut bad = example();
        bad["reasons"] = json!(42);
        bad["decision_maker"]["kind"] = json!("executive");
        bad["decided_on"] = json!("2026-12-25");
        bad["vote"]["result"] = json!("failed");
        bad["documents"][0]["sha256"] = json!("ABC");
        let mut got = fields(DecisionRecord::from_json(&bad, today()));
        got.sort();
        assert_eq!(
            got,
            [
                "decided_on",
                "decision_maker.kind",
                "documents[0].sha256",
                // The example takes effect before the new decision date.
                "effective_from",
                "reasons",
                "vote.result"
            ]
        );
        // A check relating two fields waits for both: with the participants unreadable, a
        // conflict's index into them is not judged.
        let mut bad = example();
        bad["participants"] = json!("everyone");
        bad["conflicts"][0]["participant"] = json!(99);
        assert_eq!(
            fields(DecisionRecord::from_json(&bad, today())),
            ["participants"]
        );
    }

    #[test]
    fn a_vote_that_does_not_add_up_is_refused() {
        let mut bad = example();
        bad["vote"]["counts"]["for"] = json!(3);
        assert_eq!(
            fields(DecisionRecord::from_json(&bad, today())),
            vec!["vote.counts".to_owned()]
        );
        let mut bad = example();
        bad["vote"]["result"] = json!("failed");
        assert_eq!(
            fields(DecisionRecord::from_json(&bad, today())),
            vec!["vote.result".to_owned()]
        );
    }

    #[test]
    fn a_tie_passes_only_on_a_casting_vote() {
        let mut tie = example();
        tie["vote"] = json!({"method": "show_of_hands", "counts": {"for": 2, "against": 2, "abstain": 0}, "result": "passed"});
        assert_eq!(
            fields(DecisionRecord::from_json(&tie, today())),
            vec!["vote.result".to_owned()]
        );
        tie["vote"]["casting_vote"] = json!(true);
        assert!(DecisionRecord::from_json(&tie, today()).is_ok());
    }

    #[test]
    fn a_restricted_record_needs_an_exemption() {
        let mut bad = example();
        bad["classification"] = json!("restricted");
        assert_eq!(
            fields(DecisionRecord::from_json(&bad, today())),
            vec!["exemption".to_owned()]
        );
    }

    #[test]
    fn a_record_needs_a_decision_maker_among_its_participants() {
        let mut bad = example();
        for p in bad["participants"].as_array_mut().expect("array") {
            p["role"] = json!("consulted");
        }
        assert_eq!(
            fields(DecisionRecord::from_json(&bad, today())),
            vec!["participants".to_owned()]
        );
    }

    #[test]
    fn dates_must_be_real_and_in_order() {
        let mut bad = example();
        bad["decided_on"] = json!("2026-02-30");
        bad["review_on"] = json!("2026-13-01");
        assert_eq!(
            fields(DecisionRecord::from_json(&bad, today())),
            vec!["decided_on".to_owned(), "review_on".to_owned()]
        );
        let mut bad = example();
        bad["decided_on"] = json!("2026-12-25");
        assert!(
            fields(DecisionRecord::from_json(&bad, today())).contains(&"decided_on".to_owned())
        );
        let mut bad = example();
        bad["effective_from"] = json!("2026-01-01");
        assert_eq!(
            fields(DecisionRecord::from_json(&bad, today())),
            vec!["effective_from".to_owned()]
        );
    }

    #[test]
    fn a_list_over_its_limit_is_refused_whole_with_one_error() {
        let mut bad = example();
        bad["tags"] = json!(vec!["waste"; 60_000]);
        bad["participants"] = json!(vec![bad["participants"][1].clone(); MAX_PARTICIPANTS + 1]);
        bad["alternatives"] = json!(vec![bad["alternatives"][0].clone(); MAX_ALTERNATIVES + 1]);
        bad["documents"] = json!(vec![bad["documents"][0].clone(); MAX_DOCUMENTS + 1]);
        bad["areas"] = json!(vec![json!(7); MAX_TAGS + 1]);
        let errors = DecisionRecord::from_json(&bad, today())
            .err()
            .unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["alternatives", "participants", "documents", "tags", "areas"]
        );
        assert!(errors[3].message.contains("at most 50"), "{:?}", errors[3]);
    }

    #[test]
    fn lists_at_their_limits_are_accepted() {
        let mut full = example();
        full["tags"] = json!((0..MAX_TAGS).map(|i| format!("t{i}")).collect::<Vec<_>>());
        full["areas"] = json!((0..MAX_TAGS).map(|i| format!("a{i}")).collect::<Vec<_>>());
        let mut people = vec![full["participants"][1].clone(); MAX_PARTICIPANTS];
        for (i, p) in people.iter_mut().enumerate() {
            p["name"] = json!(format!("P{i}"));
        }
        full["participants"] = json!(people);
        assert!(DecisionRecord::from_json(&full, today()).is_ok());
    }

    #[test]
    fn duplicate_tags_are_found_with_a_set_after_normalisation() {
        let mut bad = example();
        let mut tags: Vec<String> = (0..MAX_TAGS - 1).map(|i| format!("t{i}")).collect();
        tags.push("t0".into());
        bad["tags"] = json!(tags);
        assert_eq!(
            fields(DecisionRecord::from_json(&bad, today())),
            vec![format!("tags[{}]", MAX_TAGS - 1)]
        );
        // Two spellings of "café" are one tag once the body is normalised to NFC.
        let mut body = example();
        body["areas"] = json!(["caf\u{e9}", "cafe\u{301}"]);
        crate::text::normalize(&mut body);
        assert_eq!(
            fields(DecisionRecord::from_json(&body, today())),
            vec!["areas[1]".to_owned()]
        );
    }

    #[test]
    fn invisible_and_control_characters_are_refused_where_they_mislead() {
        let mut bad = example();
        bad["title"] = json!("Close the depot\u{0}");
        bad["tags"] = json!(["waste", "waste\u{200b}"]);
        bad["participants"][0]["name"] = json!("Cllr \u{202e}rofakO animA");
        bad["decision_maker"]["name"] = json!("Cabinet\u{feff}");
        bad["documents"][0]["title"] = json!("Options\nappraisal");
        bad["reasons"] = json!("Costs\r\nrise");
        assert_eq!(
            fields(DecisionRecord::from_json(&bad, today())),
            vec![
                "title",
                "decision_maker.name",
                "participants[0].name",
                "documents[0].title",
                "tags[1]",
                "reasons"
            ]
        );
        let mut prose = example();
        prose["reasons"] =
            json!("Costs rise.\n\n\tSee the appraisal. Emoji 👩\u{200d}💻 are fine.");
        assert!(DecisionRecord::from_json(&prose, today()).is_ok());
    }

    #[test]
    fn dates_before_1900_or_after_2199_are_refused() {
        for (date, ok) in [
            ("0000-01-01", false),
            ("1899-12-31", false),
            ("1900-01-01", true),
            ("2199-12-31", true),
            ("2200-01-01", false),
        ] {
            let mut record = example();
            record["decided_on"] = json!("1900-01-01");
            record["review_on"] = json!(date);
            record["effective_from"] = json!(date);
            record["conflicts"][0]["dispensation"]["granted_on"] = json!(date);
            let got = fields(DecisionRecord::from_json(&record, today()));
            if ok {
                assert!(got.is_empty(), "{date}: {got:?}");
            } else {
                assert_eq!(
                    got,
                    [
                        "conflicts[0].dispensation.granted_on",
                        "review_on",
                        "effective_from"
                    ],
                    "{date}"
                );
            }
        }
    }

    #[test]
    fn a_record_over_the_entry_size_is_refused_whatever_its_classification() {
        let mut big = example();
        big["classification"] = json!("restricted");
        big["exemption"] =
            json!({"paragraph": 3, "public_interest_reason": "r", "public_summary": "s"});
        big["reasons"] = json!("x".repeat(MAX_RECORD_BYTES));
        let errors = DecisionRecord::from_json(&big, today())
            .err()
            .unwrap_or_default();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "");
        assert!(errors[0].message.contains("65535"), "{:?}", errors[0]);
    }

    #[test]
    fn field_errors_never_echo_more_than_a_bounded_part_of_the_request() {
        let e = FieldError::new("k".repeat(100_000), "m".repeat(100_000));
        assert!(e.field.chars().count() <= MAX_ERROR_FIELD_CHARS + 1);
        assert!(e.message.chars().count() <= MAX_ERROR_MESSAGE_CHARS + 1);
        let mut bad = example();
        bad["x".repeat(10_000)] = json!(1);
        let errors = DecisionRecord::from_json(&bad, today())
            .err()
            .unwrap_or_default();
        assert!(errors[0].field.len() < 1_000);
    }

    #[test]
    fn a_public_record_commits_only_names() {
        let record = DecisionRecord::from_json(&example(), today()).expect("valid");
        let mut n = 0u8;
        let (hashed, disclosures) = record.commit(|| {
            n += 1;
            [n; 16]
        });
        let paths: Vec<&str> = disclosures.iter().map(|(d, _)| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/decision_maker/name",
                "/participants/0/name",
                "/participants/1/name",
                "/participants/2/name",
                "/participants/3/name",
                "/participants/4/name",
                "/conflicts/0/dispensation/granted_by"
            ]
        );
        assert!(!hashed.to_string().contains("Okafor"));
        assert_eq!(hashed["title"], example()["title"]);
        let mut revealed = hashed.clone();
        ledger::disclosure::reveal_all(&mut revealed, disclosures.iter().map(|(d, _)| d))
            .expect("opens");
        assert_eq!(revealed, example());
    }

    #[test]
    fn a_restricted_record_commits_everything_but_its_public_face() {
        let mut value = example();
        value["classification"] = json!("restricted");
        value["exemption"] = json!({"paragraph": 3, "public_interest_reason": "Commercial terms under negotiation.", "public_summary": "A depot decision."});
        let record = DecisionRecord::from_json(&value, today()).expect("valid");
        let (hashed, disclosures) = record.commit(|| [1; 16]);
        let text = hashed.to_string();
        assert!(!text.contains("Northgate depot closes"));
        assert!(!text.contains("Okafor"));
        assert!(text.contains("A depot decision."));
        assert!(
            disclosures
                .iter()
                .filter(|(_, v)| *v == Visibility::Classified(Classification::Restricted))
                .count()
                > WITHHELD_FIELDS.len() - 2
        );
        let mut revealed = hashed.clone();
        ledger::disclosure::reveal_all(&mut revealed, disclosures.iter().map(|(d, _)| d))
            .expect("opens");
        assert_eq!(revealed, value);
    }
}
