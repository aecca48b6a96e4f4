//! RFC 8785 JSON Canonicalization Scheme (JCS): the one byte form that is hashed, and the strict
//! readers that decide whether bytes are in it.
//!
//! Object members are sorted by their UTF-16 code units, strings use the minimal escapes of
//! ECMAScript `JSON.stringify`, and numbers use the ECMAScript shortest round-trip form. The
//! writer is this module's own, in one pass; numbers that are not integers are formatted by
//! `serde_json_canonicalizer`. Both are checked in the tests against the cyberphone reference
//! vectors (every file and 10,000 numbers) and the writer against `serde_json_canonicalizer` on
//! generated values.
//!
//! Two guards sit in front of the writer. `serde_json::Value` cannot hold NaN or infinities, so
//! non-finite numbers never reach the canonicaliser. Integers beyond ±(2^53 − 1) are refused,
//! because JCS serialises numbers as IEEE 754 doubles and would silently round them: I-JSON
//! (RFC 7493) asks for such values to be carried as strings. That includes a double that holds
//! such an integer below 10^21, which ECMAScript writes as a plain digit string: reading those
//! bytes back would give an integer the guard refuses, so the writer would log what no reader
//! accepts.
//!
//! Reading has two entry points:
//!
//! - [`check_canonical`] decides in one pass, without building a value, whether bytes are exactly
//!   what [`to_canonical_bytes`] writes for the value they denote. It accepts precisely the bytes
//!   `x` for which `to_canonical_bytes(parse(x)) == x` (the tests compare the two on generated
//!   values and on the reference vectors). Because members must be strictly sorted, canonical
//!   bytes can never hold a duplicate member name: a JSON parser that keeps the last (or first)
//!   duplicate would otherwise let two readers see two different entries behind one hash.
//! - [`parse_strict`] and [`StrictValue`] read JSON that is not canonical (served pages,
//!   disclosures) and refuse duplicate member names at any depth, which `serde_json` accepts
//!   silently, keeping the last.
//!
//! Paths in errors are RFC 6901 JSON Pointers.

use std::cell::Cell;
use std::cmp::Ordering;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::map::Entry as MapEntry;
use serde_json::{Map, Value};

use crate::disclosure::escape_pointer_token;

/// The largest integer an IEEE 754 double holds exactly: 2^53 − 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The deepest nesting of arrays and objects accepted: `serde_json`'s own recursion limit, so
/// that every value [`check_canonical`] accepts can also be deserialised.
pub const MAX_DEPTH: usize = 127;

/// Why bytes or a value have no canonical form, or why JSON is refused.
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
    /// The bytes are not one JSON value (bad syntax, invalid UTF-8, trailing bytes).
    #[error("not JSON: {0}")]
    NotJson(String),
    /// Whitespace outside a string, which canonical JSON never has.
    #[error("whitespace at byte {offset}, which canonical JSON never has")]
    Whitespace {
        /// Byte offset of the whitespace.
        offset: usize,
    },
    /// An object names the same member twice.
    #[error("the object at {path:?} has the member {member:?} more than once")]
    DuplicateMember {
        /// JSON Pointer to the object.
        path: String,
        /// The repeated member name.
        member: String,
    },
    /// An object's members are not sorted by their UTF-16 code units.
    #[error(
        "the object at {path:?} is not sorted: {member:?} comes after a member that sorts after it"
    )]
    UnsortedMembers {
        /// JSON Pointer to the object.
        path: String,
        /// The first member found out of order.
        member: String,
    },
    /// A string uses an escape JCS does not write, or lacks one it does.
    #[error("the string at {path:?} is not in canonical form (byte {offset})")]
    NonCanonicalString {
        /// JSON Pointer to the string, or to the object whose member name it is.
        path: String,
        /// Byte offset of the offending escape or character.
        offset: usize,
    },
    /// A number not in ECMAScript shortest form (`1.0`, `1e2`, `-0`, `01`, `1E+30`).
    #[error("the number {number} at {path:?} is not in ECMAScript shortest form")]
    NonCanonicalNumber {
        /// JSON Pointer to the number.
        path: String,
        /// The number as written.
        number: String,
    },
    /// Arrays and objects nest deeper than [`MAX_DEPTH`].
    #[error("arrays and objects nest deeper than {MAX_DEPTH} levels at byte {offset}")]
    TooDeep {
        /// Byte offset of the opening bracket that is one too deep.
        offset: usize,
    },
}
/// The RFC 8785 canonical bytes of `value`.
pub fn to_canonical_bytes(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(1024);
    write_value(value, &mut out)?;
    Ok(out)
}

