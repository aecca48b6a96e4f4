//! RFC 8785 known-answer tests: the cyberphone reference files and 10,000 ES6 numbers.
//! Origins and licence: `tests/vectors/ORIGIN.md`.

use std::fs;
use std::path::Path;

use decision_log_ledger::canonical::to_canonical_bytes;

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
        let got = to_canonical_bytes(&serde_json::Value::Number(number)).expect("canonicalises");
        assert_eq!(String::from_utf8_lossy(&got), expected, "bits {bits}");
        checked += 1;
    }
    assert!(checked >= 9_990, "checked {checked} numbers");
}
