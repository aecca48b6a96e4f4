//! What the OpenAPI document says that the handlers' annotations cannot, or should not each
//! repeat: the conventions every operation shares, applied in one place so that no operation can
//! forget one and the document cannot drift from what the service does.
//!
//! - **Servers**: the document is served by the deployment it describes, so its one server is the
//!   relative URL `/` (OpenAPI 3.1 §4.8.5): a client generated from it calls whatever host it
//!   fetched the document from.
//! - **Security**: the document's default is `[{}, {"bearer": []}]`, a token optional: what most
//!   reads take (anonymously, public content; with a token, what it may read). Operations whose
//!   annotations say exactly that inherit the default instead of repeating it, so that client
//!   generators which read only an operation's own `security` (openapi-python-client) type them
//!   as callable without a token. Writes say `[{"bearer": []}]`; an operation that takes no
//!   token at all (the health probes) says `[]`.
//! - **`Idempotency-Key`**: wherever it is accepted, its schema is what
//!   [`super::idempotency`] accepts (1 to 255 visible ASCII characters).
//! - **Response headers** the service sets on every answer of a kind, set by
//!   [`super::error`] and the write handlers: `WWW-Authenticate` on 401, `Retry-After` on 503,
//!   `Accept-Post` on 415, `Idempotent-Replayed` on a write's success, and `X-Request-Id` on
//!   every answer (`crate::telemetry`).
//! - **Request-body examples**: each request body's media type carries its schema's example, so
//!   generated clients, the Swagger UI and fuzzers start from a request that the service accepts.
//!   The examples' dates are in the past and carry no expiry, so they stay valid as time passes.
//! - **Free-form objects** (an entry, an event's detail, published values) say so with
//!   `additionalProperties: true`, so that generated types read them as maps of any JSON value,
//!   not as objects that can hold nothing.
//! - **A record's optional lists** take `null` for "none", as `record`'s reader does, and say so.
//! - **`AmendmentRequest.changes`** is typed field by field from the record's own schema: a
//!   change has the shape the record gives that field.

use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{AdditionalProperties, Object, Schema, SchemaType, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::server::Server;
use utoipa::openapi::{OpenApi, RefOr};

use super::idempotency;
use crate::lineage::AMENDABLE_FIELDS;

/// The modifier that applies the conventions.
pub struct Conventions;

impl utoipa::Modify for Conventions {
    fn modify(&self, openapi: &mut OpenApi) {
        let mut server = Server::new("/");
        server.description = Some("The deployment that serves this document".into());
        openapi.servers = Some(vec![server]);
        let optional = token_optional();
        openapi.security = Some(optional.clone());
        let examples = schema_examples(openapi);
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                apply(operation, &examples, &optional);
            }
        }
        type_amendment_changes(openapi);
        let_lists_be_null(openapi, "DecisionRecord");
        if let Some(components) = openapi.components.as_mut() {
            for schema in components.schemas.values_mut() {
                declare_free_form(schema);
            }
        }
    }
}

/// Declares every optional array property of `schema` as `["array", "null"]`.
fn let_lists_be_null(openapi: &mut OpenApi, schema: &str) {
    let Some(RefOr::T(Schema::Object(object))) = openapi
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut(schema))
    else {
        return;
    };
    for (name, property) in object.properties.iter_mut() {
        if object.required.contains(name) {
            continue;
        }
        if let RefOr::T(Schema::Array(array)) = property {
            array.schema_type = SchemaType::Array(vec![Type::Array, Type::Null]);
        }
    }
}

/// Marks every object schema under `schema` that has no properties and says nothing of others
/// as free-form.
fn declare_free_form(schema: &mut RefOr<Schema>) {
    match schema {
        RefOr::T(Schema::Object(object)) => {
            let is_object = matches!(&object.schema_type, SchemaType::Type(Type::Object));
            if is_object && object.properties.is_empty() && object.additional_properties.is_none() {
                object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(true)));
            }
            for property in object.properties.values_mut() {
                declare_free_form(property);
            }
        }
        RefOr::T(Schema::Array(array)) => {
            if let utoipa::openapi::schema::ArrayItems::RefOrSchema(items) = &mut array.items {
                declare_free_form(items);
            }
        }
        RefOr::T(Schema::OneOf(one_of)) => one_of.items.iter_mut().for_each(declare_free_form),
        RefOr::T(Schema::AllOf(all_of)) => all_of.items.iter_mut().for_each(declare_free_form),
        RefOr::T(Schema::AnyOf(any_of)) => any_of.items.iter_mut().for_each(declare_free_form),
        _ => {}
    }
}

