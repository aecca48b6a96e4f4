//! Lineage: everything that happens to a decision after it is recorded, as new entries.
//!
//! A record is never edited. An amendment, an outcome, a call-in status change, a rescission, a
//! supersession, an erasure or a publication is a new log entry whose `decision_id` names the
//! decision, and the decision's current state is derived by applying its entries in log order.
//!
//! This module is pure: it validates what a secretariat or redactor submits against the
//! decision's current state ([`Current`]), produces the hashed payload and its disclosures
//! ([`Planned`]), and gives the pieces of state derivation the read views use
//! ([`apply_amendment`], [`public_detail`], [`mark_erased`]). The
//! store calls it under the append lock, so a check and the append it permits see the same
//! state, and two rescissions racing each other cannot both succeed.
//!
//! Which entries a decision's status admits is not decided here: every request is checked with
//! [`ledger::lifecycle::Lifecycle::apply`], the transition function the verifier replays over
//! the log, so the service never appends an entry that verification would refuse. What stays
//! here is the request's own validity (fields, dates, text) and the API's schema of the
//! statuses ([`Status`], [`CallInStatus`]), which mirror the ledger's types one to one.
//!
//! The payload shapes are specified in `docs/log-format.md` §5; changing one is a new kind name.

use chrono::NaiveDate;
use ledger::lifecycle::{self, Event, Lifecycle};
use ledger::{Disclosure, EntryKind};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::record::{
    Classification, DecisionRecord, Document, FieldError, MAX_DOCUMENTS, MAX_NAME_CHARS,
    MAX_TITLE_CHARS, MAX_URI_CHARS, Visibility, WITHHELD_FIELDS,
};

/// Fields an amendment may correct. Fields that carry personal data (`decision_maker`,
/// `participants`, `conflicts`, `vote`) are corrected by erasure and a superseding record, so
/// that an erased name can never survive in an amendment's history; `body`, `classification`,
/// `exemption` and `effective_from` follow from the registry, publication and call-in.
pub const AMENDABLE_FIELDS: &[&str] = &[
    "title",
    "decision",
    "decided_on",
    "decision_type",
    "reasons",
    "alternatives",
    "documents",
    "success_measures",
    "review_on",
    "input_from",
    "tags",
    "areas",
];

/// Where a decision stands.
//
// The API's schema of `ledger::lifecycle::Status`, which the orphan rule keeps from deriving
// `ToSchema`: same variants, same spellings, converted both ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Standing (possibly after a call-in was upheld).
    InForce,
    /// Called in by scrutiny; not in effect until the call-in is resolved.
    CalledIn,
    /// Scrutiny referred it back to the decision maker for reconsideration.
    ReferredBack,
    /// Scrutiny referred it to full council.
    ReferredToCouncil,
    /// Rescinded.
    Rescinded,
    /// Superseded by another decision.
    Superseded,
}

impl Status {
    /// The spelling used in JSON, filters and the database.
    pub fn as_str(self) -> &'static str {
        lifecycle::Status::from(self).as_str()
    }

    /// The status spelt `text`.
    pub fn parse(text: &str) -> Option<Status> {
        lifecycle::Status::parse(text).map(Status::from)
    }

    /// Whether the decision has ended: nothing but erasure and publication may follow.
    pub fn is_final(self) -> bool {
        lifecycle::Status::from(self).is_final()
    }
}

impl From<Status> for lifecycle::Status {
    fn from(status: Status) -> lifecycle::Status {
        match status {
            Status::InForce => lifecycle::Status::InForce,
            Status::CalledIn => lifecycle::Status::CalledIn,
            Status::ReferredBack => lifecycle::Status::ReferredBack,
            Status::ReferredToCouncil => lifecycle::Status::ReferredToCouncil,
            Status::Rescinded => lifecycle::Status::Rescinded,
            Status::Superseded => lifecycle::Status::Superseded,
        }
    }
}

impl From<lifecycle::Status> for Status {
    fn from(status: lifecycle::Status) -> Status {
        match status {
            lifecycle::Status::InForce => Status::InForce,
            lifecycle::Status::CalledIn => Status::CalledIn,
            lifecycle::Status::ReferredBack => Status::ReferredBack,
            lifecycle::Status::ReferredToCouncil => Status::ReferredToCouncil,
            lifecycle::Status::Rescinded => Status::Rescinded,
            lifecycle::Status::Superseded => Status::Superseded,
        }
    }
}

/// Progress against the success measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// On course to meet the success measures.
    OnTrack,
    /// The success measures were met.
    Achieved,
    /// Some of them were met.
    PartlyAchieved,
    /// They were not met.
    NotAchieved,
    /// The work was abandoned.
    Abandoned,
}

