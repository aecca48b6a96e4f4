//! The limits and text rules of request bodies, declared in the OpenAPI document from the same
//! constants the validation enforces, so the document cannot drift from the service.
//!
//! Each [`RULES`] entry names a schema and a path in it; [`declare`] sets the JSON Schema
//! keywords there (`maxItems`, `minItems`, `uniqueItems`, `maxLength`, `minLength`, `pattern`,
//! `maxProperties`). A rule whose path is missing is reported, and a test requires none to be.
//! The patterns spell the refused characters of `crate::text` as ECMA-262 character classes;
//! the Unicode tag characters (U+E0000–U+E007F), outside the Basic Multilingual Plane, are
//! refused by the service but not spelt in the pattern.

use utoipa::openapi::OpenApi;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayItems, Schema};

use crate::lineage::AMENDABLE_FIELDS;
use crate::record::{
    MAX_ALTERNATIVES, MAX_CONFLICTS, MAX_DOCUMENTS, MAX_INPUTS, MAX_NAME_CHARS, MAX_PARTICIPANTS,
    MAX_TAG_CHARS, MAX_TAGS, MAX_TITLE_CHARS, MAX_URI_CHARS, WITHHELD_FIELDS,
};
use crate::store::MAX_TOKEN_BODIES;

/// The characters a line (`crate::text`) refuses: control, invisible and bidirectional
/// formatting characters, as the inside of an ECMA-262 character class.
macro_rules! line_refused {
    () => {
        r"\u0000-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2028-\u202E\u2060-\u2064\u2066-\u206F\u3164\uFEFF\uFFA0\uFFF9-\uFFFB"
    };
}

/// The characters prose (`crate::text`) refuses: control characters but newline and tab.
macro_rules! prose_refused {
    () => {
        r"\u0000-\u0008\u000B-\u001F\u007F-\u009F"
    };
}

/// The white space (Unicode `White_Space`, what `str::trim` removes) that a line or prose may
/// hold but that alone leaves it blank, beyond what each already refuses.
macro_rules! blank {
    () => {
        r"\u0009\u000A\u000B\u000C\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
    };
}

/// A line (`crate::text`): no control, invisible or bidirectional formatting character.
pub const LINE_PATTERN: &str = concat!("^[^", line_refused!(), "]*$");

/// A required line: a line that is not blank (one character at least that is not white space).
pub const REQUIRED_LINE_PATTERN: &str = concat!(
    "^[^",
    line_refused!(),
    "]*[^",
    line_refused!(),
    blank!(),
    "][^",
    line_refused!(),
    "]*$"
);

/// Prose (`crate::text`): no control character but newline and tab.
pub const PROSE_PATTERN: &str = concat!("^[^", prose_refused!(), "]*$");

/// Required prose: prose that is not blank.
pub const REQUIRED_PROSE_PATTERN: &str = concat!(
    "^[^",
    prose_refused!(),
    "]*[^",
    prose_refused!(),
    blank!(),
    "][^",
    prose_refused!(),
    "]*$"
);

/// A token's name.
const TOKEN_NAME_PATTERN: &str = "^[a-z0-9._-]+$";

/// What a rule declares.
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    /// An array of `min` to `max` items, each different when `unique`.
    Items {
        /// Fewest items.
        min: usize,
        /// Most items.
        max: usize,
        /// Whether the items must differ.
        unique: bool,
    },
    /// A line of `min` to `max` characters; not blank when `min` is 1 or more.
    Line {
        /// Fewest characters.
        min: usize,
        /// Most characters.
        max: usize,
    },
    /// Prose: any length the record's size allows.
    Prose,
    /// Prose that must not be blank.
    Text,
    /// A string of `min` to `max` characters matching `pattern`.
    Pattern {
        /// Fewest characters.
        min: usize,
        /// Most characters.
        max: usize,
        /// The pattern.
        pattern: &'static str,
    },
    /// An object of at most `max` members.
    Members {
        /// Most members.
        max: usize,
    },
}

const fn items(max: usize) -> Rule {
    Rule::Items {
        min: 0,
        max,
        unique: false,
    }
}

