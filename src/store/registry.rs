//! The registry of deciding bodies and their members over time, kept by admins.
//!
//! A decision names its body by slug and the slug must be registered. Membership is a dated
//! history (`from`, `until`), so "who sat on the committee on 3 March" has an answer. The
//! registry is configuration, not evidence: it is not hashed into the log.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::entities::{body, body_member};
use super::{Store, StoreError};
use crate::record::{FieldError, MAX_NAME_CHARS};

/// What kind of body it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// Full council or general assembly.
    Council,
    /// The executive: cabinet or leadership team.
    Cabinet,
    /// A committee or sub-committee.
    Committee,
    /// A board (trustees, directors, a partnership board).
    Board,
    /// A panel or working group.
    Panel,
    /// A team or service.
    Team,
    /// An individual's office, for decisions by a cabinet member or an officer.
    Office,
}

impl BodyKind {
    fn as_str(self) -> &'static str {
        match self {
            BodyKind::Council => "council",
            BodyKind::Cabinet => "cabinet",
            BodyKind::Committee => "committee",
            BodyKind::Board => "board",
            BodyKind::Panel => "panel",
            BodyKind::Team => "team",
            BodyKind::Office => "office",
        }
    }

    fn parse(text: &str) -> Option<BodyKind> {
        serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
    }
}

/// A body to register.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"slug": "overview-and-scrutiny", "name": "Overview and Scrutiny Committee", "kind": "committee"}))]
pub struct NewBody {
    /// Its slug, used in decisions and URLs: lowercase letters, digits and single hyphens.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)]
    pub slug: String,
    /// Its name.
    pub name: String,
    /// What kind of body it is.
    pub kind: BodyKind,
}

/// A body's new name and kind (its slug never changes: decisions name it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Cabinet", "kind": "cabinet"}))]
pub struct BodyChange {
    /// Its name.
    pub name: String,
    /// What kind of body it is.
    pub kind: BodyKind,
}

/// A membership to add.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Cllr A. Patel", "role": "chair", "organisation": "Labour group", "from": "2026-05-21"}))]
pub struct NewMember {
    /// The member's name.
    pub name: String,
    /// Their role on the body, e.g. chair, member, co-opted member, clerk.
    pub role: String,
    /// Their group, team or organisation.
    #[serde(default)]
    pub organisation: Option<String>,
    /// First day of membership.
    #[serde(deserialize_with = "crate::record::date")]
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    /// Last day of membership, if it has ended.
    #[serde(default, deserialize_with = "crate::record::optional_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub until: Option<NaiveDate>,
}

/// The end of a membership.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"until": "2026-11-30"}))]
pub struct EndMembership {
    /// Last day of membership.
    #[serde(deserialize_with = "crate::record::date")]
    #[schema(value_type = String, format = Date)]
    pub until: NaiveDate,
}

/// A membership of a body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Member {
    /// The membership's id.
    pub id: uuid::Uuid,
    /// The member's name.
    pub name: String,
    /// Their role on the body.
    pub role: String,
    /// Their group, team or organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// First day of membership.
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    /// Last day of membership, if it has ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub until: Option<NaiveDate>,
}

/// A registered body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Body {
    /// Its slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// What kind of body it is.
    pub kind: BodyKind,
    /// When it was registered.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Its members over time, earliest first (absent from lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<Member>>,
}

fn body_of(row: body::Model) -> Result<Body, StoreError> {
    Ok(Body {
        kind: BodyKind::parse(&row.kind).ok_or_else(|| {
            StoreError::Inconsistent(format!("body {}: unknown kind {}", row.slug, row.kind))
        })?,
        slug: row.slug,
        name: row.name,
        created_at: row.created_at,
        members: None,
    })
}

fn member_of(row: body_member::Model) -> Result<Member, StoreError> {
    let bad = || StoreError::Inconsistent(format!("membership {}: bad row", row.id));
    Ok(Member {
        id: uuid::Uuid::parse_str(&row.id).map_err(|_| bad())?,
        from: row.from_date.parse().map_err(|_| bad())?,
        until: row
            .until_date
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|_| bad())?,
        name: row.name,
        role: row.role,
        organisation: row.organisation,
    })
}

/// The body `slug`, without members.
pub(crate) async fn find_body(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<Body>, StoreError> {
    body::Entity::find_by_id(slug.to_owned())
        .one(db)
        .await?
        .map(body_of)
        .transpose()
}

/// Names, roles and organisations: lines (`crate::text`) of 1 to 200 characters.
fn text_errors(fields: &[(&str, &str)]) -> Vec<FieldError> {
    fields
        .iter()
        .filter_map(|(field, text)| {
            let problem = if text.trim().is_empty() {
                Some(format!("must be 1 to {MAX_NAME_CHARS} characters"))
            } else {
                crate::text::line_problem(text, MAX_NAME_CHARS)
            };
            problem.map(|message| FieldError::new(*field, message))
        })
        .collect()
}

/// Registers a body.
pub async fn insert_body(
    db: &impl ConnectionTrait,
    new: &NewBody,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<Body, StoreError> {
    let mut errors = text_errors(&[("name", &new.name)]);
    if !crate::record::is_slug(&new.slug) {
        errors.push(FieldError::new(
            "slug",
            "must be lowercase letters, digits and single hyphens, at most 64 characters",
        ));
    }
    if !errors.is_empty() {
        return Err(StoreError::Invalid(errors));
    }
    if find_body(db, &new.slug).await?.is_some() {
        return Err(StoreError::Duplicate(format!("a body {:?}", new.slug)));
    }
    let row = body::Model {
        slug: new.slug.clone(),
        name: new.name.trim().to_owned(),
        kind: new.kind.as_str().to_owned(),
        created_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
        created_by: created_by.to_owned(),
    };
    body::Entity::insert(body::ActiveModel {
        slug: Set(row.slug.clone()),
        name: Set(row.name.clone()),
        kind: Set(row.kind.clone()),
        created_at: Set(row.created_at.clone()),
        created_by: Set(row.created_by.clone()),
    })
    .exec_without_returning(db)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            StoreError::Duplicate(format!("a body {:?}", new.slug))
        }
        _ => StoreError::Database(e),
    })?;
    let mut body = body_of(row)?;
    body.members = Some(Vec::new());
    Ok(body)
}