impl OutcomeStatus {
    /// The spelling used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeStatus::OnTrack => "on_track",
            OutcomeStatus::Achieved => "achieved",
            OutcomeStatus::PartlyAchieved => "partly_achieved",
            OutcomeStatus::NotAchieved => "not_achieved",
            OutcomeStatus::Abandoned => "abandoned",
        }
    }
}

/// A call-in status change.
//
// The API's schema of `ledger::lifecycle::CallInStatus`, for the same reason as `Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallInStatus {
    /// Scrutiny called the decision in.
    CalledIn,
    /// Scrutiny (or council) let it stand; it takes effect on the given date.
    Upheld,
    /// Referred back to the decision maker.
    ReferredBack,
    /// Referred to full council.
    ReferredToCouncil,
}

impl From<CallInStatus> for lifecycle::CallInStatus {
    fn from(status: CallInStatus) -> lifecycle::CallInStatus {
        match status {
            CallInStatus::CalledIn => lifecycle::CallInStatus::CalledIn,
            CallInStatus::Upheld => lifecycle::CallInStatus::Upheld,
            CallInStatus::ReferredBack => lifecycle::CallInStatus::ReferredBack,
            CallInStatus::ReferredToCouncil => lifecycle::CallInStatus::ReferredToCouncil,
        }
    }
}

/// Correct named fields of a decision.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"changes": {"title": "Close Northgate depot and move collections to Southfield"}, "reason": "Typo in the published title"}))]
pub struct AmendmentRequest {
    /// The fields to correct and their new values, in the shape the record gives them. Fields
    /// that may be amended: title, decision, decided_on, decision_type, reasons, alternatives,
    /// documents, success_measures, review_on, input_from, tags, areas.
    #[schema(value_type = Object)]
    pub changes: Map<String, Value>,
    /// Why the record is corrected.
    pub reason: String,
}

/// Report progress against the success measures.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "on_track", "reported_on": "2026-12-01", "narrative": "Southfield absorbed all rounds; missed collections fell 12%.", "next_review_on": "2027-06-01"}))]
pub struct OutcomeRequest {
    /// How it is going.
    pub status: OutcomeStatus,
    /// When the outcome was assessed (default: today).
    #[serde(default, deserialize_with = "crate::record::optional_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub reported_on: Option<NaiveDate>,
    /// What happened, in plain words.
    pub narrative: String,
    /// Documents the assessment rests on, by hash.
    #[serde(default)]
    pub evidence: Vec<Document>,
    /// When to look again; absent when no further review is planned.
    #[serde(default, deserialize_with = "crate::record::optional_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub next_review_on: Option<NaiveDate>,
}

/// Record a call-in status change.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "called_in", "on": "2026-11-27", "note": "Called in by the Overview and Scrutiny Committee"}))]
pub struct CallInRequest {
    /// The new status.
    pub status: CallInStatus,
    /// When it changed; for `upheld`, the date the decision takes effect.
    #[serde(deserialize_with = "crate::record::date")]
    #[schema(value_type = String, format = Date)]
    pub on: NaiveDate,
    /// A note, e.g. who called it in and why.
    #[serde(default)]
    pub note: Option<String>,
}

/// Rescind a decision.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"rescinded_on": "2026-12-01", "reason": "Funding withdrawn"}))]
pub struct RescissionRequest {
    /// When it was rescinded (default: today).
    #[serde(default, deserialize_with = "crate::record::optional_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub rescinded_on: Option<NaiveDate>,
    /// Why.
    pub reason: String,
}

/// Mark a decision as superseded by another recorded decision.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"superseded_by": "01938a6e-5b2c-7d4e-8f00-3a1b2c3d4e5f", "reason": "Replaced by the revised depot plan"}))]
pub struct SupersessionRequest {
    /// The decision that replaces this one.
    pub superseded_by: uuid::Uuid,
    /// Why.
    pub reason: String,
}

/// Erase one personal value of a decision.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"path": "/participants/2/name", "basis": "UK GDPR Art. 17", "authorised_by": "Data Protection Officer", "reason": "Erasure request 2026-114 upheld"}))]
pub struct RedactionRequest {
    /// JSON Pointer of the value in the recorded record: `/decision_maker/name`,
    /// `/participants/N/name` or `/conflicts/N/dispensation/granted_by`.
    pub path: String,
    /// The legal basis, e.g. "UK GDPR Art. 17" or "LGA 1972 Sch. 12A para. 1".
    pub basis: String,
    /// The office that authorised the erasure (not a person's name).
    pub authorised_by: String,
    /// Why.
    pub reason: String,
}

/// Make withheld content of a decision public.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"fields": ["decision", "reasons"], "reason": "Contract signed; commercial sensitivity has lapsed"}))]
pub struct PublicationRequest {
    /// Withheld fields to publish; absent to publish the whole record and its lineage.
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    /// Why the information may now be public.
    pub reason: String,
}

/// What has been published of a non-public decision.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Published {
    /// Whether the whole record was published.
    pub record: bool,
    /// Fields published one by one.
    pub fields: Vec<String>,
}

