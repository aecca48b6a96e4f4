//! RFC 8785 known-answer tests: the cyberphone reference files and 10,000 ES6 numbers, written
//! by `to_canonical_bytes` and read back by `check_canonical`, which must also refuse the
//! non-canonical inputs and small mutations of the outputs.
//! Origins and licence: `tests/vectors/ORIGIN.md`.

use std::fs;
use std::path::Path;

use decision_log_ledger::canonical::{
    CanonicalError, MAX_SAFE_INTEGER, check_canonical, to_canonical_bytes,
};

fn vectors() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/jcs"))
}

#[test]
fn every_reference_file_canonicalises_to_its_expected_bytes() {
    let mut checked = 0;
    for file in fs::read_dir(vectors().join("input")).expect("input dir") {
        let path = file.expect("dir entry").path();
        let name = path.file_name().expect("file name").to_owned();
        let input: serde_json::Value =
            serde_json::from_slice(&fs::read(&path).expect("input")).expect("input is JSON");
        let expected = fs::read(vectors().join("output").join(&name)).expect("output");
        let hex_name = Path::new(&name).with_extension("txt");
        let expected_hex: String = fs::read_to_string(vectors().join("outhex").join(hex_name))
            .expect("outhex")
            .split_whitespace()
            .collect();
        let got = to_canonical_bytes(&input).expect("canonicalises");
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "{path:?}"
        );
        assert_eq!(hex::encode(&got), expected_hex, "{path:?} (hex)");
        checked += 1;
    }
    assert_eq!(checked, 6, "all six reference files are present");
}

#[test]
fn ten_thousand_es6_numbers_serialise_as_ecmascript_does() {
    let table = fs::read_to_string(vectors().join("es6-numbers-10000.txt")).expect("numbers");
    let mut checked = 0;
    for line in table.lines() {
        let (bits, expected) = line.split_once(',').expect("hex,expected");
        let value = f64::from_bits(u64::from_str_radix(bits, 16).expect("hex bits"));
        if !value.is_finite() {
            continue;
        }
        let number = serde_json::Number::from_f64(value).expect("finite");
        // The formatter itself, without the guard against integers beyond 2^53 − 1.
        let written = serde_json_canonicalizer::to_vec(&number).expect("formats");
        assert_eq!(String::from_utf8_lossy(&written), expected, "bits {bits}");
        let guarded = to_canonical_bytes(&serde_json::Value::Number(number));
        let integer_beyond_safe = !expected.contains(['.', 'e'])
            && expected
                .trim_start_matches('-')
                .parse::<f64>()
                .expect("number")
                > MAX_SAFE_INTEGER as f64;
        if integer_beyond_safe {
            assert!(
                matches!(guarded, Err(CanonicalError::UnsafeInteger { .. })),
                "{expected}"
            );
            assert!(check_canonical(expected.as_bytes()).is_err(), "{expected}");
        } else {
            assert_eq!(guarded.as_deref(), Ok(expected.as_bytes()), "bits {bits}");
            assert_eq!(check_canonical(expected.as_bytes()), Ok(()), "{expected}");
        }
        checked += 1;
    }
    assert!(checked >= 9_990, "checked {checked} numbers");
}

#[test]
fn every_reference_output_passes_the_canonical_check_and_every_input_fails_it() {
    for file in fs::read_dir(vectors().join("output")).expect("output dir") {
        let path = file.expect("dir entry").path();
        let output = fs::read(&path).expect("output");
        assert_eq!(check_canonical(&output), Ok(()), "{path:?}");
        let name = path.file_name().expect("file name");
        let input = fs::read(vectors().join("input").join(name)).expect("input");
        assert!(check_canonical(&input).is_err(), "{path:?} input");
    }
}

#[test]
fn mutated_reference_outputs_fail_the_canonical_check() {
    let structures = fs::read_to_string(vectors().join("output/structures.json")).expect("file");
    let values = fs::read_to_string(vectors().join("output/values.json")).expect("file");
    let mutations: [(&str, &str, &str); 9] = [
        ("whitespace", "\":", "\": "),
        (
            "reordered members",
            "{\"literals\"",
            "{\"zz\":0,\"literals\"",
        ),
        (
            "duplicate member",
            "{\"literals\"",
            "{\"literals\":0,\"literals\"",
        ),
        ("escaped solidus", "\"/\"", "\"\\/\""),
        ("uppercase hex escape", "\\u000f", "\\u000F"),
        ("trailing zero", "4.5", "4.50"),
        (
            "exponent for an integer",
            "[null,true,false]",
            "[null,true,false,1e2]",
        ),
        ("negative zero", "[null,true,false]", "[null,true,false,-0]"),
        ("leading zero", "0.002", "00.002"),
    ];
    for (what, from, to) in mutations {
        assert!(values.contains(from), "{what}: {from} is in values.json");
        let mutated = values.replacen(from, to, 1);
        assert!(
            check_canonical(mutated.as_bytes()).is_err(),
            "{what}: {mutated}"
        );
    }
    assert!(matches!(
        check_canonical(
            values
                .replacen("{\"literals\"", "{\"literals\":0,\"literals\"", 1)
                .as_bytes()
        ),
        Err(CanonicalError::DuplicateMember { .. })
    ));
    assert!(check_canonical(format!("{structures} ").as_bytes()).is_err());
    let swapped = structures.replacen(r#"{"E":"no","e":"yes"}"#, r#"{"e":"yes","E":"no"}"#, 1);
    assert_ne!(swapped, structures);
    assert_eq!(
        check_canonical(swapped.as_bytes()),
        Err(CanonicalError::UnsortedMembers {
            path: "/111/0".into(),
            member: "E".into()
        })
    );
}
