//! Full-text search: the `decision_search` read view and the query over it.
//!
//! One row per decision, keyed by the leaf index of its `decision.recorded` entry, holds the text
//! the decision is found by — title, decision, reasons, alternatives (options and why they were
//! rejected) and the narratives of its reported outcomes — with the classification readers see
//! (`public` once the record is published as a whole) and its body. Names of people are never
//! indexed, so an erasure has nothing to remove here.
//!
//! [`reindex`] rebuilds a decision's row from its current `decisions` row (amendments applied,
//! erased values already marked) and its outcome events. `views::apply` calls it after every
//! entry, inside the append transaction or the rebuild, so the row is never staler than the
//! decision; the cost is one decision's row and timeline, whatever the size of the log.
//!
//! Restricted and internal records are indexed in full, and a search only ever returns decisions
//! whose content the reader may read in full ([`Token::may_read`], expressed as SQL conditions on
//! the row's classification and body). Text a reader may not read therefore never reaches them,
//! not even as a snippet; the price is that fields published from a record that is still withheld
//! are not found by readers who may not read the whole record.
//!
//! The reader's words are never passed to the database as query syntax: they are split into
//! terms of letters and digits, each quoted as an FTS5 string on SQLite and handed to
//! `plainto_tsquery` on PostgreSQL, so a search matches decisions containing every term (stemmed
//! as English). Results come newest first by leaf index, keyset-paginated, and each carries a
//! snippet in which every match is wrapped in [`MATCH_START`] and [`MATCH_END`]: characters from
//! Unicode's private use area, stripped from the indexed text so that only the database's
//! highlighting produces them. A page costs what the full-text index costs to find the matches,
//! plus one primary-key read per result.

use ledger::EntryKind;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use serde_json::Value;

use super::append::bound;
use super::entities::{decision, event};
use super::views::{DecisionRow, find_decision};
use super::{Store, StoreError, Token};
use crate::record::Classification;

/// Opens a match in a snippet.
pub const MATCH_START: char = '\u{E000}';
/// Closes a match in a snippet.
pub const MATCH_END: char = '\u{E001}';

/// At most this many terms of a query are searched for.
const MAX_TERMS: usize = 16;
/// Longer terms are cut to this many characters.
const MAX_TERM_CHARS: usize = 64;
/// Decisions reindexed per read when the view is filled at start-up.
const BACKFILL_BATCH: u64 = 500;

/// A decision found by a search.
#[derive(Debug, Clone)]
pub struct SearchHit {
    /// The decision as the read view holds it.
    pub row: DecisionRow,
    /// Where the text matched: plain text, matches between [`MATCH_START`] and [`MATCH_END`].
    pub snippet: String,
}

/// One page of search results.
#[derive(Debug, Clone, Default)]
pub struct SearchPage {
    /// The decisions found, newest first.
    pub hits: Vec<SearchHit>,
    /// Pass as `before` for the next page; `None` on the last page.
    pub next: Option<u64>,
}

/// The text a decision is found by.
#[derive(Debug, Default, PartialEq)]
struct Indexed {
    title: String,
    decision: String,
    reasons: String,
    alternatives: String,
    outcomes: String,
}