const fn line(min: usize, max: usize) -> Rule {
    Rule::Line { min, max }
}

/// Every rule: the schema, the path in it (property names; `[]` for an array's items, `|0` for
/// the first alternative of a `oneOf`) and what holds there.
pub const RULES: &[(&str, &[&str], Rule)] = &[
    ("DecisionRecord", &["title"], line(1, MAX_TITLE_CHARS)),
    ("DecisionRecord", &["decision"], Rule::Text),
    ("DecisionRecord", &["reasons"], Rule::Text),
    ("DecisionRecord", &["success_measures"], Rule::Text),
    (
        "DecisionRecord",
        &["participants"],
        Rule::Items {
            min: 1,
            max: MAX_PARTICIPANTS,
            unique: false,
        },
    ),
    ("DecisionRecord", &["documents"], items(MAX_DOCUMENTS)),
    ("DecisionRecord", &["input_from"], items(MAX_INPUTS)),
    (
        "DecisionRecord",
        &["tags"],
        Rule::Items {
            min: 0,
            max: MAX_TAGS,
            unique: true,
        },
    ),
    ("DecisionRecord", &["tags", "[]"], line(1, MAX_TAG_CHARS)),
    (
        "DecisionRecord",
        &["areas"],
        Rule::Items {
            min: 0,
            max: MAX_TAGS,
            unique: true,
        },
    ),
    ("DecisionRecord", &["areas", "[]"], line(1, MAX_TAG_CHARS)),
    ("DecisionMaker", &["name"], line(1, MAX_NAME_CHARS)),
    ("DecisionMaker", &["title"], line(0, MAX_NAME_CHARS)),
    (
        "Alternatives",
        &["|0"],
        Rule::Items {
            min: 1,
            max: MAX_ALTERNATIVES,
            unique: false,
        },
    ),
    ("Alternative", &["option"], Rule::Text),
    ("Alternative", &["why_rejected"], Rule::Text),
    (
        "Conflicts",
        &["|0"],
        Rule::Items {
            min: 1,
            max: MAX_CONFLICTS,
            unique: false,
        },
    ),
    ("Conflict", &["nature"], Rule::Text),
    ("Dispensation", &["granted_by"], line(1, MAX_NAME_CHARS)),
    ("Dispensation", &["note"], Rule::Prose),
    ("Participant", &["name"], line(1, MAX_NAME_CHARS)),
    ("Participant", &["organisation"], line(0, MAX_NAME_CHARS)),
    ("Vote", &["votes"], items(MAX_PARTICIPANTS)),
    ("Exemption", &["public_interest_reason"], Rule::Text),
    ("Exemption", &["public_summary"], Rule::Text),
    ("Document", &["title"], line(1, MAX_TITLE_CHARS)),
    ("Document", &["uri"], line(1, MAX_URI_CHARS)),
    ("Input", &["summary"], Rule::Text),
    ("Input", &["uri"], line(1, MAX_URI_CHARS)),
    (
        "AmendmentRequest",
        &["changes"],
        Rule::Members {
            max: AMENDABLE_FIELDS.len(),
        },
    ),
    ("AmendmentRequest", &["reason"], Rule::Text),
    ("OutcomeRequest", &["narrative"], Rule::Text),
    ("OutcomeRequest", &["evidence"], items(MAX_DOCUMENTS)),
    ("CallInRequest", &["note"], Rule::Text),
    ("RescissionRequest", &["reason"], Rule::Text),
    ("SupersessionRequest", &["reason"], Rule::Text),
    ("RedactionRequest", &["basis"], line(1, MAX_NAME_CHARS)),
    (
        "RedactionRequest",
        &["authorised_by"],
        line(1, MAX_NAME_CHARS),
    ),
    ("RedactionRequest", &["reason"], Rule::Text),
    (
        "PublicationRequest",
        &["fields"],
        Rule::Items {
            min: 1,
            max: WITHHELD_FIELDS.len(),
            unique: true,
        },
    ),
    ("PublicationRequest", &["reason"], Rule::Text),
    ("NewBody", &["name"], line(1, MAX_NAME_CHARS)),
    ("BodyChange", &["name"], line(1, MAX_NAME_CHARS)),
    ("NewMember", &["name"], line(1, MAX_NAME_CHARS)),
    ("NewMember", &["role"], line(1, MAX_NAME_CHARS)),
    ("NewMember", &["organisation"], line(1, MAX_NAME_CHARS)),
    (
        "NewToken",
        &["name"],
        Rule::Pattern {
            min: 1,
            max: 64,
            pattern: TOKEN_NAME_PATTERN,
        },
    ),
    (
        "NewToken",
        &["bodies"],
        Rule::Items {
            min: 0,
            max: MAX_TOKEN_BODIES,
            unique: true,
        },
    ),
    (
        "NewToken",
        &["powers"],
        Rule::Items {
            min: 0,
            max: 2,
            unique: true,
        },
    ),
];