/// Appends the canonical bytes of `value` to `out`, for callers that frame several values.
pub(crate) fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    let start = out.len();
    write_value(value, out).inspect_err(|_| out.truncate(start))
}

/// Writes `value` in one pass: members sorted by their UTF-16 code units, strings as
/// [`write_canonical_str`] writes them, integers as digits, other numbers in the ECMAScript form
/// `serde_json_canonicalizer` writes. The guard on integers runs on the way: an unsafe integer is
/// reported with its JSON Pointer, built only then.
fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out)?,
        Value::String(text) => write_canonical_str(text, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out).map_err(|e| e.under(&i.to_string()))?;
            }
            out.push(b']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            if !sorted.is_sorted_by(|a, b| utf16_cmp(a.0, b.0) == Ordering::Less) {
                sorted.sort_unstable_by(|a, b| utf16_cmp(a.0, b.0));
            }
            out.push(b'{');
            for (i, (key, item)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical_str(key, out);
                out.push(b':');
                write_value(item, out).map_err(|e| e.under(&escape_pointer_token(key)))?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// Member names in JCS order: by UTF-16 code units (which differs from UTF-8 byte order only for
/// characters beyond the Basic Multilingual Plane).
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// A number, refused if it is an integer a double cannot hold exactly. A double holding an
/// integer beyond 2^53 − 1 is refused too: below 10^21 ECMAScript writes it as a digit string,
/// which a reader takes for an integer and refuses.
fn write_number(n: &serde_json::Number, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    use std::io::Write as _;
    let unsafe_integer = || CanonicalError::UnsafeInteger {
        path: String::new(),
    };
    if let Some(u) = n.as_u64() {
        if u > MAX_SAFE_INTEGER {
            return Err(unsafe_integer());
        }
        let _ = write!(out, "{u}");
    } else if let Some(i) = n.as_i64() {
        if i.unsigned_abs() > MAX_SAFE_INTEGER {
            return Err(unsafe_integer());
        }
        let _ = write!(out, "{i}");
    } else {
        let f = n.as_f64().unwrap_or(f64::NAN);
        if f.fract() == 0.0 && f.abs() > MAX_SAFE_INTEGER as f64 && f.abs() < 1e21 {
            return Err(unsafe_integer());
        }
        serde_json_canonicalizer::to_writer(&Value::Number(n.clone()), out)
            .map_err(|e| CanonicalError::Encoding(e.to_string()))?;
    }
    Ok(())
}

impl CanonicalError {
    /// This error, found inside the array item or object member named `token`.
    fn under(self, token: &str) -> CanonicalError {
        match self {
            CanonicalError::UnsafeInteger { path } => CanonicalError::UnsafeInteger {
                path: format!("/{token}{path}"),
            },
            other => other,
        }
    }
}

/// Appends the canonical form of the string `text`, quotes included, to `out`.
pub(crate) fn write_canonical_str(text: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ],
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        out.extend_from_slice(escape);
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// Checks that `bytes` are exactly the RFC 8785 canonical form of the JSON value they denote,
/// without building that value.
///
/// Accepts `bytes` if and only if `to_canonical_bytes(parse(bytes)) == bytes`, where `parse` is
/// `serde_json`'s: no whitespace outside strings; members strictly sorted by UTF-16 code units
/// (so no duplicates); strings valid UTF-8 with only the escapes JCS writes (`\"`, `\\`, `\b`,
/// `\f`, `\n`, `\r`, `\t`, and `\u00xx` in lowercase hex for the other control characters);
/// numbers in ECMAScript shortest form; integers (digit strings) within ±(2^53 − 1), as the
/// writer refuses larger ones; nesting at most [`MAX_DEPTH`] deep.
///
/// A duplicate member name is reported as [`CanonicalError::DuplicateMember`] even when the
/// object is also unsorted.
pub fn check_canonical(bytes: &[u8]) -> Result<(), CanonicalError> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(CanonicalError::NotJson(format!(
            "invalid UTF-8 at byte {}",
            e.valid_up_to()
        )));
    }
    let mut checker = Checker {
        bytes,
        pos: 0,
        path: Vec::new(),
    };
    match checker.value(0).and_then(|()| checker.end()) {
        // Unsorted members may hide a duplicate further on; a duplicate is the graver finding
        // (two readers may see two different values), so it is looked for on this cold path.
        Err(unsorted @ CanonicalError::UnsortedMembers { .. }) => match parse_strict(bytes) {
            Err(duplicate @ CanonicalError::DuplicateMember { .. }) => Err(duplicate),
            _ => Err(unsorted),
        },
        result => result,
    }
}

