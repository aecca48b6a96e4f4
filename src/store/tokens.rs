//! API tokens: created once, shown once, stored only as a SHA-256 hash; revocable and expiring.
//!
//! A token is `dlt_` followed by 32 random bytes in unpadded base64url. It is looked up by the
//! hash of what the client presents, so the secret is never stored and a timing difference in
//! the lookup reveals nothing about it; the final comparison is constant-time all the same.
//!
//! A token has one [`Role`]. Secretariat tokens are scoped to bodies; redactor tokens carry the
//! [`Power`]s they were granted (erasure and publication are granted separately). What each role
//! may read and write is decided here, in [`Token`]'s methods, and nowhere else.
//!
//! Every grant of power is on the record: creating a token appends an `access.granted` entry
//! (its name, role, bodies, powers and expiry, and in `recorded_by` who granted it — never the
//! secret) in the same transaction as the token, and revoking it appends `access.revoked`. An
//! auditor reading the log therefore sees who held which power when, including every token an
//! admin minted for itself. Tokens made by the command line or at the first start are recorded
//! by [`OPERATOR`], the person with access to the database.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use ledger::EntryKind;
use ledger::Hash;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::append::{NewEntry, append_within};
use super::entities::api_token;
use super::{Store, StoreError};
use crate::record::{Classification, FieldError, LATEST_YEAR};

/// Most bodies a secretariat token records for.
pub const MAX_TOKEN_BODIES: usize = 100;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages bodies and tokens; reads public and internal records.
    Admin,
    /// Records decisions and their lineage for the bodies on the token; reads their restricted
    /// records, and public and internal ones of every body.
    Secretariat,
    /// Erases personal data and publishes withheld content, as granted; reads everything.
    Redactor,
    /// Reads everything, restricted content included.
    Auditor,
    /// Reads public and internal records.
    Staff,
}

impl Role {
    /// The spelling stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Secretariat => "secretariat",
            Role::Redactor => "redactor",
            Role::Auditor => "auditor",
            Role::Staff => "staff",
        }
    }

    fn parse(text: &str) -> Option<Role> {
        [
            Role::Admin,
            Role::Secretariat,
            Role::Redactor,
            Role::Auditor,
            Role::Staff,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }
}

/// A power granted to a redactor token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Power {
    /// Erase personal values (`decision.redacted`).
    Erase,
    /// Publish withheld content (`decision.published`).
    Publish,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token's unique name, written into every entry it records.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Body slugs a secretariat token may record for.
    pub bodies: Vec<String>,
    /// Powers of a redactor token.
    pub powers: Vec<Power>,
}

impl Token {
    /// Whether this token may record decisions and lineage for `body`.
    pub fn may_record_for(&self, body: &str) -> bool {
        self.role == Role::Secretariat && self.bodies.iter().any(|b| b == body)
    }

    /// Whether this token holds `power`.
    pub fn has(&self, power: Power) -> bool {
        self.role == Role::Redactor && self.powers.contains(&power)
    }

    /// Whether this token manages bodies and tokens.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this token may read the content of a record of `classification` of `body`.
    pub fn may_read(&self, classification: Classification, body: &str) -> bool {
        self.may_read_any_body(classification)
            || (classification == Classification::Restricted
                && self.role == Role::Secretariat
                && self.bodies.iter().any(|b| b == body))
    }

    /// Whether this token may read records of `classification` whatever their body: what the
    /// log's entry endpoints, search and statistics, which do not look at one body, may show it.
    pub fn may_read_any_body(&self, classification: Classification) -> bool {
        match classification {
            Classification::Public | Classification::Internal => true,
            Classification::Restricted => matches!(self.role, Role::Auditor | Role::Redactor),
        }
    }

    /// Whether this token may read disclosures stored with `visibility` (`public` or a
    /// classification) whatever their body.
    pub fn may_see_everywhere(&self, visibility: &str) -> bool {
        serde_json::from_value(serde_json::Value::String(visibility.to_owned()))
            .is_ok_and(|c| self.may_read_any_body(c))
    }
}