/// One step down a schema: into an array's items, a `oneOf`'s first alternative or a property.
fn step<'a>(schema: &'a mut RefOr<Schema>, step: &str) -> Option<&'a mut RefOr<Schema>> {
    match (step, schema) {
        ("[]", RefOr::T(Schema::Array(array))) => match &mut array.items {
            ArrayItems::RefOrSchema(items) => Some(items),
            ArrayItems::False => None,
        },
        ("|0", RefOr::T(Schema::OneOf(one_of))) => one_of.items.first_mut(),
        (name, RefOr::T(Schema::Object(object))) => object.properties.get_mut(name),
        _ => None,
    }
}

/// Writes every rule into the document's schemas; returns those whose place is missing or of
/// another type.
pub fn declare(openapi: &mut OpenApi) -> Vec<String> {
    let mut missing = Vec::new();
    let Some(components) = openapi.components.as_mut() else {
        return RULES.iter().map(|(s, _, _)| (*s).to_owned()).collect();
    };
    for (schema, path, rule) in RULES {
        let mut node = components.schemas.get_mut(*schema);
        for name in *path {
            node = node.and_then(|n| step(n, name));
        }
        let declared = match (node, *rule) {
            (Some(RefOr::T(Schema::Array(array))), Rule::Items { min, max, unique }) => {
                array.max_items = Some(max);
                array.min_items = (min > 0).then_some(min);
                array.unique_items = unique;
                true
            }
            (Some(RefOr::T(Schema::Object(object))), rule) => match rule {
                Rule::Line { min, max } => {
                    object.max_length = Some(max);
                    object.min_length = (min > 0).then_some(min);
                    let pattern = if min > 0 {
                        REQUIRED_LINE_PATTERN
                    } else {
                        LINE_PATTERN
                    };
                    object.pattern = Some(pattern.to_owned());
                    true
                }
                Rule::Prose => {
                    object.pattern = Some(PROSE_PATTERN.to_owned());
                    true
                }
                Rule::Text => {
                    object.min_length = Some(1);
                    object.pattern = Some(REQUIRED_PROSE_PATTERN.to_owned());
                    true
                }
                Rule::Pattern { min, max, pattern } => {
                    object.max_length = Some(max);
                    object.min_length = Some(min);
                    object.pattern = Some(pattern.to_owned());
                    true
                }
                Rule::Members { max } => {
                    object.max_properties = Some(max);
                    true
                }
                Rule::Items { .. } => false,
            },
            _ => false,
        };
        if !declared {
            missing.push(format!("{schema}.{}", path.join(".")));
        }
    }
    missing
}

/// The modifier that declares [`RULES`] in the generated document.
pub struct Limits;