impl Published {
    /// Whether `field` may be shown to anyone.
    pub fn covers(&self, field: &str) -> bool {
        self.record || self.fields.iter().any(|f| f == field)
    }
}

/// The decision as a lineage request is checked against.
#[derive(Debug, Clone)]
pub struct Current<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its record, with amendments applied.
    pub record: &'a DecisionRecord,
    /// Its lifecycle state: where it stands, whether it has ever been called in, its successor.
    pub lifecycle: Lifecycle,
    /// What has been published of it.
    pub published: &'a Published,
}

impl Current<'_> {
    /// Whether lineage entries must commit their free text: the record is not public and has not
    /// been published as a whole.
    fn withholds(&self) -> bool {
        self.record.classification != Classification::Public && !self.published.record
    }

    fn visibility(&self) -> Visibility {
        Visibility::Classified(self.record.classification)
    }
}

/// Why a lineage request was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The request is malformed; every offending field is named (422).
    Invalid(Vec<FieldError>),
    /// The request is well formed but the decision's state does not allow it (409).
    Conflict(String),
}

/// A lineage entry ready to append.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Its kind.
    pub kind: EntryKind,
    /// Its record, hashed form.
    pub record: Value,
    /// The disclosures opening the record's commitments.
    pub disclosures: Vec<(Disclosure, Visibility)>,
}

/// Parses a request body into `T`, naming every offending member (`crate::request`).
pub fn parse<T: DeserializeOwned + utoipa::PartialSchema>(body: &Value) -> Result<T, Refusal> {
    crate::request::parse(body).map_err(Refusal::Invalid)
}

/// Required prose (`crate::text`): not blank, no control character but newline and tab.
fn require_text(errors: &mut Vec<FieldError>, field: &str, text: &str) {
    if text.trim().is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
    } else if let Some(message) = crate::text::prose_problem(text) {
        errors.push(FieldError::new(field, message));
    }
}

/// A required line (`crate::text`) of at most `max` characters: a name, an office, a title.
fn require_line(errors: &mut Vec<FieldError>, field: &str, text: &str, max: usize) {
    if text.trim().is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
    } else if let Some(message) = crate::text::line_problem(text, max) {
        errors.push(FieldError::new(field, message));
    }
}

/// Whether the decision's lifecycle state admits `event`: the ledger's transition function, the
/// one the verifier replays. A state that does not admit it is a conflict (409).
fn admit(current: &Current<'_>, event: Event<'_>) -> Result<(), Refusal> {
    admit_on(&current.lifecycle, current.id, event)
}

fn admit_on(state: &Lifecycle, id: &str, event: Event<'_>) -> Result<(), Refusal> {
    state
        .apply(id, event)
        .map(drop)
        .map_err(|refusal| Refusal::Conflict(refusal.to_string()))
}

fn check_date(
    errors: &mut Vec<FieldError>,
    field: &str,
    date: NaiveDate,
    current: &Current<'_>,
    today: NaiveDate,
) {
    if date < current.record.decided_on {
        errors.push(FieldError::new(
            field,
            "must not be before the decision's decided_on",
        ));
    }
    if date > today + chrono::Days::new(1) {
        errors.push(FieldError::new(field, "must not be in the future"));
    }
}

fn check_documents(errors: &mut Vec<FieldError>, field: &str, documents: &[Document]) {
    if documents.len() > MAX_DOCUMENTS {
        errors.push(FieldError::new(
            field,
            format!(
                "must list at most {MAX_DOCUMENTS} items, not {}",
                documents.len()
            ),
        ));
        return;
    }
    for (i, d) in documents.iter().enumerate() {
        require_line(
            errors,
            &format!("{field}[{i}].title"),
            &d.title,
            MAX_TITLE_CHARS,
        );
        if let Some(message) = crate::text::line_problem(&d.uri, MAX_URI_CHARS) {
            errors.push(FieldError::new(format!("{field}[{i}].uri"), message));
        } else if !crate::record::is_absolute_uri(&d.uri) {
            errors.push(FieldError::new(
                format!("{field}[{i}].uri"),
                "must be an absolute URI",
            ));
        }
        if ledger::Hash::parse(&d.sha256).is_err() {
            errors.push(FieldError::new(
                format!("{field}[{i}].sha256"),
                "must be 64 lowercase hexadecimal characters",
            ));
        }
    }
}

fn invalid_unless_empty(errors: Vec<FieldError>) -> Result<(), Refusal> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Invalid(errors))
    }
}

/// Commits the members at `paths` (those present) and returns the payload with its disclosures.
fn finish(
    kind: EntryKind,
    mut record: Value,
    paths: &[String],
    current: &Current<'_>,
    salt: &mut impl FnMut() -> [u8; 16],
) -> Planned {
    let mut disclosures = Vec::new();
    if current.withholds() {
        for path in paths {
            if record.pointer(path).is_some()
                && let Ok(d) = ledger::disclosure::commit(&mut record, path, salt())
            {
                disclosures.push((d, current.visibility()));
            }
        }
    }
    Planned {
        kind,
        record,
        disclosures,
    }
}