/// The example of every component schema that has one, by `$ref`.
fn schema_examples(openapi: &OpenApi) -> Vec<(String, serde_json::Value)> {
    let Some(components) = &openapi.components else {
        return Vec::new();
    };
    components
        .schemas
        .iter()
        .filter_map(|(name, schema)| match schema {
            RefOr::T(Schema::Object(object)) => object
                .example
                .clone()
                .map(|e| (format!("#/components/schemas/{name}"), e)),
            _ => None,
        })
        .collect()
}

/// A token optional: anonymous, or a bearer token.
fn token_optional() -> Vec<SecurityRequirement> {
    vec![
        SecurityRequirement::default(),
        SecurityRequirement::new("bearer", Vec::<String>::new()),
    ]
}

fn string_header(description: &str) -> Header {
    let mut header = Header::new(Object::with_type(Type::String));
    header.description = Some(description.into());
    header
}

fn apply(
    operation: &mut Operation,
    examples: &[(String, serde_json::Value)],
    optional: &[SecurityRequirement],
) {
    match &operation.security {
        None => operation.security = Some(Vec::new()),
        Some(security) if security == optional => operation.security = None,
        Some(_) => {}
    }
    let mut idempotent = false;
    for parameter in operation.parameters.iter_mut().flatten() {
        if parameter.parameter_in == ParameterIn::Header && parameter.name == idempotency::HEADER {
            let mut key = Object::with_type(Type::String);
            key.min_length = Some(1);
            key.max_length = Some(255);
            key.pattern = Some(idempotency::PATTERN.into());
            parameter.schema = Some(RefOr::T(Schema::Object(key)));
            idempotent = true;
        }
    }
    if let Some(body) = &mut operation.request_body {
        for content in body.content.values_mut() {
            if content.example.is_some() {
                continue;
            }
            if let Some(RefOr::Ref(reference)) = &content.schema {
                content.example = examples
                    .iter()
                    .find(|(name, _)| *name == reference.ref_location)
                    .map(|(_, example)| example.clone());
            }
        }
    }
    for (status, response) in &mut operation.responses.responses {
        let RefOr::T(response) = response else {
            continue;
        };
        let header = match status.as_str() {
            "401" => Some((
                "WWW-Authenticate",
                string_header("`Bearer`: the scheme a token is sent with"),
            )),
            "415" => Some((
                "Accept-Post",
                string_header("`application/json`: the media type a body must have"),
            )),
            "503" => {
                let mut header = Header::new(Object::with_type(Type::Integer));
                header.description = Some("Seconds to wait before retrying".into());
                Some(("Retry-After", header))
            }
            success if idempotent && success.starts_with('2') => Some((
                idempotency::REPLAYED_HEADER,
                string_header(
                    "`true` when this answers a retry of an earlier request with the same \
                     Idempotency-Key and body (nothing new was written); absent otherwise",
                ),
            )),
            _ => None,
        };
        if let Some((name, header)) = header {
            response.headers.entry(name.into()).or_insert(header);
        }
        response
            .headers
            .entry("X-Request-Id".into())
            .or_insert_with(|| {
                string_header(
                    "This request's id, as the access log and a problem's `request_id` carry it",
                )
            });
    }
}