/// A token as listed: everything but its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenInfo {
    /// Unique name, written into every entry the token records.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Bodies a secretariat token records for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bodies: Vec<String>,
    /// Powers of a redactor token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub powers: Vec<Power>,
    /// When it was created (RFC 3339).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Which token created it (absent for tokens made with the CLI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// When it stops working (RFC 3339), if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// When it was revoked, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

/// What a new token is to be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "cabinet-clerk", "role": "secretariat", "bodies": ["cabinet"]}))]
pub struct NewToken {
    /// A unique name, 1 to 64 of `a-z 0-9 - _ .`; name tokens after offices, never people.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// For a secretariat: the body slugs it records for (at least one, each registered).
    #[serde(default)]
    pub bodies: Vec<String>,
    /// For a redactor: `erase`, `publish` or both (at least one).
    #[serde(default)]
    pub powers: Vec<Power>,
    /// When it stops working (RFC 3339, in the future); absent for no expiry.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl NewToken {
    /// Checks the shape; bodies are checked against the registry by the store.
    pub fn check(&self, now: DateTime<Utc>) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let name_ok = (1..=64).contains(&self.name.len())
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
        if !name_ok {
            errors.push(FieldError::new(
                "name",
                "must be 1 to 64 characters of a-z, 0-9, '-', '_' and '.'",
            ));
        } else if self.name == OPERATOR {
            errors.push(FieldError::new(
                "name",
                format!("{OPERATOR:?} is reserved: it records grants made from the command line"),
            ));
        }
        match self.role {
            Role::Secretariat if self.bodies.is_empty() => errors.push(FieldError::new(
                "bodies",
                "a secretariat token must name at least one body",
            )),
            Role::Secretariat => {}
            _ if !self.bodies.is_empty() => errors.push(FieldError::new(
                "bodies",
                "only a secretariat token is scoped to bodies",
            )),
            _ => {}
        }
        match self.role {
            Role::Redactor if self.powers.is_empty() => errors.push(FieldError::new(
                "powers",
                "a redactor token must be granted erase, publish or both",
            )),
            Role::Redactor => {}
            _ if !self.powers.is_empty() => errors.push(FieldError::new(
                "powers",
                "only a redactor token holds powers",
            )),
            _ => {}
        }
        // Bounded before each body is looked up in the registry, one query per body.
        if self.bodies.len() > MAX_TOKEN_BODIES {
            errors.push(FieldError::new(
                "bodies",
                format!(
                    "must list at most {MAX_TOKEN_BODIES} items, not {}",
                    self.bodies.len()
                ),
            ));
        } else {
            let mut seen = std::collections::HashSet::with_capacity(self.bodies.len());
            for (i, body) in self.bodies.iter().enumerate() {
                if !crate::record::is_slug(body) {
                    errors.push(FieldError::new(
                        format!("bodies[{i}]"),
                        "must be a body's slug: 1 to 64 lowercase letters, digits and single hyphens",
                    ));
                } else if !seen.insert(body.as_str()) {
                    errors.push(FieldError::new(format!("bodies[{i}]"), "is listed twice"));
                }
            }
        }
        if self.powers.len() == 2 && self.powers[0] == self.powers[1] || self.powers.len() > 2 {
            errors.push(FieldError::new(
                "powers",
                "must list erase, publish or both, each once",
            ));
        }
        if self.expires_at.is_some_and(|t| t <= now) {
            errors.push(FieldError::new("expires_at", "must be in the future"));
        }
        if self
            .expires_at
            .is_some_and(|t| chrono::Datelike::year(&t) > LATEST_YEAR)
        {
            errors.push(FieldError::new(
                "expires_at",
                format!("must be before {}-01-01", LATEST_YEAR + 1),
            ));
        }
        errors
    }
}

const PREFIX: &str = "dlt_";

/// The `recorded_by` of grants made without a token: by the command line, at the first start, or
/// when a log written before grants were recorded is upgraded.
pub const OPERATOR: &str = "operator";