impl AmendmentRequest {
    /// Checks the amendment against the current record and plans its entry.
    pub fn plan(
        &self,
        current: &Current<'_>,
        today: NaiveDate,
        mut salt: impl FnMut() -> [u8; 16],
    ) -> Result<Planned, Refusal> {
        let mut errors = Vec::new();
        require_text(&mut errors, "reason", &self.reason);
        if self.changes.is_empty() {
            errors.push(FieldError::new("changes", "must name at least one field"));
        }
        if self.changes.len() > AMENDABLE_FIELDS.len() {
            // More members than there are amendable fields: some are wrong, and naming each of
            // thousands of them would only amplify the request.
            errors.push(FieldError::new(
                "changes",
                format!(
                    "must name at most {} fields, not {}",
                    AMENDABLE_FIELDS.len(),
                    self.changes.len()
                ),
            ));
            return Err(Refusal::Invalid(errors));
        }
        for field in self.changes.keys() {
            if !AMENDABLE_FIELDS.contains(&field.as_str()) {
                let message = if crate::record::FIELDS.contains(&field.as_str()) {
                    "cannot be amended: personal data is corrected by erasure and a superseding \
                     decision; body, classification and exemption are fixed; effective_from \
                     follows from call-in"
                } else {
                    "unknown field"
                };
                errors.push(FieldError::new(format!("changes.{field}"), message));
            }
        }
        invalid_unless_empty(errors)?;
        admit(current, Event::Amended)?;

        let mut merged = serde_json::to_value(current.record).unwrap_or(Value::Null);
        let mut changed = false;
        for (field, value) in &self.changes {
            if merged.get(field) != Some(value) {
                changed = true;
            }
            merged[field] = value.clone();
        }
        DecisionRecord::from_json(&merged, today).map_err(|errors| {
            Refusal::Invalid(
                errors
                    .into_iter()
                    .map(|e| match e.field.as_str() {
                        "" => FieldError::new("changes", e.message),
                        f => FieldError::new(format!("changes.{f}"), e.message),
                    })
                    .collect(),
            )
        })?;
        if !changed {
            return Err(Refusal::Invalid(vec![FieldError::new(
                "changes",
                "every value equals the current one; nothing would change",
            )]));
        }
        let record = json!({"changes": self.changes, "reason": self.reason});
        let mut paths: Vec<String> = self
            .changes
            .keys()
            // A field published on its own stays public in later amendments.
            .filter(|f| WITHHELD_FIELDS.contains(&f.as_str()) && !current.published.covers(f))
            .map(|f| format!("/changes/{}", escape_pointer(f)))
            .collect();
        paths.push("/reason".into());
        Ok(finish(
            EntryKind::DecisionAmended,
            record,
            &paths,
            current,
            &mut salt,
        ))
    }
}

impl OutcomeRequest {
    /// Checks the outcome and plans its entry.
    pub fn plan(
        &self,
        current: &Current<'_>,
        today: NaiveDate,
        mut salt: impl FnMut() -> [u8; 16],
    ) -> Result<Planned, Refusal> {
        let mut errors = Vec::new();
        require_text(&mut errors, "narrative", &self.narrative);
        check_documents(&mut errors, "evidence", &self.evidence);
        let reported_on = self.reported_on.unwrap_or(today);
        check_date(&mut errors, "reported_on", reported_on, current, today);
        if self.next_review_on.is_some_and(|d| d < reported_on) {
            errors.push(FieldError::new(
                "next_review_on",
                "must not be before reported_on",
            ));
        }
        invalid_unless_empty(errors)?;
        admit(current, Event::OutcomeReported)?;
        let mut record = json!({
            "status": self.status,
            "reported_on": reported_on.to_string(),
            "narrative": self.narrative,
        });
        if !self.evidence.is_empty() {
            record["evidence"] = json!(self.evidence);
        }
        if let Some(next) = self.next_review_on {
            record["next_review_on"] = json!(next.to_string());
        }
        Ok(finish(
            EntryKind::OutcomeReported,
            record,
            &["/narrative".into(), "/evidence".into()],
            current,
            &mut salt,
        ))
    }
}

impl CallInRequest {
    /// Checks the transition and plans its entry.
    pub fn plan(
        &self,
        current: &Current<'_>,
        today: NaiveDate,
        mut salt: impl FnMut() -> [u8; 16],
    ) -> Result<Planned, Refusal> {
        let mut errors = Vec::new();
        if let Some(note) = &self.note {
            require_text(&mut errors, "note", note);
        }
        check_date(&mut errors, "on", self.on, current, today);
        invalid_unless_empty(errors)?;
        admit(current, Event::CallIn(self.status.into()))?;
        let mut record = json!({"status": self.status, "on": self.on.to_string()});
        if let Some(note) = &self.note {
            record["note"] = json!(note);
        }
        Ok(finish(
            EntryKind::CallIn,
            record,
            &["/note".into()],
            current,
            &mut salt,
        ))
    }
}

