//! The text the service accepts: Unicode NFC, no control characters, and no invisible or
//! bidirectional formatting characters where a reader compares text by eye.
//!
//! Every string in a write's body is normalised to NFC ([`normalize`]) before it is validated,
//! hashed or committed, so two spellings a reader cannot tell apart (`é` as one code point or as
//! `e` + U+0301) are the same tag, the same name and the same request. Entries recorded before
//! this rule keep their bytes: normalisation applies to new input only, never to the log.
//!
//! Two kinds of text are checked:
//!
//! - a **line** — identifiers, names, titles, offices, tags and areas, URIs — holds no control
//!   character at all (C0, DEL, C1, line and paragraph separators) and none of the invisible or
//!   bidirectional formatting characters of [`is_invisible`]: `cabinet` and `cabinet\u{200b}`
//!   would otherwise be two different tags that look the same, and a bidi override can make a
//!   name read differently from its bytes (CVE-2021-42574, "Trojan Source");
//! - **prose** — the decision, reasons, narratives, notes — may hold newlines (U+000A) and tabs
//!   (U+0009) but no other control character. Joiners and marks stay allowed in prose: scripts
//!   and emoji sequences need them.
//!
//! Both checks, and the normalisation, are linear in the length of the text.

use serde_json::Value;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// Normalises every string value in `value` (not object keys, which name fields) to NFC.
pub fn normalize(value: &mut Value) {
    match value {
        Value::String(text) if is_nfc_quick(text.chars()) != IsNormalized::Yes => {
            *text = text.nfc().collect();
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        Value::Object(map) => map.values_mut().for_each(normalize),
        _ => {}
    }
}

/// Whether `c` is a control character: C0 (U+0000–U+001F), DEL (U+007F) or C1 (U+0080–U+009F).
pub fn is_control(c: char) -> bool {
    c.is_control()
}

/// Whether `c` is an invisible or bidirectional formatting character, refused in lines: the soft
/// hyphen, the combining grapheme joiner, the Arabic letter mark, Hangul fillers, the Mongolian
/// free variation selectors and vowel separator, zero-width spaces, joiners and direction marks
/// (U+200B–U+200F), line and paragraph separators, bidi embeddings and overrides (U+202A–U+202E),
/// the word joiner and invisible operators (U+2060–U+2064), bidi isolates (U+2066–U+2069), the
/// deprecated format characters (U+206A–U+206F), the byte order mark (U+FEFF), interlinear
/// annotation characters and Unicode tag characters.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// What is wrong with `text` as a line of at most `max_chars` characters, if anything.
pub fn line_problem(text: &str, max_chars: usize) -> Option<String> {
    let mut count = 0;
    for (i, c) in text.chars().enumerate() {
        if is_control(c) {
            return Some(format!(
                "must not contain control characters (U+{:04X} at character {})",
                u32::from(c),
                i + 1
            ));
        }
        if is_invisible(c) {
            return Some(format!(
                "must not contain invisible or bidirectional formatting characters (U+{:04X} at \
                 character {})",
                u32::from(c),
                i + 1
            ));
        }
        count = i + 1;
    }
    (count > max_chars).then(|| format!("must be at most {max_chars} characters"))
}

/// What is wrong with `text` as prose, if anything: a control character other than newline and
/// tab.
pub fn prose_problem(text: &str) -> Option<String> {
    text.chars()
        .enumerate()
        .find(|(_, c)| is_control(*c) && !matches!(c, '\n' | '\t'))
        .map(|(i, c)| {
            format!(
                "must not contain control characters other than newline and tab (U+{:04X} at \
                 character {})",
                u32::from(c),
                i + 1
            )
        })
}

/// `text` cut to at most `max_chars` characters, with `…` when something was cut.
pub fn truncate(text: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => text.into(),
        Some((end, _)) => format!("{}…", &text[..end]).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_string_value_is_normalised_to_nfc_and_keys_are_left_alone() {
        let mut value = json!({"cafe\u{301}": ["cafe\u{301}", {"t": "Ångström"}], "n": 1});
        normalize(&mut value);
        assert_eq!(
            value,
            json!({"cafe\u{301}": ["caf\u{e9}", {"t": "\u{c5}ngstr\u{f6}m"}], "n": 1})
        );
    }

    #[test]
    fn lines_refuse_controls_and_invisible_characters_and_count_characters() {
        assert_eq!(line_problem("Cllr Amina Okafor", 200), None);
        assert_eq!(line_problem("Zoë Ørsted-Łukasz 李", 200), None);
        for bad in [
            "cabinet\u{200b}",
            "a\u{202e}b",
            "a\u{2066}b",
            "\u{feff}a",
            "soft\u{ad}hyphen",
            "a\u{2060}b",
            "tag\u{e0041}",
        ] {
            let problem = line_problem(bad, 200).unwrap_or_default();
            assert!(problem.contains("invisible"), "{bad:?}: {problem}");
        }
        for bad in [
            "a\u{0}b",
            "two\nlines",
            "tab\there",
            "del\u{7f}",
            "c1\u{85}",
        ] {
            let problem = line_problem(bad, 200).unwrap_or_default();
            assert!(problem.contains("control"), "{bad:?}: {problem}");
        }
        assert_eq!(line_problem(&"é".repeat(64), 64), None);
        assert!(line_problem(&"é".repeat(65), 64).is_some());
    }

    #[test]
    fn prose_keeps_newlines_tabs_and_joiners_but_no_other_control() {
        assert_eq!(
            prose_problem("One.\n\n\tTwo 👩\u{200d}💻 سلام\u{200c}"),
            None
        );
        for bad in ["a\rb", "a\u{0}b", "bell\u{7}", "c1\u{9b}"] {
            assert!(prose_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn truncation_cuts_on_character_boundaries() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("ééééé", 3), "ééé…");
    }
}