/// One step from the root to the value being checked, kept as offsets so that a path string is
/// only built when there is an error to report.
#[derive(Clone, Copy)]
enum Step {
    /// A member, by the byte range of its name's content (between the quotes).
    Member(usize, usize),
    /// An array element.
    Index(usize),
}

struct Checker<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: Vec<Step>,
}

/// Byte classes inside a string: 0 needs no attention.
const PLAIN: u8 = 0;
const QUOTE: u8 = 1;
const BACKSLASH: u8 = 2;
const CONTROL: u8 = 3;
/// The lead byte of U+E000..U+FFFF or of a character beyond the BMP: the only characters whose
/// UTF-8 byte order differs from their UTF-16 code unit order.
const HIGH: u8 = 4;

static STRING_CLASS: [u8; 256] = {
    let mut table = [PLAIN; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = CONTROL;
        b += 1;
    }
    table[b'"' as usize] = QUOTE;
    table[b'\\' as usize] = BACKSLASH;
    let mut b = 0xee;
    while b < 0x100 {
        table[b] = HIGH;
        b += 1;
    }
    table
};

/// The position of the first byte at or after `pos` that is not printable ASCII other than `"`
/// and `\`, or a position shortly before it: strings are most of an entry, and most of their
/// bytes need no attention, so they are skipped eight at a time.
fn skip_plain_ascii(bytes: &[u8], mut pos: usize) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Non-zero when some byte of `v` is below `n` (n ≤ 0x80); exact as to whether one is.
    let below = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & HIGHS;
    while let Some(chunk) = bytes.get(pos..pos + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_ne_bytes(word);
        let special = below(w ^ (ONES * u64::from(b'"')), 1)
            | below(w ^ (ONES * u64::from(b'\\')), 1)
            | below(w, 0x20)
            | (w & HIGHS);
        if special != 0 {
            break;
        }
        pos += 8;
    }
    pos
}

/// A checked string's content range, and whether its raw bytes sort as its UTF-16 code units.
struct Span {
    start: usize,
    end: usize,
    bytes_sort_as_utf16: bool,
}