/// Types `AmendmentRequest.changes` as an object whose members are the amendable fields, each
/// with the schema `DecisionRecord` gives it.
fn type_amendment_changes(openapi: &mut OpenApi) {
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    let Some(RefOr::T(Schema::Object(record))) = components.schemas.get("DecisionRecord") else {
        return;
    };
    let fields: Vec<(String, RefOr<Schema>)> = AMENDABLE_FIELDS
        .iter()
        .filter_map(|field| {
            record
                .properties
                .get(*field)
                .map(|schema| ((*field).to_owned(), schema.clone()))
        })
        .collect();
    let Some(RefOr::T(Schema::Object(request))) = components.schemas.get_mut("AmendmentRequest")
    else {
        return;
    };
    let Some(RefOr::T(Schema::Object(changes))) = request.properties.get_mut("changes") else {
        return;
    };
    changes.schema_type = SchemaType::Type(Type::Object);
    changes.properties = fields.into_iter().collect();
    changes.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
    changes.min_properties = Some(1);
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn document() -> Value {
        serde_json::from_str(&crate::api::openapi_json()).unwrap_or(Value::Null)
    }

    #[test]
    fn every_operation_declares_its_security_and_every_key_its_pattern() {
        let document = document();
        let optional = serde_json::json!([{}, {"bearer": []}]);
        assert_eq!(document["security"], optional);
        let mut keys = 0;
        let mut inherited = 0;
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                assert_ne!(
                    operation["security"], optional,
                    "{method} {path} repeats the default"
                );
                if operation["security"].is_null() {
                    inherited += 1;
                    assert!(
                        *method == "get" && !path.starts_with("/api/v1/tokens"),
                        "{method} {path} takes a token optionally"
                    );
                }
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    if parameter["name"] == "Idempotency-Key" {
                        keys += 1;
                        assert_eq!(parameter["schema"]["pattern"], super::idempotency::PATTERN);
                        assert_eq!(parameter["schema"]["maxLength"], 255);
                    }
                }
            }
        }
        assert!(
            keys >= 12,
            "only {keys} operations accept an Idempotency-Key"
        );
        assert!(
            inherited >= 10,
            "only {inherited} operations take a token optionally"
        );
        assert_eq!(
            document["paths"]["/api/v1/decisions"]["post"]["security"],
            serde_json::json!([{"bearer": []}])
        );
        assert_eq!(
            document["paths"]["/health/live"]["get"]["security"],
            serde_json::json!([])
        );
    }

    #[test]
    fn every_request_body_has_an_example_and_refusals_name_their_headers() {
        let document = document();
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                for (media, content) in operation["requestBody"]["content"]
                    .as_object()
                    .into_iter()
                    .flatten()
                {
                    assert!(
                        content["example"].is_object(),
                        "{method} {path} {media} has no example"
                    );
                }
                let responses = &operation["responses"];
                if responses["401"].is_object() {
                    assert!(responses["401"]["headers"]["WWW-Authenticate"].is_object());
                }
                if responses["503"].is_object() {
                    assert!(responses["503"]["headers"]["Retry-After"].is_object());
                }
                for (status, response) in responses.as_object().into_iter().flatten() {
                    assert!(
                        response["headers"]["X-Request-Id"].is_object(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
        let replayed = &document["paths"]["/api/v1/decisions"]["post"]["responses"]["201"]["headers"]
            ["Idempotent-Replayed"];
        assert!(replayed.is_object());
    }

    #[test]
    fn a_records_optional_lists_may_be_null_and_its_required_ones_not() {
        let document = document();
        let record = &document["components"]["schemas"]["DecisionRecord"]["properties"];
        assert_eq!(record["tags"]["type"], serde_json::json!(["array", "null"]));
        assert_eq!(
            record["documents"]["type"],
            serde_json::json!(["array", "null"])
        );
        assert_eq!(record["participants"]["type"], "array");
    }

    #[test]
    fn free_form_objects_say_so() {
        let document = document();
        let schemas = &document["components"]["schemas"];
        for (schema, property) in [
            ("LineageEvent", "detail"),
            ("LogEntry", "entry"),
            ("Withheld", "published"),
        ] {
            assert_eq!(
                schemas[schema]["properties"][property]["additionalProperties"], true,
                "{schema}.{property}"
            );
        }
    }

    #[test]
    fn an_amendment_names_the_fields_it_may_change_with_their_record_schemas() {
        let document = document();
        let changes =
            &document["components"]["schemas"]["AmendmentRequest"]["properties"]["changes"];
        assert_eq!(changes["additionalProperties"], false);
        assert_eq!(changes["minProperties"], 1);
        let record = &document["components"]["schemas"]["DecisionRecord"]["properties"];
        for field in crate::lineage::AMENDABLE_FIELDS {
            // A record may say `null` for an optional list; an amendment names the new list.
            let mut expected = record[field].clone();
            if expected["type"] == serde_json::json!(["array", "null"]) {
                expected["type"] = "array".into();
            }
            assert_eq!(changes["properties"][field], expected, "{field}");
        }
    }
}