impl Indexed {
    /// The indexed text of the current record `document` and its outcome `narratives`.
    fn of(document: &Value, narratives: &[String]) -> Indexed {
        let text = |key: &str| document.get(key).and_then(Value::as_str).map(clean);
        let alternatives = document
            .get("alternatives")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|a| {
                [a.get("option"), a.get("why_rejected")]
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(clean)
                    .collect::<Vec<_>>()
                    .join(": ")
            })
            .collect::<Vec<_>>()
            .join("\n");
        Indexed {
            title: text("title").unwrap_or_default(),
            decision: text("decision").unwrap_or_default(),
            reasons: text("reasons").unwrap_or_default(),
            alternatives,
            outcomes: narratives
                .iter()
                .map(|n| clean(n))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// Every field in one text, for PostgreSQL's `tsvector` and `ts_headline`.
    fn content(&self) -> String {
        [
            &self.title,
            &self.decision,
            &self.reasons,
            &self.alternatives,
            &self.outcomes,
        ]
        .into_iter()
        .filter(|t| !t.is_empty())
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("\n")
    }
}

/// `text` without the snippet markers, so that only the database's highlighting yields them.
fn clean(text: &str) -> String {
    text.replace([MATCH_START, MATCH_END], "")
}

/// The terms of a reader's query: runs of letters and digits, at most [`MAX_TERMS`].
fn terms(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(MAX_TERMS)
        .map(|t| t.chars().take(MAX_TERM_CHARS).collect())
        .collect()
}

/// An FTS5 query matching rows that contain every term: each term is an FTS5 string, so no
/// operator, column filter or syntax error can be smuggled in.
fn fts5_query(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Bind parameters of a raw statement, numbered as the backend wants them.
struct Params {
    backend: DbBackend,
    values: Vec<sea_orm::Value>,
}

impl Params {
    fn new(backend: DbBackend) -> Params {
        Params {
            backend,
            values: Vec::new(),
        }
    }

    /// Binds `value` and returns its placeholder.
    fn bind(&mut self, value: impl Into<sea_orm::Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }

    fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}

/// What a reader may read, as conditions on a row's classification and body: a search row's
/// or a `decisions` row's, which hold both as readers see them.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Scope {
    /// Classifications readable whatever the body.
    everywhere: Vec<Classification>,
    /// Classifications readable only for the paired body.
    bodies: Vec<(Classification, String)>,
}

impl Scope {
    /// The scope of `reader` (`None`: anonymous, who reads public records only), from
    /// [`Token::may_read_any_body`] and, for the token's own bodies, [`Token::may_read`].
    pub(super) fn of(reader: Option<&Token>) -> Scope {
        let mut scope = Scope {
            everywhere: Vec::new(),
            bodies: Vec::new(),
        };
        let Some(token) = reader else {
            scope.everywhere.push(Classification::Public);
            return scope;
        };
        for classification in [
            Classification::Public,
            Classification::Internal,
            Classification::Restricted,
        ] {
            if token.may_read_any_body(classification) {
                scope.everywhere.push(classification);
                continue;
            }
            for body in &token.bodies {
                if token.may_read(classification, body) {
                    scope.bodies.push((classification, body.clone()));
                }
            }
        }
        scope
    }

    /// Whether a decision of `classification` of `body` is in scope.
    fn admits(&self, classification: Classification, body: &str) -> bool {
        self.everywhere.contains(&classification)
            || self
                .bodies
                .iter()
                .any(|(c, b)| *c == classification && b == body)
    }

    /// The scope as a condition on a `decisions` row.
    pub(super) fn on_decisions(&self) -> sea_orm::Condition {
        let mut any = sea_orm::Condition::any();
        if !self.everywhere.is_empty() {
            any = any.add(
                decision::Column::Classification.is_in(self.everywhere.iter().map(|c| c.as_str())),
            );
        }
        for (classification, body) in &self.bodies {
            any = any.add(
                sea_orm::Condition::all()
                    .add(decision::Column::Classification.eq(classification.as_str()))
                    .add(decision::Column::Body.eq(body.as_str())),
            );
        }
        // An empty `any` matches nothing, which is right for a reader who may read nothing.
        any
    }