impl Checker<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn value(&mut self, depth: usize) -> Result<(), CanonicalError> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(drop),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            _ => Err(self.unexpected("a value")),
        }
    }

    fn end(&self) -> Result<(), CanonicalError> {
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(self.unexpected("the end of the input"))
        }
    }

    /// The error for the byte at `pos`, which is not `expected`.
    fn unexpected(&self, expected: &str) -> CanonicalError {
        match self.peek() {
            Some(b' ' | b'\t' | b'\n' | b'\r') => CanonicalError::Whitespace { offset: self.pos },
            Some(b) => CanonicalError::NotJson(format!(
                "expected {expected} at byte {}, found {:?}",
                self.pos,
                char::from(b)
            )),
            None => CanonicalError::NotJson(format!("expected {expected}, found the end")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<(), CanonicalError> {
        if depth > MAX_DEPTH {
            return Err(CanonicalError::TooDeep { offset: self.pos });
        }
        self.pos += 1;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        let mut previous: Option<Span> = None;
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.unexpected("a member name"));
            }
            let name = self.string()?;
            if let Some(previous) = &previous {
                match self.compare_names(previous, &name) {
                    Ordering::Less => {}
                    Ordering::Equal => {
                        return Err(CanonicalError::DuplicateMember {
                            path: self.pointer(),
                            member: self.decode(name.start, name.end),
                        });
                    }
                    Ordering::Greater => {
                        return Err(CanonicalError::UnsortedMembers {
                            path: self.pointer(),
                            member: self.decode(name.start, name.end),
                        });
                    }
                }
            }
            if self.peek() != Some(b':') {
                return Err(self.unexpected("':'"));
            }
            self.pos += 1;
            self.path.push(Step::Member(name.start, name.end));
            self.value(depth)?;
            self.path.pop();
            previous = Some(name);
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.unexpected("',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), CanonicalError> {
        if depth > MAX_DEPTH {
            return Err(CanonicalError::TooDeep { offset: self.pos });
        }
        self.pos += 1;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        let slot = self.path.len();
        self.path.push(Step::Index(0));
        let mut index = 0;
        loop {
            self.path[slot] = Step::Index(index);
            self.value(depth)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    self.path.pop();
                    return Ok(());
                }
                _ => return Err(self.unexpected("',' or ']'")),
            }
            index += 1;
        }
    }

    /// Checks the string at `pos` (its opening quote) and moves past it.
    fn string(&mut self) -> Result<Span, CanonicalError> {
        self.pos += 1;
        let start = self.pos;
        let mut bytes_sort_as_utf16 = true;
        loop {
            self.pos = skip_plain_ascii(self.bytes, self.pos);
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(CanonicalError::NotJson("unterminated string".into()));
            };
            match STRING_CLASS[usize::from(b)] {
                PLAIN => self.pos += 1,
                QUOTE => {
                    let end = self.pos;
                    self.pos += 1;
                    return Ok(Span {
                        start,
                        end,
                        bytes_sort_as_utf16,
                    });
                }
                HIGH => {
                    // The input is valid UTF-8, so continuation bytes need no checking here.
                    bytes_sort_as_utf16 = false;
                    self.pos += 1;
                }
                BACKSLASH => {
                    self.escape()?;
                    bytes_sort_as_utf16 = false;
                }
                _ => {
                    return Err(CanonicalError::NotJson(format!(
                        "unescaped control character in a string at byte {}",
                        self.pos
                    )));
                }
            }
        }
    }

    /// Checks the escape at `pos` (its backslash) and moves past it.
    fn escape(&mut self) -> Result<(), CanonicalError> {
        let offset = self.pos;
        let rest = &self.bytes[offset + 1..];
        let not_canonical = || CanonicalError::NonCanonicalString {
            path: self.pointer(),
            offset,
        };
        match rest.first() {
            Some(b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.pos += 2;
                Ok(())
            }
            Some(b'u') => {
                let hex = rest.get(1..5).ok_or_else(|| {
                    CanonicalError::NotJson(format!("truncated \\u escape at byte {offset}"))
                })?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return Err(CanonicalError::NotJson(format!(
                        "bad \\u escape at byte {offset}"
                    )));
                }
                // Only the control characters without a short escape are written as \u00xx,
                // in lowercase hex.
                let lower = |d: &u8| d.is_ascii_digit() || (b'a'..=b'f').contains(d);
                let canonical = hex[0] == b'0'
                    && hex[1] == b'0'
                    && (hex[2] == b'0' || hex[2] == b'1')
                    && lower(&hex[3])
                    && !matches!(&hex[2..4], b"08" | b"09" | b"0a" | b"0c" | b"0d");
                if !canonical {
                    return Err(not_canonical());
                }
                self.pos += 6;
                Ok(())
            }
            Some(b'/') => Err(not_canonical()),
            _ => Err(CanonicalError::NotJson(format!(
                "invalid escape at byte {offset}"
            ))),
        }
    }

    fn number(&mut self) -> Result<(), CanonicalError> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let digits_start = self.pos;
        let mut magnitude: Option<u64> = Some(0);
        while let Some(d @ b'0'..=b'9') = self.peek() {
            magnitude = magnitude
                .and_then(|m| m.checked_mul(10))
                .and_then(|m| m.checked_add(u64::from(d - b'0')));
            self.pos += 1;
        }
        let digits = self.pos - digits_start;
        if digits == 0 {
            return Err(self.unexpected("a digit"));
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.pos += 1;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.digits()?;
        }
        let token = &self.bytes[start..self.pos];
        let not_canonical = || CanonicalError::NonCanonicalNumber {
            path: self.pointer(),
            number: String::from_utf8_lossy(token).into_owned(),
        };
        if digits > 1 && self.bytes[digits_start] == b'0' {
            return Err(not_canonical());
        }
        if integer {
            return match magnitude {
                Some(0) if negative => Err(not_canonical()),
                Some(m) if m <= MAX_SAFE_INTEGER => Ok(()),
                _ => Err(CanonicalError::UnsafeInteger {
                    path: self.pointer(),
                }),
            };
        }
        // Fractions and exponents are rare in entries: read the double as serde_json does and
        // compare with the writer's own rendering of it.
        let value: f64 = serde_json::from_slice(token).map_err(|_| not_canonical())?;
        let written = serde_json_canonicalizer::to_vec(&value).map_err(|_| not_canonical())?;
        if written != token {
            return Err(not_canonical());
        }
        Ok(())
    }

    fn digits(&mut self) -> Result<(), CanonicalError> {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.unexpected("a digit"));
        }
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), CanonicalError> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(CanonicalError::NotJson(format!(
                "bad literal at byte {}",
                self.pos
            )))
        }
    }

    /// Orders two checked member names by their UTF-16 code units.
    fn compare_names(&self, a: &Span, b: &Span) -> Ordering {
        if a.bytes_sort_as_utf16 && b.bytes_sort_as_utf16 {
            // No escapes and no characters at or above U+E000: UTF-8 byte order is code point
            // order, which is UTF-16 code unit order below U+E000.
            return self.bytes[a.start..a.end].cmp(&self.bytes[b.start..b.end]);
        }
        let a = self.decode(a.start, a.end);
        let b = self.decode(b.start, b.end);
        a.encode_utf16().cmp(b.encode_utf16())
    }

    /// The text of a checked string from the range of its content.
    fn decode(&self, start: usize, end: usize) -> String {
        serde_json::from_slice(&self.bytes[start - 1..end + 1])
            .unwrap_or_else(|_| String::from_utf8_lossy(&self.bytes[start..end]).into_owned())
    }

    /// The JSON Pointer of the value being checked.
    fn pointer(&self) -> String {
        let mut pointer = String::new();
        for step in &self.path {
            pointer.push('/');
            match *step {
                Step::Member(start, end) => {
                    pointer.push_str(&escape_pointer_token(&self.decode(start, end)));
                }
                Step::Index(i) => pointer.push_str(&i.to_string()),
            }
        }
        pointer
    }
}