impl RescissionRequest {
    /// Checks the rescission and plans its entry.
    pub fn plan(
        &self,
        current: &Current<'_>,
        today: NaiveDate,
        mut salt: impl FnMut() -> [u8; 16],
    ) -> Result<Planned, Refusal> {
        let mut errors = Vec::new();
        require_text(&mut errors, "reason", &self.reason);
        let on = self.rescinded_on.unwrap_or(today);
        check_date(&mut errors, "rescinded_on", on, current, today);
        invalid_unless_empty(errors)?;
        admit(current, Event::Rescinded)?;
        Ok(finish(
            EntryKind::DecisionRescinded,
            json!({"rescinded_on": on.to_string(), "reason": self.reason}),
            &["/reason".into()],
            current,
            &mut salt,
        ))
    }
}

impl SupersessionRequest {
    /// Checks the supersession against both decisions and plans its entry. `successor` is the
    /// superseding decision's lifecycle state, if it exists.
    pub fn plan(
        &self,
        current: &Current<'_>,
        successor: Option<&Lifecycle>,
        mut salt: impl FnMut() -> [u8; 16],
    ) -> Result<Planned, Refusal> {
        let mut errors = Vec::new();
        require_text(&mut errors, "reason", &self.reason);
        let by = self.superseded_by.to_string();
        if by == current.id {
            errors.push(FieldError::new(
                "superseded_by",
                "a decision cannot supersede itself",
            ));
        } else if successor.is_none() {
            errors.push(FieldError::new(
                "superseded_by",
                format!("no decision {by} has been recorded"),
            ));
        }
        invalid_unless_empty(errors)?;
        admit(current, Event::Superseded { by: &by })?;
        if let Some(successor) = successor {
            admit_on(
                successor,
                &by,
                Event::Supersedes {
                    predecessor: current.id,
                },
            )?;
        }
        Ok(finish(
            EntryKind::DecisionSuperseded,
            json!({"superseded_by": by, "reason": self.reason}),
            &["/reason".into()],
            current,
            &mut salt,
        ))
    }
}

/// Whether `path` names a personal value of a decision record: the paths that are always
/// committed (see `DecisionRecord::commit`).
pub fn is_personal_path(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let index = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        ["", "decision_maker", "name"] => true,
        ["", "participants", n, "name"] => index(n),
        ["", "conflicts", n, "dispensation", "granted_by"] => index(n),
        _ => false,
    }
}

impl RedactionRequest {
    /// Checks the request's own fields; the store checks the value exists.
    pub fn check(&self) -> Result<(), Refusal> {
        let mut errors = Vec::new();
        require_line(&mut errors, "basis", &self.basis, MAX_NAME_CHARS);
        require_line(
            &mut errors,
            "authorised_by",
            &self.authorised_by,
            MAX_NAME_CHARS,
        );
        require_text(&mut errors, "reason", &self.reason);
        if !is_personal_path(&self.path) {
            errors.push(FieldError::new(
                "path",
                "must name a personal value: /decision_maker/name, /participants/N/name or \
                 /conflicts/N/dispensation/granted_by",
            ));
        }
        invalid_unless_empty(errors)
    }

    /// The entry that records the erasure of the value committed as `commitment` at `path` of
    /// entry `leaf_index`. On a decision that is not public, the path (which tells how many
    /// participants a withheld record has), the authority and the reason are committed like the
    /// decision's other withheld text; the entry, its basis and the commitment stay in clear, so
    /// that everyone can see that an erasure happened, in which entry and on what basis.
    pub fn plan(
        &self,
        current: &Current<'_>,
        leaf_index: u64,
        commitment: &str,
        mut salt: impl FnMut() -> [u8; 16],
    ) -> Result<Planned, Refusal> {
        admit(current, Event::Redacted)?;
        Ok(finish(
            EntryKind::DecisionRedacted,
            json!({
                "leaf_index": leaf_index,
                "path": self.path,
                "commitment": commitment,
                "basis": self.basis,
                "authorised_by": self.authorised_by,
                "reason": self.reason,
            }),
            &["/path".into(), "/authorised_by".into(), "/reason".into()],
            current,
            &mut salt,
        ))
    }
}