    /// The scope as an SQL condition on the columns `classification` and `body`.
    fn condition(&self, params: &mut Params) -> String {
        let mut any = Vec::new();
        if !self.everywhere.is_empty() {
            let list: Vec<String> = self
                .everywhere
                .iter()
                .map(|c| params.bind(c.as_str()))
                .collect();
            any.push(format!("classification IN ({})", list.join(", ")));
        }
        for (classification, body) in &self.bodies {
            any.push(format!(
                "(classification = {} AND body = {})",
                params.bind(classification.as_str()),
                params.bind(body.as_str())
            ));
        }
        if any.is_empty() {
            "1 = 0".to_owned()
        } else {
            format!("({})", any.join(" OR "))
        }
    }
}

/// Rebuilds the search row of decision `decision_id` from its current `decisions` row and its
/// outcome events. Runs inside the append transaction or a rebuild, after the entry's views.
pub(super) async fn reindex(
    db: &impl ConnectionTrait,
    decision_id: &str,
) -> Result<(), StoreError> {
    let bad = |what: &str| StoreError::Inconsistent(format!("decision {decision_id}: {what}"));
    let current = decision::Entity::find_by_id(decision_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| bad("not in the read view"))?;
    let document: Value =
        serde_json::from_str(&current.document).map_err(|_| bad("bad document"))?;
    let narratives: Vec<String> = event::Entity::find()
        .select_only()
        .column(event::Column::Detail)
        .filter(event::Column::DecisionId.eq(decision_id))
        .filter(event::Column::Kind.eq(EntryKind::OutcomeReported.as_str()))
        .order_by_asc(event::Column::LeafIndex)
        .into_tuple::<String>()
        .all(db)
        .await?
        .iter()
        .map(|detail| {
            let detail: Value =
                serde_json::from_str(detail).map_err(|_| bad("bad outcome detail"))?;
            Ok(detail
                .get("narrative")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned())
        })
        .collect::<Result<_, StoreError>>()?;
    let row = SearchRow::of(&current, &document, &narratives);

    let backend = db.get_database_backend();
    let key = match backend {
        DbBackend::Postgres => "leaf_index",
        _ => "rowid",
    };
    let mut params = Params::new(backend);
    let sql = format!(
        "DELETE FROM decision_search WHERE {key} = {}",
        params.bind(current.leaf_index)
    );
    db.execute_raw(params.statement(sql)).await?;
    insert_rows(db, &[row]).await
}

/// A decision's row in the search view.
pub(super) struct SearchRow {
    leaf_index: i64,
    decision_id: String,
    classification: String,
    body: String,
    indexed: Indexed,
}

impl SearchRow {
    /// The row of `decision`, whose current record is `document`, with its outcome `narratives`.
    pub(super) fn of(decision: &decision::Model, document: &Value, narratives: &[String]) -> Self {
        SearchRow {
            leaf_index: decision.leaf_index,
            decision_id: decision.id.clone(),
            classification: decision.classification.clone(),
            body: decision.body.clone(),
            indexed: Indexed::of(document, narratives),
        }
    }
}

/// Adds `rows` to the search view, in statements of the sizes [`super::batch::chunk_sizes`] gives.
pub(super) async fn insert_rows(
    db: &impl ConnectionTrait,
    rows: &[SearchRow],
) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    let mut rest = rows;
    for size in super::batch::chunk_sizes(rows.len()) {
        let (chunk, after) = rest.split_at(size);
        rest = after;
        let mut params = Params::new(backend);
        let mut values = Vec::with_capacity(chunk.len());
        for row in chunk {
            let bound: Vec<String> = match backend {
                DbBackend::Postgres => vec![
                    params.bind(row.leaf_index),
                    params.bind(row.decision_id.as_str()),
                    params.bind(row.classification.as_str()),
                    params.bind(row.body.as_str()),
                    params.bind(row.indexed.content()),
                ],
                _ => vec![
                    params.bind(row.leaf_index),
                    params.bind(row.indexed.title.as_str()),
                    params.bind(row.indexed.decision.as_str()),
                    params.bind(row.indexed.reasons.as_str()),
                    params.bind(row.indexed.alternatives.as_str()),
                    params.bind(row.indexed.outcomes.as_str()),
                    params.bind(row.decision_id.as_str()),
                    params.bind(row.classification.as_str()),
                    params.bind(row.body.as_str()),
                ],
            };
            values.push(format!("({})", bound.join(", ")));
        }
        let columns = match backend {
            DbBackend::Postgres => "leaf_index, decision_id, classification, body, content",
            _ => {
                "rowid, title, decision, reasons, alternatives, outcomes, decision_id, \
                 classification, body"
            }
        };
        let sql = format!(
            "INSERT INTO decision_search ({columns}) VALUES {}",
            values.join(", ")
        );
        db.execute_raw(params.statement(sql)).await?;
    }
    Ok(())
}