/// Parses JSON that need not be canonical, refusing duplicate member names at any depth.
///
/// `serde_json` keeps the last of duplicate members silently; a reader that keeps the first would
/// see another value, so JSON that is served for checking MUST be read with this function (or
/// through [`StrictValue`]).
pub fn parse_strict(bytes: &[u8]) -> Result<Value, CanonicalError> {
    let duplicate = Cell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let seed = Strict {
        at: &Location::ROOT,
        duplicate: &duplicate,
    };
    let parsed = seed
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    parsed.map_err(|e| match duplicate.take() {
        Some((path, member)) => CanonicalError::DuplicateMember { path, member },
        None => CanonicalError::NotJson(e.to_string()),
    })
}

/// A JSON value read with the duplicate-member check of [`parse_strict`], for use as a field type
/// inside `serde` structs (a disclosure's `value` in a served page).
///
/// The path in its error is relative to the value itself: `serde` does not tell a field where it
/// sits in the document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StrictValue(pub Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let duplicate = Cell::new(None);
        Strict {
            at: &Location::ROOT,
            duplicate: &duplicate,
        }
        .deserialize(deserializer)
        .map(StrictValue)
    }
}

impl Serialize for StrictValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// Where a value sits, as a chain of parents that is only walked to report an error.
struct Location<'a> {
    parent: Option<&'a Location<'a>>,
    step: LocationStep<'a>,
}

enum LocationStep<'a> {
    Root,
    Member(&'a str),
    Index(usize),
}

impl Location<'_> {
    const ROOT: Location<'static> = Location {
        parent: None,
        step: LocationStep::Root,
    };

    fn pointer(&self) -> String {
        let mut steps = Vec::new();
        let mut at = Some(self);
        while let Some(location) = at {
            steps.push(&location.step);
            at = location.parent;
        }
        let mut pointer = String::new();
        for step in steps.into_iter().rev() {
            match step {
                LocationStep::Root => {}
                LocationStep::Member(name) => {
                    pointer.push('/');
                    pointer.push_str(&escape_pointer_token(name));
                }
                LocationStep::Index(i) => {
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                }
            }
        }
        pointer
    }
}