impl PublicationRequest {
    /// Checks the publication against the record and plans its entry.
    pub fn plan(&self, current: &Current<'_>) -> Result<Planned, Refusal> {
        let mut errors = Vec::new();
        require_text(&mut errors, "reason", &self.reason);
        let present = serde_json::to_value(current.record).unwrap_or(Value::Null);
        if let Some(fields) = &self.fields {
            if fields.is_empty() {
                errors.push(FieldError::new(
                    "fields",
                    "must name at least one field (omit it to publish the whole record)",
                ));
            }
            if fields.len() > WITHHELD_FIELDS.len() {
                errors.push(FieldError::new(
                    "fields",
                    format!(
                        "must list at most {} items, not {}",
                        WITHHELD_FIELDS.len(),
                        fields.len()
                    ),
                ));
                return Err(Refusal::Invalid(errors));
            }
            let mut seen = std::collections::HashSet::with_capacity(fields.len());
            for (i, field) in fields.iter().enumerate() {
                if !WITHHELD_FIELDS.contains(&field.as_str()) {
                    errors.push(FieldError::new(
                        format!("fields[{i}]"),
                        "is not a field a non-public record withholds",
                    ));
                } else if present.get(field).is_none() {
                    errors.push(FieldError::new(
                        format!("fields[{i}]"),
                        "is absent from this record",
                    ));
                } else if !seen.insert(field.as_str()) {
                    errors.push(FieldError::new(format!("fields[{i}]"), "is listed twice"));
                }
            }
        }
        invalid_unless_empty(errors)?;
        admit(current, Event::Published)?;
        if !current.withholds() {
            return Err(Refusal::Conflict(format!(
                "decision {} is already public",
                current.id
            )));
        }
        let record = match &self.fields {
            None => json!({"scope": "record", "reason": self.reason}),
            Some(fields) => {
                if fields.iter().all(|f| current.published.covers(f)) {
                    return Err(Refusal::Conflict(format!(
                        "every field named is already published on decision {}",
                        current.id
                    )));
                }
                json!({"scope": "fields", "fields": fields, "reason": self.reason})
            }
        };
        Ok(Planned {
            kind: EntryKind::DecisionPublished,
            record,
            disclosures: Vec::new(),
        })
    }
}

use ledger::disclosure::escape_pointer_token as escape_pointer;

/// One field an amendment changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Change {
    /// The field.
    pub field: String,
    /// Its value before.
    pub old: Value,
    /// Its value after.
    pub new: Value,
}

/// Applies an amendment's (revealed) changes to the current record document and returns what
/// changed, field by field.
pub fn apply_amendment(document: &mut Value, changes: &Map<String, Value>) -> Vec<Change> {
    changes
        .iter()
        .map(|(field, new)| {
            let old = document.get(field).cloned().unwrap_or(Value::Null);
            document[field] = new.clone();
            Change {
                field: field.clone(),
                old,
                new: new.clone(),
            }
        })
        .collect()
}

/// The text a reader sees in place of an erased value.
pub fn redaction_marker(basis: &str, date: &str) -> String {
    format!("[redacted: {basis}, {date}]")
}

/// The public form of a lineage payload: each commitment placeholder shown as `"[withheld]"`.
pub fn public_detail(record: &Value) -> Value {
    match record {
        _ if ledger::disclosure::commitment_of(record).is_some() => {
            Value::String("[withheld]".into())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), public_detail(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(public_detail).collect()),
        other => other.clone(),
    }
}