/// Adds a membership to the body `slug`.
pub async fn insert_member(
    db: &impl ConnectionTrait,
    slug: &str,
    new: &NewMember,
) -> Result<Member, StoreError> {
    let mut errors = text_errors(&[("name", &new.name), ("role", &new.role)]);
    if let Some(org) = &new.organisation {
        errors.extend(text_errors(&[("organisation", org)]));
    }
    if new.until.is_some_and(|u| u < new.from) {
        errors.push(FieldError::new("until", "must not be before from"));
    }
    if !errors.is_empty() {
        return Err(StoreError::Invalid(errors));
    }
    if find_body(db, slug).await?.is_none() {
        return Err(StoreError::NotFound(format!("no body {slug:?}")));
    }
    let member = Member {
        id: uuid::Uuid::now_v7(),
        name: new.name.trim().to_owned(),
        role: new.role.trim().to_owned(),
        organisation: new.organisation.as_deref().map(|o| o.trim().to_owned()),
        from: new.from,
        until: new.until,
    };
    body_member::Entity::insert(body_member::ActiveModel {
        id: Set(member.id.to_string()),
        body: Set(slug.to_owned()),
        name: Set(member.name.clone()),
        role: Set(member.role.clone()),
        organisation: Set(member.organisation.clone()),
        from_date: Set(member.from.to_string()),
        until_date: Set(member.until.map(|d| d.to_string())),
    })
    .exec_without_returning(db)
    .await?;
    Ok(member)
}

/// Ends membership `id` of body `slug`.
pub async fn end_member(
    db: &impl ConnectionTrait,
    slug: &str,
    id: &str,
    end: &EndMembership,
) -> Result<Member, StoreError> {
    let row = body_member::Entity::find_by_id(id.to_owned())
        .filter(body_member::Column::Body.eq(slug))
        .one(db)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no membership {id} of body {slug:?}")))?;
    let mut member = member_of(row)?;
    if member.until.is_some() {
        return Err(StoreError::Conflict(format!(
            "membership {id} has already ended"
        )));
    }
    if end.until < member.from {
        return Err(StoreError::Invalid(vec![FieldError::new(
            "until",
            "must not be before the membership's from",
        )]));
    }
    body_member::Entity::update_many()
        .col_expr(body_member::Column::UntilDate, end.until.to_string().into())
        .filter(body_member::Column::Id.eq(id))
        .exec(db)
        .await?;
    member.until = Some(end.until);
    Ok(member)
}

impl Store {
    /// Renames body `slug` or changes its kind; `None` when there is no such body.
    pub async fn update_body(
        &self,
        slug: &str,
        change: &BodyChange,
    ) -> Result<Option<Body>, StoreError> {
        let errors = text_errors(&[("name", &change.name)]);
        if !errors.is_empty() {
            return Err(StoreError::Invalid(errors));
        }
        let updated = body::Entity::update_many()
            .col_expr(body::Column::Name, change.name.trim().into())
            .col_expr(body::Column::Kind, change.kind.as_str().into())
            .filter(body::Column::Slug.eq(slug))
            .exec(&self.db)
            .await?;
        if updated.rows_affected == 0 {
            return Ok(None);
        }
        find_body(&self.db, slug).await
    }

    /// Every registered body, by slug.
    pub async fn list_bodies(&self) -> Result<Vec<Body>, StoreError> {
        body::Entity::find()
            .order_by_asc(body::Column::Slug)
            .all(&self.db)
            .await?
            .into_iter()
            .map(body_of)
            .collect()
    }

    /// The body `slug` with its members over time.
    pub async fn body(&self, slug: &str) -> Result<Option<Body>, StoreError> {
        let Some(mut body) = find_body(&self.db, slug).await? else {
            return Ok(None);
        };
        let members = body_member::Entity::find()
            .filter(body_member::Column::Body.eq(slug))
            .order_by_asc(body_member::Column::FromDate)
            .order_by_asc(body_member::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(member_of)
            .collect::<Result<_, _>>()?;
        body.members = Some(members);
        Ok(Some(body))
    }

    /// Whether `slug` is registered.
    pub async fn body_exists(&self, slug: &str) -> Result<bool, StoreError> {
        Ok(find_body(&self.db, slug).await?.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_names_are_lines_of_1_to_200_characters() {
        let fields = |pairs: &[(&str, &str)]| -> Vec<String> {
            text_errors(pairs).into_iter().map(|e| e.field).collect()
        };
        assert!(fields(&[("name", "Overview and Scrutiny Committee")]).is_empty());
        let long = "x".repeat(201);
        assert_eq!(
            fields(&[
                ("name", " "),
                ("role", "chair\u{200b}"),
                ("organisation", &long),
                ("other", "Cllr A.\nPatel"),
            ]),
            ["name", "role", "organisation", "other"]
        );
    }

    #[test]
    fn membership_dates_keep_to_the_accepted_range() {
        let member = |from: &str| {
            serde_json::from_value::<NewMember>(
                serde_json::json!({"name": "n", "role": "chair", "from": from}),
            )
        };
        assert!(member("2026-05-21").is_ok());
        assert!(member("0000-01-01").is_err());
        assert!(member("+10000-01-01").is_err());
    }
}