impl utoipa::Modify for Limits {
    fn modify(&self, openapi: &mut OpenApi) {
        // A rule that finds no place is caught by the test below, not at serving time.
        declare(openapi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use utoipa::OpenApi as _;

    #[test]
    fn every_rule_names_a_place_in_the_document_and_is_served() {
        let mut document = crate::api::ApiDoc::openapi();
        assert_eq!(declare(&mut document), Vec::<String>::new());
        let served: Value =
            serde_json::from_str(&crate::api::openapi_json()).unwrap_or(Value::Null);
        let schemas = &served["components"]["schemas"];
        assert_eq!(
            schemas["DecisionRecord"]["properties"]["participants"]["maxItems"],
            MAX_PARTICIPANTS
        );
        assert_eq!(
            schemas["Alternatives"]["oneOf"][0]["maxItems"],
            MAX_ALTERNATIVES
        );
        assert_eq!(
            schemas["DecisionRecord"]["properties"]["tags"]["items"]["maxLength"],
            MAX_TAG_CHARS
        );
        assert_eq!(
            schemas["Participant"]["properties"]["name"]["pattern"],
            REQUIRED_LINE_PATTERN
        );
        assert_eq!(
            schemas["Participant"]["properties"]["organisation"]["pattern"],
            LINE_PATTERN
        );
        assert_eq!(
            schemas["DecisionRecord"]["properties"]["reasons"]["pattern"],
            REQUIRED_PROSE_PATTERN
        );
        assert_eq!(schemas["Problem"]["properties"]["errors"]["maxItems"], 100);
    }

    /// The ranges of a pattern's negated class, `^[^\uAAAA-\uBBBB\uCCCC…]*$`.
    fn class_ranges(pattern: &str) -> Vec<(u32, u32)> {
        let class = pattern
            .strip_prefix("^[^")
            .and_then(|p| p.strip_suffix("]*$"))
            .unwrap_or_default();
        let mut ranges = Vec::new();
        let mut rest = class;
        while let Some(tail) = rest.strip_prefix("\\u") {
            let start = u32::from_str_radix(&tail[..4], 16).unwrap_or(u32::MAX);
            rest = &tail[4..];
            let end = match rest.strip_prefix("-\\u") {
                Some(tail) => {
                    rest = &tail[4..];
                    u32::from_str_radix(&tail[..4], 16).unwrap_or(u32::MAX)
                }
                None => start,
            };
            ranges.push((start, end));
        }
        assert!(rest.is_empty(), "unparsed: {rest}");
        ranges
    }

    #[test]
    fn the_patterns_refuse_exactly_what_the_text_rules_refuse_in_the_bmp() {
        let line = class_ranges(LINE_PATTERN);
        let prose = class_ranges(PROSE_PATTERN);
        let within =
            |ranges: &[(u32, u32)], c: u32| ranges.iter().any(|(a, b)| (*a..=*b).contains(&c));
        for c in (0u32..0x1_0000).filter_map(char::from_u32) {
            let code = u32::from(c);
            let by_rule = crate::text::line_problem(&c.to_string(), 1).is_some();
            assert_eq!(within(&line, code), by_rule, "line U+{code:04X}");
            let by_rule = crate::text::prose_problem(&c.to_string()).is_some();
            assert_eq!(within(&prose, code), by_rule, "prose U+{code:04X}");
        }
    }

    /// The class a required pattern `^[^A]*[^AB][^A]*$` asks one character of, as `^[^AB]*$`.
    fn one_character_class(pattern: &str) -> String {
        let middle = pattern
            .split("]*[^")
            .nth(1)
            .and_then(|m| m.split("][^").next())
            .unwrap_or_default();
        format!("^[^{middle}]*$")
    }

    #[test]
    fn the_required_patterns_refuse_blank_text_as_the_service_does() {
        let line = class_ranges(&one_character_class(REQUIRED_LINE_PATTERN));
        let prose = class_ranges(&one_character_class(REQUIRED_PROSE_PATTERN));
        let within =
            |ranges: &[(u32, u32)], c: u32| ranges.iter().any(|(a, b)| (*a..=*b).contains(&c));
        for c in (0u32..0x1_0000).filter_map(char::from_u32) {
            let code = u32::from(c);
            let text = c.to_string();
            let blank = text.trim().is_empty();
            let by_rule = blank || crate::text::line_problem(&text, 1).is_some();
            assert_eq!(within(&line, code), by_rule, "line U+{code:04X}");
            let by_rule = blank || crate::text::prose_problem(&text).is_some();
            assert_eq!(within(&prose, code), by_rule, "prose U+{code:04X}");
        }
    }
}