/// Replaces every commitment placeholder left in a revealed value (its disclosure was erased)
/// with a generic marker; the redaction entry that erased it later supplies basis and date.
pub fn mark_erased(value: &mut Value) {
    if ledger::disclosure::commitment_of(value).is_some() {
        *value = Value::String("[redacted]".into());
        return;
    }
    match value {
        Value::Object(map) => map.values_mut().for_each(mark_erased),
        Value::Array(items) => items.iter_mut().for_each(mark_erased),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> DecisionRecord {
        DecisionRecord::from_json(
            &crate::record::example(),
            NaiveDate::from_ymd_opt(2026, 11, 29).expect("date"),
        )
        .expect("the example is valid")
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).expect("date")
    }

    fn salts() -> impl FnMut() -> [u8; 16] {
        let mut n = 0u8;
        move || {
            n += 1;
            [n; 16]
        }
    }

    fn current<'a>(record: &'a DecisionRecord, published: &'a Published) -> Current<'a> {
        Current {
            id: "0193a1b2-0000-7000-8000-000000000000",
            record,
            lifecycle: Lifecycle::recorded(),
            published,
        }
    }

    fn is_placeholder(value: &Value) -> bool {
        ledger::disclosure::commitment_of(value).is_some()
    }

    #[test]
    fn amendments_refuse_unknown_personal_and_unchanged_fields() {
        let record = record();
        let published = Published::default();
        let c = current(&record, &published);
        let request: AmendmentRequest = parse(&json!({
            "changes": {"participants": [], "colour": "red"}, "reason": " "
        }))
        .expect("parses");
        let Err(Refusal::Invalid(errors)) = request.plan(&c, today(), salts()) else {
            panic!("refused")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["reason", "changes.colour", "changes.participants"]);

        let same: AmendmentRequest =
            parse(&json!({"changes": {"title": record.title}, "reason": "r"})).expect("parses");
        assert!(matches!(
            same.plan(&c, today(), salts()),
            Err(Refusal::Invalid(_))
        ));

        let bad_date: AmendmentRequest =
            parse(&json!({"changes": {"review_on": "2000-01-01"}, "reason": "r"})).expect("parses");
        let Err(Refusal::Invalid(errors)) = bad_date.plan(&c, today(), salts()) else {
            panic!("refused")
        };
        assert_eq!(errors[0].field, "changes.review_on");
    }

    #[test]
    fn a_non_public_decision_commits_lineage_text() {
        let mut record = record();
        record.classification = Classification::Internal;
        let published = Published::default();
        let c = current(&record, &published);
        let request: AmendmentRequest =
            parse(&json!({"changes": {"title": "New", "decided_on": "2026-11-20"}, "reason": "r"}))
                .expect("parses");
        let planned = request.plan(&c, today(), salts()).expect("planned");
        assert!(is_placeholder(&planned.record["changes"]["title"]));
        assert_eq!(planned.record["changes"]["decided_on"], "2026-11-20");
        assert!(is_placeholder(&planned.record["reason"]));
        assert_eq!(planned.disclosures.len(), 2);
        assert_eq!(
            public_detail(&planned.record)["changes"]["title"],
            "[withheld]"
        );
    }

    #[test]
    fn call_ins_are_judged_by_the_ledger_lifecycle_with_its_messages() {
        let record = record();
        let published = Published::default();
        let mut c = current(&record, &published);
        let call = |status| CallInRequest {
            status,
            on: today(),
            note: None,
        };
        assert_eq!(
            call(CallInStatus::Upheld).plan(&c, today(), salts()).err(),
            Some(Refusal::Conflict(format!(
                "decision {} cannot move to call-in status upheld: the decision is in_force",
                c.id
            )))
        );
        let planned = call(CallInStatus::CalledIn)
            .plan(&c, today(), salts())
            .expect("called in");
        assert_eq!(planned.record["status"], "called_in");
        c.lifecycle = Lifecycle {
            status: lifecycle::Status::CalledIn,
            called_in_before: true,
            superseded_by: None,
        };
        assert_eq!(
            call(CallInStatus::CalledIn)
                .plan(&c, today(), salts())
                .err(),
            Some(Refusal::Conflict(format!(
                "decision {} cannot move to call-in status called_in: a decision is called in once",
                c.id
            )))
        );
        assert!(
            call(CallInStatus::ReferredToCouncil)
                .plan(&c, today(), salts())
                .is_ok()
        );
        // A malformed request is refused as such before its state is judged.
        let mut early = call(CallInStatus::CalledIn);
        early.on = NaiveDate::from_ymd_opt(2000, 1, 1).expect("date");
        assert!(matches!(
            early.plan(&c, today(), salts()),
            Err(Refusal::Invalid(_))
        ));
    }

    #[test]
    fn ended_decisions_take_no_more_lineage_but_erasure_and_publication() {
        let record = record();
        let published = Published::default();
        let mut c = current(&record, &published);
        c.lifecycle.status = lifecycle::Status::Rescinded;
        let rescind = RescissionRequest {
            rescinded_on: None,
            reason: "again".into(),
        };
        assert_eq!(
            rescind.plan(&c, today(), salts()).err(),
            Some(Refusal::Conflict(format!(
                "decision {} is rescinded; it cannot be rescinded",
                c.id
            )))
        );
        let outcome: OutcomeRequest =
            parse(&json!({"status": "achieved", "narrative": "n"})).expect("parses");
        assert_eq!(
            outcome.plan(&c, today(), salts()).err(),
            Some(Refusal::Conflict(format!(
                "decision {} is rescinded; outcomes are reported on decisions that stand",
                c.id
            )))
        );
        let erasure = RedactionRequest {
            path: "/participants/0/name".into(),
            basis: "UK GDPR Art. 17".into(),
            authorised_by: "Data Protection Officer".into(),
            reason: "Upheld".into(),
        };
        assert!(erasure.plan(&c, 0, &"ab".repeat(32), salts()).is_ok());
    }

    #[test]
    fn a_supersession_is_judged_on_both_decisions() {
        let record = record();
        let published = Published::default();
        let c = current(&record, &published);
        let by = uuid::Uuid::from_u128(0x0193a1b2_0000_7000_8000_00000000000b);
        let request = SupersessionRequest {
            superseded_by: by,
            reason: "Replaced".into(),
        };
        let standing = Lifecycle::recorded();
        assert!(request.plan(&c, Some(&standing), salts()).is_ok());
        let rescinded = Lifecycle {
            status: lifecycle::Status::Rescinded,
            ..Lifecycle::recorded()
        };
        assert_eq!(
            request.plan(&c, Some(&rescinded), salts()).err(),
            Some(Refusal::Conflict(format!(
                "decision {by} is rescinded and cannot supersede another"
            )))
        );
        let superseded_by_c = Lifecycle {
            status: lifecycle::Status::Superseded,
            called_in_before: false,
            superseded_by: Some(c.id.to_owned()),
        };
        assert_eq!(
            request.plan(&c, Some(&superseded_by_c), salts()).err(),
            Some(Refusal::Conflict(format!(
                "decision {by} is itself superseded by {}",
                c.id
            )))
        );
        assert!(matches!(
            request.plan(&c, None, salts()),
            Err(Refusal::Invalid(_))
        ));
    }

    #[test]
    fn personal_paths_are_exactly_the_committed_ones() {
        for path in [
            "/decision_maker/name",
            "/participants/0/name",
            "/participants/12/name",
            "/conflicts/1/dispensation/granted_by",
        ] {
            assert!(is_personal_path(path), "{path}");
        }
        for path in [
            "/title",
            "/participants/x/name",
            "/participants/0",
            "/participants//name",
            "participants/0/name",
        ] {
            assert!(!is_personal_path(path), "{path}");
        }
    }

    #[test]
    fn publication_needs_withheld_content() {
        let record = record();
        let published = Published::default();
        let c = current(&record, &published);
        let all = PublicationRequest {
            fields: None,
            reason: "r".into(),
        };
        assert!(matches!(all.plan(&c), Err(Refusal::Conflict(_))));

        let mut restricted = record.clone();
        restricted.classification = Classification::Internal;
        let c = current(&restricted, &published);
        let some = PublicationRequest {
            fields: Some(vec!["reasons".into(), "body".into()]),
            reason: "r".into(),
        };
        let Err(Refusal::Invalid(errors)) = some.plan(&c) else {
            panic!("refused")
        };
        assert_eq!(errors[0].field, "fields[1]");
        assert_eq!(
            all.plan(&c).expect("planned").record,
            json!({"scope": "record", "reason": "r"})
        );
    }

    fn refused_fields(result: Result<Planned, Refusal>) -> Vec<String> {
        match result {
            Err(Refusal::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("not refused as invalid: {other:?}"),
        }
    }

    #[test]
    fn lists_over_their_limits_are_refused_with_one_error() {
        let record = record();
        let published = Published::default();
        let c = current(&record, &published);
        let document =
            json!({"title": "t", "uri": "https://x.example/a", "sha256": "ab".repeat(32)});
        let outcome: OutcomeRequest = parse(&json!({
            "status": "on_track", "narrative": "n",
            "evidence": vec![document; MAX_DOCUMENTS + 1],
        }))
        .expect("parses");
        assert_eq!(
            refused_fields(outcome.plan(&c, today(), salts())),
            ["evidence"]
        );

        let changes: Map<String, Value> =
            (0..10_000).map(|i| (format!("f{i}"), json!(i))).collect();
        let amendment = AmendmentRequest {
            changes,
            reason: "r".into(),
        };
        assert_eq!(
            refused_fields(amendment.plan(&c, today(), salts())),
            ["changes"]
        );

        let mut internal = record.clone();
        internal.classification = Classification::Internal;
        let c = current(&internal, &published);
        let publication = PublicationRequest {
            fields: Some(vec!["reasons".into(); 10_000]),
            reason: "r".into(),
        };
        assert_eq!(refused_fields(publication.plan(&c)), ["fields"]);
        let twice = PublicationRequest {
            fields: Some(vec!["reasons".into(), "decision".into(), "reasons".into()]),
            reason: "r".into(),
        };
        assert_eq!(refused_fields(twice.plan(&c)), ["fields[2]"]);
    }

    #[test]
    fn lineage_text_follows_the_text_rules() {
        let request = RedactionRequest {
            path: "/participants/0/name".into(),
            basis: "UK GDPR Art. 17\u{202e}".into(),
            authorised_by: "Data\nProtection Officer".into(),
            reason: "Upheld\r".into(),
        };
        let Err(Refusal::Invalid(errors)) = request.check() else {
            panic!("refused")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["basis", "authorised_by", "reason"]);

        let record = record();
        let published = Published::default();
        let c = current(&record, &published);
        let outcome: OutcomeRequest =
            parse(&json!({"status": "on_track", "narrative": "Line one.\n\tLine two."}))
                .expect("parses");
        assert!(outcome.plan(&c, today(), salts()).is_ok());
    }

    #[test]
    fn erased_values_are_marked() {
        let digest = "ab".repeat(32);
        let mut value = json!({"a": [{"commitment": digest}, "kept"]});
        mark_erased(&mut value);
        assert_eq!(value, json!({"a": ["[redacted]", "kept"]}));
    }
}