/// The record of an `access.granted` entry (docs/log-format.md §5.10). `created_at` is given
/// only for a token created before its grant was recorded.
fn grant_record(row: &api_token::Model, created_at: Option<&str>) -> Value {
    let mut record = Map::new();
    record.insert("token".into(), json!(row.name));
    record.insert("role".into(), json!(row.role));
    for (member, list) in [("bodies", &row.bodies), ("powers", &row.powers)] {
        let list: Vec<String> = serde_json::from_str(list).unwrap_or_default();
        if !list.is_empty() {
            record.insert(member.into(), json!(list));
        }
    }
    if let Some(expires_at) = &row.expires_at {
        record.insert("expires_at".into(), json!(expires_at));
    }
    if let Some(created_at) = created_at {
        record.insert("created_at".into(), json!(created_at));
    }
    Value::Object(record)
}

/// Appends the `access.*` entry of `kind` about grant `grant_id` inside `txn`.
async fn record_access(
    txn: &DatabaseTransaction,
    kind: EntryKind,
    grant_id: &str,
    recorded_by: &str,
    record: Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let new = NewEntry {
        kind,
        decision_id: grant_id.to_owned(),
        recorded_by: recorded_by.to_owned(),
        record,
        disclosures: Vec::new(),
    };
    append_within(txn, new, now).await.map(|_| ())
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn info_of(row: api_token::Model) -> Result<TokenInfo, StoreError> {
    let bad = |what: &str| StoreError::Inconsistent(format!("token {}: bad {what}", row.name));
    Ok(TokenInfo {
        role: Role::parse(&row.role).ok_or_else(|| bad("role"))?,
        bodies: serde_json::from_str(&row.bodies).map_err(|_| bad("bodies"))?,
        powers: serde_json::from_str(&row.powers).map_err(|_| bad("powers"))?,
        created_at: row.created_at.clone(),
        created_by: row.created_by.clone(),
        expires_at: row.expires_at.clone(),
        revoked_at: row.revoked_at.clone(),
        name: row.name,
    })
}

/// Creates a token inside `txn`, with the `access.granted` entry that records it, and returns its
/// secret, which is not stored and cannot be shown again. `created_by` is the admin token's
/// name; `None` records the grant as made by [`OPERATOR`].
pub async fn insert_token(
    txn: &DatabaseTransaction,
    new: &NewToken,
    created_by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(TokenInfo, String), StoreError> {
    let errors = new.check(now);
    if !errors.is_empty() {
        return Err(StoreError::Invalid(errors));
    }
    let mut errors = Vec::new();
    for (i, body) in new.bodies.iter().enumerate() {
        if super::registry::find_body(txn, body).await?.is_none() {
            errors.push(FieldError::new(
                format!("bodies[{i}]"),
                format!("no body {body:?} is registered"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Invalid(errors));
    }
    if api_token::Entity::find_by_id(new.name.clone())
        .one(txn)
        .await?
        .is_some()
    {
        return Err(StoreError::Duplicate(format!(
            "a token named {:?}",
            new.name
        )));
    }
    let secret = format!(
        "{PREFIX}{}",
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
    );
    let row = api_token::Model {
        name: new.name.clone(),
        token_hash: Hash::digest(secret.as_bytes()).as_bytes().to_vec(),
        role: new.role.as_str().to_owned(),
        bodies: serde_json::to_string(&new.bodies).unwrap_or_else(|_| "[]".into()),
        powers: serde_json::to_string(&new.powers).unwrap_or_else(|_| "[]".into()),
        created_at: rfc3339(now),
        revoked_at: None,
        expires_at: new.expires_at.map(rfc3339),
        created_by: created_by.map(str::to_owned),
        grant_id: Some(uuid::Uuid::now_v7().to_string()),
    };
    api_token::Entity::insert(api_token::ActiveModel {
        name: Set(row.name.clone()),
        token_hash: Set(row.token_hash.clone()),
        role: Set(row.role.clone()),
        bodies: Set(row.bodies.clone()),
        powers: Set(row.powers.clone()),
        created_at: Set(row.created_at.clone()),
        revoked_at: Set(None),
        expires_at: Set(row.expires_at.clone()),
        created_by: Set(row.created_by.clone()),
        grant_id: Set(row.grant_id.clone()),
    })
    .exec_without_returning(txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            StoreError::Duplicate(format!("a token named {:?}", new.name))
        }
        _ => StoreError::Database(e),
    })?;
    record_access(
        txn,
        EntryKind::AccessGranted,
        row.grant_id.as_deref().unwrap_or_default(),
        created_by.unwrap_or(OPERATOR),
        grant_record(&row, None),
        now,
    )
    .await?;
    Ok((info_of(row)?, secret))
}

impl Store {
    /// Creates a token and returns its secret, which is not stored and cannot be shown again.
    pub async fn create_token(
        &self,
        new: &NewToken,
        created_by: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(TokenInfo, String), StoreError> {
        let (txn, _) = self.lock_head().await?;
        let created = insert_token(&txn, new, created_by, now).await?;
        txn.commit().await?;
        self.moved();
        Ok(created)
    }

    /// Every token, by name.
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        api_token::Entity::find()
            .order_by_asc(api_token::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(info_of)
            .collect()
    }

    /// Whether any token exists (a fresh deployment has none).
    pub async fn has_tokens(&self) -> Result<bool, StoreError> {
        Ok(api_token::Entity::find().one(&self.db).await?.is_some())
    }

    /// Revokes the token `name` and appends the `access.revoked` entry that records it;
    /// revoking a revoked token changes nothing. `revoked_by` is the admin token's name; `None`
    /// records it as done by [`OPERATOR`]. `None` when there is no such token.
    pub async fn revoke_token(
        &self,
        name: &str,
        revoked_by: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenInfo>, StoreError> {
        let (txn, _) = self.lock_head().await?;
        let revoked = api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, rfc3339(now).into())
            .filter(api_token::Column::Name.eq(name))
            .filter(api_token::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        let Some(row) = api_token::Entity::find_by_id(name.to_owned())
            .one(&txn)
            .await?
        else {
            return Ok(None);
        };
        if revoked.rows_affected == 1 {
            let grant = row.grant_id.as_deref().ok_or_else(|| {
                StoreError::Inconsistent(format!("token {name:?} has no recorded grant"))
            })?;
            record_access(
                &txn,
                EntryKind::AccessRevoked,
                grant,
                revoked_by.unwrap_or(OPERATOR),
                json!({"token": name}),
                now,
            )
            .await?;
        }
        txn.commit().await?;
        self.moved();
        info_of(row).map(Some)
    }

    /// Records on the log the grant (and revocation) of every token created before grants were
    /// recorded, oldest first, as made by [`OPERATOR`] with the token's own creation and
    /// revocation times in the record. Runs at start-up under the append lock; returns how many
    /// tokens it recorded, none once every token has its grant.
    pub(super) async fn backfill_grants(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let unrecorded = || api_token::Entity::find().filter(api_token::Column::GrantId.is_null());
        if unrecorded().one(&self.db).await?.is_none() {
            return Ok(0);
        }
        let (txn, _) = self.lock_head().await?;
        let rows = unrecorded()
            .order_by_asc(api_token::Column::CreatedAt)
            .order_by_asc(api_token::Column::Name)
            .all(&txn)
            .await?;
        for row in &rows {
            let grant = uuid::Uuid::now_v7().to_string();
            api_token::Entity::update_many()
                .col_expr(api_token::Column::GrantId, grant.clone().into())
                .filter(api_token::Column::Name.eq(row.name.as_str()))
                .exec(&txn)
                .await?;
            record_access(
                &txn,
                EntryKind::AccessGranted,
                &grant,
                OPERATOR,
                grant_record(row, Some(&row.created_at)),
                now,
            )
            .await?;
            if let Some(revoked_at) = &row.revoked_at {
                record_access(
                    &txn,
                    EntryKind::AccessRevoked,
                    &grant,
                    OPERATOR,
                    json!({"token": row.name, "revoked_at": revoked_at}),
                    now,
                )
                .await?;
            }
        }
        txn.commit().await?;
        self.moved();
        Ok(rows.len() as u64)
    }

    /// The live (not revoked, not expired) token whose secret is `secret`, if any.
    pub async fn authenticate(
        &self,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Token>, StoreError> {
        if !secret.starts_with(PREFIX) {
            return Ok(None);
        }
        let digest = Hash::digest(secret.as_bytes());
        let Some(row) = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(digest.as_bytes().to_vec()))
            .filter(api_token::Column::RevokedAt.is_null())
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        if !constant_time_eq(&row.token_hash, digest.as_bytes()) {
            return Ok(None);
        }
        let expired = row
            .expires_at
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .is_some_and(|t| t <= now);
        if expired {
            return Ok(None);
        }
        let info = info_of(row)?;
        Ok(Some(Token {
            name: info.name,
            role: info.role,
            bodies: info.bodies,
            powers: info.powers,
        }))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(role: Role) -> NewToken {
        NewToken {
            name: "cabinet-clerk".into(),
            role,
            bodies: Vec::new(),
            powers: Vec::new(),
            expires_at: None,
        }
    }

    #[test]
    fn token_shapes_are_checked() {
        let now = Utc::now();
        assert_eq!(new(Role::Staff).check(now), vec![]);
        let fields =
            |t: NewToken| -> Vec<String> { t.check(now).into_iter().map(|e| e.field).collect() };
        assert_eq!(fields(new(Role::Secretariat)), ["bodies"]);
        assert_eq!(fields(new(Role::Redactor)), ["powers"]);
        let mut t = new(Role::Auditor);
        t.name = "Jane Smith".into();
        t.bodies = vec!["cabinet".into()];
        t.powers = vec![Power::Erase];
        t.expires_at = Some(now - chrono::Duration::seconds(1));
        assert_eq!(fields(t), ["name", "bodies", "powers", "expires_at"]);
    }

    #[test]
    fn token_lists_are_bounded_unique_and_checked_in_linear_time() {
        let now = Utc::now();
        let fields =
            |t: NewToken| -> Vec<String> { t.check(now).into_iter().map(|e| e.field).collect() };
        let mut t = new(Role::Secretariat);
        t.bodies = vec!["cabinet".into(); 60_000];
        assert_eq!(fields(t.clone()), ["bodies"]);
        t.bodies = vec!["cabinet".into(), "Cabinet Office".into(), "cabinet".into()];
        assert_eq!(fields(t.clone()), ["bodies[1]", "bodies[2]"]);
        t.bodies = (0..MAX_TOKEN_BODIES).map(|i| format!("b{i}")).collect();
        assert_eq!(fields(t), Vec::<String>::new());
        let mut r = new(Role::Redactor);
        r.powers = vec![Power::Erase, Power::Erase];
        assert_eq!(fields(r.clone()), ["powers"]);
        r.powers = vec![Power::Publish, Power::Erase];
        assert_eq!(fields(r.clone()), Vec::<String>::new());
        r.expires_at = "2200-01-01T00:00:00Z".parse().ok();
        assert_eq!(fields(r), ["expires_at"]);
    }

    #[test]
    fn read_rights_follow_roles_and_bodies() {
        let token = |role, bodies: &[&str]| Token {
            name: "t".into(),
            role,
            bodies: bodies.iter().map(|b| b.to_string()).collect(),
            powers: vec![],
        };
        let restricted = Classification::Restricted;
        assert!(token(Role::Auditor, &[]).may_read(restricted, "cabinet"));
        assert!(token(Role::Redactor, &[]).may_read(restricted, "cabinet"));
        assert!(token(Role::Secretariat, &["cabinet"]).may_read(restricted, "cabinet"));
        assert!(!token(Role::Secretariat, &["planning"]).may_read(restricted, "cabinet"));
        assert!(!token(Role::Staff, &[]).may_read(restricted, "cabinet"));
        assert!(!token(Role::Admin, &[]).may_read(restricted, "cabinet"));
        assert!(token(Role::Staff, &[]).may_read(Classification::Internal, "cabinet"));
        assert!(!token(Role::Admin, &[]).may_record_for("cabinet"));
    }
}