/// Deserialises a [`Value`] at a known location, refusing duplicate members. The first duplicate
/// found is recorded in `duplicate` so that [`parse_strict`] can return it typed.
struct Strict<'a, 'd> {
    at: &'a Location<'a>,
    duplicate: &'d Cell<Option<(String, String)>>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            let at = Location {
                parent: Some(self.at),
                step: LocationStep::Index(items.len()),
            };
            let seed = Strict {
                at: &at,
                duplicate: self.duplicate,
            };
            match seq.next_element_seed(seed)? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            match members.entry(name) {
                MapEntry::Occupied(occupied) => {
                    let path = self.at.pointer();
                    let member = occupied.key().clone();
                    let message =
                        format!("the object at {path:?} has the member {member:?} more than once");
                    self.duplicate.set(Some((path, member)));
                    return Err(de::Error::custom(message));
                }
                MapEntry::Vacant(vacant) => {
                    let at = Location {
                        parent: Some(self.at),
                        step: LocationStep::Member(vacant.key()),
                    };
                    let value = access.next_value_seed(Strict {
                        at: &at,
                        duplicate: self.duplicate,
                    })?;
                    vacant.insert(value);
                }
            }
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
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
        assert!(to_canonical_bytes(&json!(9007199254740992.0)).is_err());
        assert!(to_canonical_bytes(&json!(-1e20)).is_err());
        assert_eq!(to_canonical_bytes(&json!(1e21)), Ok(b"1e+21".to_vec()));
    }

    fn check(text: &str) -> Result<(), CanonicalError> {
        check_canonical(text.as_bytes())
    }

    #[test]
    fn canonical_bytes_pass_the_check() {
        for text in [
            r#"{"a":null,"b":[1,2.5,true],"é":"x"}"#,
            r#"{}"#,
            r#"[]"#,
            r#""""#,
            r#"0"#,
            r#"-1"#,
            r#"9007199254740991"#,
            r#"-9007199254740991"#,
            r#"1e+21"#,
            r#"1e-7"#,
            r#"0.000001"#,
            r#"[false,null,true,{"":{"":[]}}]"#,
            "\"\\u0000\\u001f\\b\\t\\n\\f\\r\\\"\\\\\u{7f}\u{2028}😂\"",
        ] {
            assert_eq!(check(text), Ok(()), "{text}");
        }
    }

    #[test]
    fn long_strings_are_checked_at_every_offset_of_the_eight_byte_skip() {
        for special in ['"', '\\', '\n', '\u{1}', '\u{7f}', 'é', '\u{fb33}', '😂'] {
            for at in 0..24 {
                // No letter that a backslash would turn into an escape.
                let mut text = "acdeghij".repeat(3);
                text.insert(at, special);
                let bytes =
                    to_canonical_bytes(&json!({ text.clone(): text.clone() })).expect("canonical");
                assert_eq!(check_canonical(&bytes), Ok(()), "{text:?}");
                let raw = format!("\"{text}\"");
                let raw_is_canonical = !matches!(special, '"' | '\\' | '\n' | '\u{1}');
                assert_eq!(check(&raw).is_ok(), raw_is_canonical, "{raw:?}");
            }
        }
    }

    #[test]
    fn whitespace_anywhere_outside_strings_is_refused_with_its_offset() {
        assert_eq!(
            check(r#"{"a": 1}"#),
            Err(CanonicalError::Whitespace { offset: 5 })
        );
        for text in [" 1", "1 ", "[1 ,2]", "[1,\n2]", "{\"a\"\t:1}", "{ }"] {
            assert!(
                matches!(check(text), Err(CanonicalError::Whitespace { .. })),
                "{text:?}"
            );
        }
    }

    #[test]
    fn unsorted_members_are_refused_with_the_object_path() {
        assert_eq!(
            check(r#"{"x":[{"b":1,"a":2}]}"#),
            Err(CanonicalError::UnsortedMembers {
                path: "/x/0".into(),
                member: "a".into()
            })
        );
    }

    #[test]
    fn members_sort_by_utf16_code_units_not_by_code_points() {
        // U+FB33 sorts after U+1F602 in UTF-16 (a surrogate pair starts 0xD83D), though its code
        // point is lower: the RFC 8785 §3.2.3 example.
        assert_eq!(check("{\"😂\":1,\"\u{fb33}\":2}"), Ok(()));
        assert!(matches!(
            check("{\"\u{fb33}\":2,\"😂\":1}"),
            Err(CanonicalError::UnsortedMembers { .. })
        ));
        // Escaped names sort by the characters they stand for: "\n" (U+000A) before "1".
        assert_eq!(check(r#"{"\n":1,"1":2}"#), Ok(()));
        assert!(check(r#"{"1":2,"\n":1}"#).is_err());
    }

    #[test]
    fn a_duplicate_member_is_reported_as_such_even_when_the_object_is_unsorted() {
        assert_eq!(
            check(r#"{"a":{"k":1,"k":2}}"#),
            Err(CanonicalError::DuplicateMember {
                path: "/a".into(),
                member: "k".into()
            })
        );
        assert_eq!(
            check(r#"{"a":1,"b":2,"a":3}"#),
            Err(CanonicalError::DuplicateMember {
                path: String::new(),
                member: "a".into()
            })
        );
    }

    #[test]
    fn escapes_jcs_does_not_write_are_refused() {
        for text in [
            r#""\/""#,
            r#""\u0041""#,
            r#""\u001F""#,
            r#""\u000a""#,
            r#""\u0009""#,
            r#""\u007f""#,
            r#""\u00e9""#,
            r#""\ud83d\ude02""#,
        ] {
            assert!(
                matches!(check(text), Err(CanonicalError::NonCanonicalString { .. })),
                "{text}"
            );
        }
        assert_eq!(
            check(r#"{"a":["x","\/"]}"#),
            Err(CanonicalError::NonCanonicalString {
                path: "/a/1".into(),
                offset: 11
            })
        );
    }

    #[test]
    fn numbers_not_in_shortest_form_are_refused() {
        for text in [
            "1.0", "1e2", "-0", "01", "-01", "00", "1E+30", "1e30", "1.5e1", "0.10", "+1", ".5",
            "1.", "1e", "2.50", "1e+021",
        ] {
            assert!(check(text).is_err(), "{text}");
        }
        assert_eq!(
            check(r#"{"n":1.0}"#),
            Err(CanonicalError::NonCanonicalNumber {
                path: "/n".into(),
                number: "1.0".into()
            })
        );
        assert_eq!(
            check("[9007199254740992]"),
            Err(CanonicalError::UnsafeInteger { path: "/0".into() })
        );
    }

    #[test]
    fn malformed_json_is_refused() {
        for text in [
            "", "{", "[1,]", "{\"a\"}", "{\"a\":}", "tru", "nul", "\"abc", "[1]]", "{,}", "\"\t\"",
            "\"\\x\"", "'a'",
        ] {
            assert!(
                matches!(check(text), Err(CanonicalError::NotJson(_))),
                "{text:?}: {:?}",
                check(text)
            );
        }
        assert!(matches!(
            check_canonical(b"\"\xff\""),
            Err(CanonicalError::NotJson(_))
        ));
    }

    #[test]
    fn nesting_deeper_than_serde_json_reads_is_refused() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert_eq!(check(&deep(MAX_DEPTH)), Ok(()));
        assert!(serde_json::from_str::<Value>(&deep(MAX_DEPTH)).is_ok());
        assert_eq!(
            check(&deep(MAX_DEPTH + 1)),
            Err(CanonicalError::TooDeep { offset: MAX_DEPTH })
        );
        assert!(serde_json::from_str::<Value>(&deep(MAX_DEPTH + 1)).is_err());
    }

    #[test]
    fn parse_strict_refuses_duplicates_at_any_depth_with_their_path() {
        assert_eq!(
            parse_strict(br#"{"a": [0, {"b~/": {"c": 1, "c": 2}}]}"#),
            Err(CanonicalError::DuplicateMember {
                path: "/a/1/b~0~1".into(),
                member: "c".into()
            })
        );
        assert_eq!(
            parse_strict(br#" {"a": [1, 2.5, "x", null, true, {}]} "#),
            Ok(json!({"a": [1, 2.5, "x", null, true, {}]}))
        );
        assert!(matches!(
            parse_strict(br#"{"a":1} x"#),
            Err(CanonicalError::NotJson(_))
        ));
    }

    #[test]
    fn strict_value_refuses_duplicates_inside_a_struct() {
        #[derive(Deserialize)]
        struct Served {
            value: StrictValue,
        }
        let served: Served =
            serde_json::from_str(r#"{"value": {"a": 1, "b": [true]}}"#).expect("no duplicates");
        assert_eq!(served.value, StrictValue(json!({"a": 1, "b": [true]})));
        let err = serde_json::from_str::<Served>(r#"{"value": {"a": {"x": 1, "x": 2}}}"#)
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(
                |e| e.contains(r#"the object at "/a" has the member "x" more than once"#)
            ),
            "{err:?}"
        );
    }

    #[test]
    fn serde_json_keeps_the_last_duplicate_which_is_why_parse_strict_exists() {
        let lax: Value = serde_json::from_str(r#"{"a":1,"a":2}"#).expect("serde_json accepts");
        assert_eq!(lax, json!({"a": 2}));
        assert!(parse_strict(br#"{"a":1,"a":2}"#).is_err());
    }

    /// Strings drawn from characters whose escaping and sorting differ: controls, quotes,
    /// backslashes, the solidus, DEL, U+2028, and characters on both sides of the surrogate range.
    fn text() -> impl Strategy<Value = String> {
        let chars = prop_oneof![
            Just('a'),
            Just('b'),
            Just('"'),
            Just('\\'),
            Just('/'),
            Just('\u{7f}'),
            Just('\u{2028}'),
            Just('\u{fb33}'),
            Just('😂'),
            Just('é'),
            (0u8..0x20).prop_map(char::from),
        ];
        proptest::collection::vec(chars, 0..6).prop_map(|c| c.into_iter().collect())
    }

    fn number() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::from),
            (-(MAX_SAFE_INTEGER as i64)..=MAX_SAFE_INTEGER as i64).prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            (-1000i32..1000, -30i32..30)
                .prop_map(|(m, e)| Value::from(f64::from(m) * 10f64.powi(e))),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            number(),
            text().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((text(), inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    /// Small edits that may or may not keep bytes canonical.
    fn mutate(bytes: &[u8], at: usize, edit: u8) -> Vec<u8> {
        let mut out = bytes.to_vec();
        let at = at % (out.len() + 1);
        match edit % 4 {
            0 => out.insert(at, b' '),
            1 if at < out.len() => {
                out.remove(at);
            }
            2 if at < out.len() => out[at] = b"0123456789.e-+\\/\"{}[],:nu"[usize::from(edit) % 26],
            _ => out.insert(at, b"0\\u,\"1"[usize::from(edit) % 6]),
        }
        out
    }

    proptest! {
        #[test]
        fn the_writer_writes_what_the_reference_canonicaliser_writes(v in value()) {
            match to_canonical_bytes(&v) {
                Ok(bytes) => {
                    let reference = serde_json_canonicalizer::to_vec(&v).expect("reference");
                    prop_assert_eq!(
                        String::from_utf8_lossy(&bytes),
                        String::from_utf8_lossy(&reference)
                    );
                }
                Err(CanonicalError::UnsafeInteger { path }) => {
                    prop_assert!(path.is_empty() || path.starts_with('/'), "{}", path);
                }
                Err(other) => prop_assert!(false, "{}", other),
            }
        }

        #[test]
        fn canonical_bytes_of_any_value_pass_the_check(v in value()) {
            if let Ok(bytes) = to_canonical_bytes(&v) {
                prop_assert_eq!(check_canonical(&bytes), Ok(()));
            }
        }

        #[test]
        fn the_check_agrees_with_reserialising(v in value(), at in any::<usize>(), edit in any::<u8>()) {
            let Ok(bytes) = to_canonical_bytes(&v) else { return Ok(()) };
            let mutated = mutate(&bytes, at, edit);
            let reserialised = serde_json::from_slice::<Value>(&mutated)
                .ok()
                .and_then(|parsed| to_canonical_bytes(&parsed).ok());
            let canonical = reserialised.as_deref() == Some(&mutated[..]);
            prop_assert_eq!(
                check_canonical(&mutated).is_ok(),
                canonical,
                "{}",
                String::from_utf8_lossy(&mutated)
            );
        }

        #[test]
        fn parse_strict_reads_what_serde_json_reads_when_names_are_unique(v in value()) {
            let text = serde_json::to_vec_pretty(&v).expect("serialises");
            prop_assert_eq!(parse_strict(&text), Ok(v));
        }
    }
}
