//! RFC 8785 JSON Canonicalization Scheme (JCS): the one byte form that is hashed.
//!
//! Object members are sorted by their UTF-16 code units, strings use the minimal escapes of
//! ECMAScript `JSON.stringify`, and numbers use the ECMAScript shortest round-trip form. The work
//! is done by `serde_json_canonicalizer`, checked in the tests against the cyberphone reference
//! vectors (every file and 10,000 numbers).
//!
//! Two guards sit in front of it. `serde_json::Value` cannot hold NaN or infinities, so non-finite
//! numbers never reach the canonicaliser. Integers beyond ±(2^53 − 1) are refused, because JCS
//! serialises numbers as IEEE 754 doubles and would silently round them: I-JSON (RFC 7493) asks
//! for such values to be carried as strings.

use serde_json::Value;

/// The largest integer an IEEE 754 double holds exactly: 2^53 − 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why a value has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    /// An integer that a double cannot hold exactly.
    #[error(
        "the number at {path} is outside ±(2^53 − 1) and would lose precision; send it as a string"
    )]
    UnsafeInteger {
        /// JSON Pointer to the number.
        path: String,
    },
    /// The canonicaliser itself failed (it does not for values that pass the guard).
    #[error("canonicalisation failed: {0}")]
    Encoding(String),
}

/// The RFC 8785 canonical bytes of `value`.
pub fn to_canonical_bytes(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    check_numbers(value, &mut String::new())?;
    serde_json_canonicalizer::to_vec(value).map_err(|e| CanonicalError::Encoding(e.to_string()))
}

fn check_numbers(value: &Value, path: &mut String) -> Result<(), CanonicalError> {
    match value {
        Value::Number(n) => {
            let unsafe_int = match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => u > MAX_SAFE_INTEGER,
                (None, Some(i)) => i.unsigned_abs() > MAX_SAFE_INTEGER,
                (None, None) => false,
            };
            if unsafe_int {
                return Err(CanonicalError::UnsafeInteger { path: path.clone() });
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                check_numbers(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(members) => {
            for (key, item) in members {
                let len = path.len();
                path.push('/');
                path.push_str(&crate::disclosure::escape_pointer_token(key));
                check_numbers(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_are_sorted_and_whitespace_removed() {
        let bytes = to_canonical_bytes(&json!({"b": [1, 2.5, true], "a": null, "é": "x"}));
        assert_eq!(
            bytes,
            Ok(r#"{"a":null,"b":[1,2.5,true],"é":"x"}"#.as_bytes().to_vec())
        );
    }

    #[test]
    fn integers_beyond_two_to_the_53_are_refused_with_their_path() {
        let err = to_canonical_bytes(&json!({"a": [1, 9007199254740993u64]}));
        assert_eq!(
            err,
            Err(CanonicalError::UnsafeInteger {
                path: "/a/1".into()
            })
        );
        assert!(to_canonical_bytes(&json!(-9007199254740993i64)).is_err());
        assert!(to_canonical_bytes(&json!(9007199254740991u64)).is_ok());
    }
}