/// Empties the search view, for a rebuild of the read views.
pub(super) async fn clear(db: &impl ConnectionTrait) -> Result<(), StoreError> {
    db.execute_unprepared("DELETE FROM decision_search").await?;
    Ok(())
}

async fn search_is_empty(db: &impl ConnectionTrait) -> Result<bool, StoreError> {
    let probe = Statement::from_string(
        db.get_database_backend(),
        "SELECT decision_id FROM decision_search LIMIT 1",
    );
    Ok(db.query_one_raw(probe).await?.is_none())
}

/// Fills the search view when it is empty but decisions are recorded: a log written before
/// search existed. Runs once, at start-up, in one transaction under the append lock (so that
/// instances starting together do it once, and appends wait), with the same [`reindex`] that
/// every append runs. Returns the number of decisions indexed.
pub(super) async fn backfill(store: &Store) -> Result<u64, StoreError> {
    if !search_is_empty(&store.db).await?
        || decision::Entity::find().one(&store.db).await?.is_none()
    {
        return Ok(0);
    }
    let (txn, _) = store.lock_head().await?;
    if !search_is_empty(&txn).await? {
        return Ok(0);
    }
    let mut indexed = 0;
    let mut after = -1;
    loop {
        let batch: Vec<(i64, String)> = decision::Entity::find()
            .select_only()
            .column(decision::Column::LeafIndex)
            .column(decision::Column::Id)
            .filter(decision::Column::LeafIndex.gt(after))
            .order_by_asc(decision::Column::LeafIndex)
            .limit(BACKFILL_BATCH)
            .into_tuple()
            .all(&txn)
            .await?;
        let Some((last, _)) = batch.last() else {
            break;
        };
        after = *last;
        for (_, id) in &batch {
            reindex(&txn, id).await?;
        }
        indexed += batch.len() as u64;
    }
    txn.commit().await?;
    if indexed > 0 {
        tracing::info!(
            decisions = indexed,
            "indexed for search the decisions recorded before search existed"
        );
    }
    Ok(indexed)
}

impl Store {
    /// Up to `limit` decisions that `reader` may read in full (`None`: anonymous) and whose
    /// indexed text contains every term of `query`, newest first, recorded before leaf `before`
    /// if given. A query without letters or digits finds nothing.
    pub async fn search(
        &self,
        reader: Option<&Token>,
        query: &str,
        before: Option<u64>,
        limit: u64,
    ) -> Result<SearchPage, StoreError> {
        let terms = terms(query);
        if terms.is_empty() || limit == 0 {
            return Ok(SearchPage::default());
        }
        let scope = Scope::of(reader);
        let found = match self.backend() {
            DbBackend::Postgres => self.search_postgres(&scope, &terms, before, limit).await?,
            backend => {
                let mut params = Params::new(backend);
                let start = params.bind(MATCH_START.to_string());
                let end = params.bind(MATCH_END.to_string());
                let query = params.bind(fts5_query(&terms));
                let condition = scope.condition(&mut params);
                let before = match before {
                    Some(b) => format!("AND rowid < {}", params.bind(bound(b))),
                    None => String::new(),
                };
                let limit = params.bind(bound(limit.saturating_add(1)));
                // FTS5 yields matches in rowid order, so the newest page costs its own size.
                let sql = format!(
                    "SELECT rowid AS leaf_index, decision_id, \
                         snippet(decision_search, -1, {start}, {end}, '…', 24) AS snippet \
                     FROM decision_search \
                     WHERE decision_search MATCH {query} AND {condition} {before} \
                     ORDER BY rowid DESC LIMIT {limit}"
                );
                read_hits(&self.db.query_all_raw(params.statement(sql)).await?)?
            }
        };
        let mut found = found;
        let mut page = SearchPage::default();
        if found.len() as u64 > limit {
            found.truncate(limit as usize);
            page.next = found
                .last()
                .and_then(|(leaf_index, _, _)| u64::try_from(*leaf_index).ok());
        }
        for (_, id, snippet) in found {
            // The decision is read again for its current state; one published or amended since
            // the search row was read is shown as it stands, and only if still in scope.
            let Some(row) = find_decision(&self.db, &id).await? else {
                continue;
            };
            if scope.admits(row.classification, &row.record.body) {
                page.hits.push(SearchHit { row, snippet });
            }
        }
        Ok(page)
    }
}

