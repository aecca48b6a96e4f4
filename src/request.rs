//! Reading a write request's JSON object into its type, naming every bad member in one refusal.
//!
//! serde stops at the first error, and its message names a nested member only in words ("unknown
//! variant `executive`", with no path). [`parse`] reads the object first as a whole; only when
//! that fails does it look at each member on its own, so that one refusal lists every unknown
//! member, every value of the wrong shape with its JSON path (`evidence[2].sha256`), and every
//! required member that is missing. The record itself (`crate::record`) has its own field-by-field
//! reader, which also runs the record's checks on every field that parsed.
//!
//! Which members exist and which are required is read from the type's OpenAPI schema
//! (`utoipa::ToSchema`), the same one the API document publishes; the values are decoded by the
//! type's own `Deserialize`, so a request accepted here is exactly one serde accepts.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use utoipa::openapi::{RefOr, Schema};

use crate::record::FieldError;

/// Parses `body` as a `T`, or names every offending member: unknown, of the wrong shape (with its
/// path inside the member) or missing.
pub fn parse<T: DeserializeOwned + utoipa::PartialSchema>(
    body: &Value,
) -> Result<T, Vec<FieldError>> {
    let Some(object) = body.as_object() else {
        return Err(vec![FieldError::new("", "the body must be a JSON object")]);
    };
    let whole = match serde_path_to_error::deserialize::<_, T>(body) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    let (members, required) = shape::<T>();
    let mut errors = Vec::new();
    for (name, value) in object {
        if !members.iter().any(|m| m == name) {
            errors.push(FieldError::new(name, "unknown field"));
        } else if value.is_null() && required.iter().any(|r| r == name) {
            errors.push(FieldError::new(name, "is required"));
        } else if let Some(error) = member_error::<T>(name, value) {
            errors.push(error);
        }
    }
    for name in &required {
        if !object.contains_key(name) {
            errors.push(FieldError::new(name, "is required"));
        }
    }
    if errors.is_empty() {
        // The schema and serde disagree about this body: serde's own error still names where.
        errors.push(field_error(whole));
    }
    Err(errors)
}

/// The error of member `name` read alone, if its value does not fit. Read alone, the object
/// misses the other required members, but serde's derived structs decode every present value
/// before they look for missing ones: an error at the root is about another member.
fn member_error<T: DeserializeOwned>(name: &str, value: &Value) -> Option<FieldError> {
    let alone = Value::Object(Map::from_iter([(name.to_owned(), value.clone())]));
    let error = serde_path_to_error::deserialize::<_, T>(&alone).err()?;
    let at_root = error.path().iter().next().is_none();
    (!at_root).then(|| field_error(error))
}

/// A serde error as a field error, at its path (`items[2].role`; an unknown member's path ends
/// with its name).
fn field_error(error: serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let path = error.path().to_string();
    let field = if path == "." { String::new() } else { path };
    FieldError::new(field, error.into_inner().to_string())
}

/// The members of `T`'s schema and those it requires.
fn shape<T: utoipa::PartialSchema>() -> (Vec<String>, Vec<String>) {
    match T::schema() {
        RefOr::T(Schema::Object(object)) => (
            object.properties.keys().cloned().collect(),
            object.required.clone(),
        ),
        _ => (Vec::new(), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;
    use utoipa::ToSchema;

    use super::*;

    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Probe {
        kind: Kind,
        name: String,
        #[serde(deserialize_with = "crate::record::date")]
        #[schema(value_type = String)]
        on: chrono::NaiveDate,
        #[serde(default)]
        items: Vec<Item>,
        #[serde(default)]
        note: Option<String>,
    }

    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Cabinet,
    }

    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        role: Kind,
    }

    fn fields(body: Value) -> Vec<String> {
        parse::<Probe>(&body)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_valid_body_parses() {
        let probe: Probe =
            parse(&json!({"kind": "cabinet", "name": "x", "on": "2026-01-02"})).expect("valid");
        assert_eq!(probe.name, "x");
    }

    #[test]
    fn every_bad_member_is_named_with_its_path() {
        let got = fields(json!({
            "kind": "executive",
            "name": 7,
            "on": "2300-01-01",
            "items": [{"role": "cabinet"}, {"role": "cabinet"}, {"role": "chair"}],
            "colour": "blue",
        }));
        let mut got = got;
        got.sort();
        assert_eq!(got, ["colour", "items[2].role", "kind", "name", "on"]);
    }

    #[test]
    fn every_missing_member_is_named_and_null_counts_as_missing() {
        assert_eq!(fields(json!({"name": null})), ["name", "kind", "on"]);
    }

    #[test]
    fn an_unknown_member_of_a_nested_object_is_named_by_its_path() {
        let errors = parse::<Probe>(&json!({
            "kind": "cabinet", "name": "x", "on": "2026-01-02",
            "items": [{"role": "cabinet", "colour": "blue"}],
        }))
        .err()
        .unwrap_or_default();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "items[0].colour");
        assert!(errors[0].message.contains("unknown field"), "{errors:?}");
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused_as_a_whole() {
        assert_eq!(fields(json!([1, 2])), [""]);
    }
}
