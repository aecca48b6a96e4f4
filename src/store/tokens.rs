//! API tokens: created once, shown once, stored only as a SHA-256 hash.
//!
//! A token is `dlt_` followed by 32 random bytes in unpadded base64url. It is looked up by the
//! hash of what the client presents, so the secret is never stored and a timing difference in
//! the lookup reveals nothing about it; the final comparison is constant-time all the same.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use ledger::Hash;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::entities::api_token;
use super::{Store, StoreError};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Everything, for any body.
    Admin,
    /// Records decisions for the bodies listed on the token.
    Secretariat,
}

impl Role {
    /// The spelling stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Secretariat => "secretariat",
        }
    }

    fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "secretariat" => Some(Role::Secretariat),
            _ => None,
        }
    }
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
}

impl Token {
    /// Whether this token may record decisions of `body`.
    pub fn may_record_for(&self, body: &str) -> bool {
        self.role == Role::Admin || self.bodies.iter().any(|b| b == body)
    }
}

const PREFIX: &str = "dlt_";

impl Store {
    /// Creates a token and returns its secret, which is not stored and cannot be shown again.
    pub async fn create_token(
        &self,
        name: &str,
        role: Role,
        bodies: &[String],
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let secret = format!(
            "{PREFIX}{}",
            URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
        );
        let existing = api_token::Entity::find_by_id(name.to_owned())
            .one(&self.db)
            .await?;
        if existing.is_some() {
            return Err(StoreError::Duplicate(format!("a token named {name:?}")));
        }
        api_token::Entity::insert(api_token::ActiveModel {
            name: Set(name.to_owned()),
            token_hash: Set(Hash::digest(secret.as_bytes()).as_bytes().to_vec()),
            role: Set(role.as_str().to_owned()),
            bodies: Set(serde_json::to_string(bodies).unwrap_or_else(|_| "[]".into())),
            created_at: Set(now.to_rfc3339_opts(SecondsFormat::Secs, true)),
            revoked_at: Set(None),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(secret)
    }

    /// The live token whose secret is `secret`, if any.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Token>, StoreError> {
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
        let role = Role::parse(&row.role).ok_or_else(|| {
            StoreError::Inconsistent(format!("token {}: unknown role {}", row.name, row.role))
        })?;
        let bodies = serde_json::from_str(&row.bodies).map_err(|_| {
            StoreError::Inconsistent(format!("token {}: bodies are not a JSON list", row.name))
        })?;
        Ok(Some(Token {
            name: row.name,
            role,
            bodies,
        }))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