/// How many of the newest rows a PostgreSQL search scans in leaf order before it turns to the
/// GIN index for the rest.
const RECENT_WINDOW: i64 = 4096;

type Hit = (i64, String, String);

fn read_hits(rows: &[sea_orm::QueryResult]) -> Result<Vec<Hit>, StoreError> {
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get::<i64>("", "leaf_index")?,
                row.try_get::<String>("", "decision_id")?,
                row.try_get::<String>("", "snippet")?,
            ))
        })
        .collect()
}

impl Store {
    /// PostgreSQL's GIN index cannot return matches newest first, so the planner must choose
    /// between reading every match (cheap for a rare word, costly for a common one) and walking
    /// the rows newest first until enough match (the reverse). A search here asks both questions
    /// in turn, each bounded: first the newest [`RECENT_WINDOW`] rows in leaf order — enough for
    /// any common word — and only if they hold too few matches, every older match through the
    /// GIN index, which is then a short list. Neither step reads the whole table.
    async fn search_postgres(
        &self,
        scope: &Scope,
        terms: &[String],
        before: Option<u64>,
        limit: u64,
    ) -> Result<Vec<Hit>, StoreError> {
        let upper = match before {
            Some(b) => bound(b),
            None => {
                let row = self
                    .db
                    .query_one_raw(Statement::from_string(
                        DbBackend::Postgres,
                        "SELECT COALESCE(MAX(leaf_index) + 1, 0) AS upper FROM decision_search",
                    ))
                    .await?;
                row.map(|r| r.try_get::<i64>("", "upper"))
                    .transpose()?
                    .unwrap_or(0)
            }
        };
        let window_start = upper.saturating_sub(RECENT_WINDOW);
        let wanted = limit + 1;
        let statement = |from: Option<i64>, to: i64, take: u64, gin: bool| {
            let mut params = Params::new(DbBackend::Postgres);
            let query = params.bind(terms.join(" "));
            let options = params.bind(format!(
                "StartSel=\"{MATCH_START}\", StopSel=\"{MATCH_END}\", MaxWords=30, \
                 MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \""
            ));
            let condition = scope.condition(&mut params);
            let lower = from
                .map(|f| format!("AND leaf_index >= {}", params.bind(f)))
                .unwrap_or_default();
            let upper = params.bind(to);
            let take = params.bind(i64::try_from(take).unwrap_or(i64::MAX));
            // OFFSET 0 keeps the matching step on its own, so the planner reads the matches
            // through the GIN index instead of walking the table in leaf order.
            let fence = if gin { "OFFSET 0" } else { "" };
            let matches = format!(
                "SELECT leaf_index, decision_id, content FROM decision_search \
                 WHERE document @@ plainto_tsquery('english', {query}) \
                 AND {condition} {lower} AND leaf_index < {upper} {fence}"
            );
            // The headline is cut only for the page's rows, after the index found them.
            params.statement(format!(
                "SELECT leaf_index, decision_id, \
                     ts_headline('english', content, plainto_tsquery('english', {query}), \
                     {options}) AS snippet \
                 FROM (SELECT * FROM ({matches}) AS matching \
                       ORDER BY leaf_index DESC LIMIT {take}) AS page \
                 ORDER BY leaf_index DESC"
            ))
        };
        let mut hits = read_hits(
            &self
                .db
                .query_all_raw(statement(Some(window_start), upper, wanted, false))
                .await?,
        )?;
        if (hits.len() as u64) < wanted && window_start > 0 {
            let rest = wanted - hits.len() as u64;
            hits.extend(read_hits(
                &self
                    .db
                    .query_all_raw(statement(None, window_start, rest, true))
                    .await?,
            )?);
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::{Power, Role};

    fn token(role: Role, bodies: &[&str]) -> Token {
        Token {
            name: "t".into(),
            role,
            bodies: bodies.iter().map(|b| (*b).to_owned()).collect(),
            powers: if role == Role::Redactor {
                vec![Power::Erase]
            } else {
                Vec::new()
            },
        }
    }

    #[test]
    fn the_scope_admits_exactly_what_the_token_may_read() {
        let classifications = [
            Classification::Public,
            Classification::Internal,
            Classification::Restricted,
        ];
        for role in [
            Role::Admin,
            Role::Secretariat,
            Role::Redactor,
            Role::Auditor,
            Role::Staff,
        ] {
            let bodies: &[&str] = if role == Role::Secretariat {
                &["cabinet", "planning"]
            } else {
                &[]
            };
            let token = token(role, bodies);
            let scope = Scope::of(Some(&token));
            for classification in classifications {
                for body in ["cabinet", "planning", "licensing"] {
                    assert_eq!(
                        scope.admits(classification, body),
                        token.may_read(classification, body),
                        "{role:?} reading {classification:?} of {body}"
                    );
                }
            }
        }
    }

    #[test]
    fn anonymous_readers_are_scoped_to_public_records() {
        let scope = Scope::of(None);
        assert!(scope.admits(Classification::Public, "cabinet"));
        assert!(!scope.admits(Classification::Internal, "cabinet"));
        assert!(!scope.admits(Classification::Restricted, "cabinet"));
    }

    #[test]
    fn a_secretariat_scope_names_its_bodies_for_restricted_records() {
        let scope = Scope::of(Some(&token(Role::Secretariat, &["cabinet"])));
        let mut params = Params::new(DbBackend::Postgres);
        assert_eq!(
            scope.condition(&mut params),
            "(classification IN ($1, $2) OR (classification = $3 AND body = $4))"
        );
        assert_eq!(params.values.len(), 4);
    }

    #[test]
    fn query_syntax_is_reduced_to_quoted_terms() {
        let terms = terms("NEAR(depot \"closure\" OR title:x* -y) ^z");
        assert_eq!(
            terms,
            ["NEAR", "depot", "closure", "OR", "title", "x", "y", "z"]
        );
        assert_eq!(
            fts5_query(&terms),
            "\"NEAR\" \"depot\" \"closure\" \"OR\" \"title\" \"x\" \"y\" \"z\""
        );
        assert!(super::terms("\"()*:^-").is_empty());
    }

    #[test]
    fn a_huge_query_is_cut_to_a_few_short_terms() {
        let huge = format!("{} {}", "a".repeat(2_000), "word ".repeat(100));
        let terms = terms(&huge);
        assert_eq!(terms.len(), MAX_TERMS);
        assert_eq!(terms[0].chars().count(), MAX_TERM_CHARS);
    }

    #[test]
    fn indexed_text_leaves_out_names_and_snippet_markers() {
        let mut document = crate::record::example();
        document["title"] = json!("Depot \u{E000}closure\u{E001}");
        let indexed = Indexed::of(&document, &["Rounds moved.".to_owned()]);
        assert_eq!(indexed.title, "Depot closure");
        assert!(
            indexed
                .alternatives
                .starts_with("Renew the Northgate lease and repair the building: £2.1m")
        );
        assert_eq!(indexed.outcomes, "Rounds moved.");
        let content = indexed.content();
        for name in [
            "Amina Okafor",
            "Tom Reid",
            "Dana Mills",
            "Monitoring Officer",
        ] {
            assert!(!content.contains(name), "{name} is indexed");
        }
    }

    #[test]
    fn no_alternatives_considered_indexes_nothing_for_them() {
        let mut document = crate::record::example();
        document["alternatives"] = json!("none_considered");
        assert_eq!(Indexed::of(&document, &[]).alternatives, "");
    }
}
