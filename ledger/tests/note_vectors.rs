//! C2SP signed-note and tlog-checkpoint known-answer tests: the spec examples and the Go
//! `sumdb/note` test key, plus the precise error for each kind of damage to a known-good note.
//! Origins and licences: `tests/vectors/ORIGIN.md`.

use std::fs;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use decision_log_ledger::checkpoint::{Checkpoint, CheckpointError};
use decision_log_ledger::note::{self, NoteError, Signer, Verifier};

fn vector(name: &str) -> String {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/signed-note"
    ));
    fs::read_to_string(path.join(name)).expect("vector file")
}

fn go_note() -> String {
    vector("go-peterneumann.note")
}

fn go_verifier() -> Verifier {
    Verifier::from_vkey(&vector("go-peterneumann.vkey")).expect("vkey parses")
}

const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n";
const GO_KEY_ID: [u8; 4] = [0xc7, 0x4f, 0x20, 0xa3];

/// The go note with its signature's decoded bytes passed through `change`.
fn with_signature_bytes(change: impl FnOnce(&mut Vec<u8>)) -> String {
    let note = go_note();
    let (head, encoded) = note.trim_end().rsplit_once(' ').expect("signature line");
    let mut bytes = BASE64.decode(encoded).expect("base64");
    change(&mut bytes);
    format!("{head} {}\n", BASE64.encode(bytes))
}

#[test]
fn the_c2sp_example_note_verifies() {
    let verifier = Verifier::from_vkey(&vector("c2sp-example.vkey")).expect("vkey parses");
    let opened = note::open(&vector("c2sp-example.note"), &[verifier]).expect("verifies");
    assert_eq!(opened.text, "This is an example message.\n");
    assert_eq!(opened.verified_by, vec!["example.com/foo".to_string()]);
    assert_eq!(opened.unverified, 0);
}

#[test]
fn the_go_example_note_verifies() {
    let opened = note::open(&go_note(), &[go_verifier()]).expect("verifies");
    assert_eq!(opened.text, GO_TEXT);
    assert_eq!(opened.verified_by, vec!["PeterNeumann".to_string()]);
}

#[test]
fn signing_the_go_text_with_the_go_skey_reproduces_the_note_byte_for_byte() {
    let signer = Signer::from_skey(&vector("go-peterneumann.skey")).expect("skey parses");
    assert_eq!(signer.name(), "PeterNeumann");
    assert_eq!(signer.key_id(), GO_KEY_ID);
    assert_eq!(
        note::sign(GO_TEXT, &[&signer]).expect("signs").as_bytes(),
        go_note().as_bytes()
    );
}

#[test]
fn the_go_skey_gives_the_go_vkey_and_both_texts_round_trip() {
    let skey = vector("go-peterneumann.skey");
    let vkey = vector("go-peterneumann.vkey");
    let signer = Signer::from_skey(&skey).expect("skey parses");
    assert_eq!(signer.verifier().to_vkey(), vkey.trim_end());
    assert_eq!(signer.verifier(), go_verifier());
    assert_eq!(signer.to_skey(), skey.trim_end());
    assert_eq!(go_verifier().to_vkey(), vkey.trim_end());
}

#[test]
fn the_c2sp_checkpoint_example_parses_as_a_checkpoint() {
    let note = vector("c2sp-checkpoint-example.note");
    let (text, _signatures) = note.rsplit_once("\n\n").expect("blank line");
    let checkpoint = Checkpoint::parse(&format!("{text}\n")).expect("parses");
    assert_eq!(checkpoint.origin, "example.com/behind-the-sofa");
    assert_eq!(checkpoint.size, 20_852_163);
    assert_eq!(
        BASE64.encode(checkpoint.root.as_bytes()),
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    );
    assert!(checkpoint.extensions.is_empty());
    assert_eq!(checkpoint.to_text(), format!("{text}\n"));
}

#[test]
fn the_c2sp_checkpoint_example_is_unverified_without_its_key() {
    // No key is published for the example: any verifier named after its origin finds only an
    // unknown signature.
    let stranger = Signer::from_seed("example.com/behind-the-sofa", [1; 32]).expect("name");
    assert!(matches!(
        Checkpoint::open(&vector("c2sp-checkpoint-example.note"), &stranger.verifier()),
        Err(CheckpointError::Note(NoteError::UnverifiedNote { signed_by }))
            if signed_by.len() == 1 && signed_by[0].starts_with("example.com/behind-the-sofa+")
    ));
}

#[test]
fn one_flipped_bit_in_the_text_is_an_invalid_signature() {
    // 'I' (0x49) becomes 'H' (0x48): still printable, so only the signature can catch it.
    let tampered = go_note().replacen("If you", "Hf you", 1);
    assert_eq!(
        note::open(&tampered, &[go_verifier()]),
        Err(NoteError::InvalidSignature {
            name: "PeterNeumann".into(),
            key_id: GO_KEY_ID
        })
    );
}

#[test]
fn one_flipped_bit_in_the_signature_is_an_invalid_signature() {
    let tampered = with_signature_bytes(|bytes| bytes[10] ^= 0x01);
    assert_eq!(
        note::open(&tampered, &[go_verifier()]),
        Err(NoteError::InvalidSignature {
            name: "PeterNeumann".into(),
            key_id: GO_KEY_ID
        })
    );
}

#[test]
fn a_signature_under_a_wrong_key_id_is_from_an_unknown_key() {
    let tampered = with_signature_bytes(|bytes| bytes[0] ^= 0x01);
    assert_eq!(
        note::open(&tampered, &[go_verifier()]),
        Err(NoteError::UnverifiedNote {
            signed_by: vec!["PeterNeumann+c64f20a3".into()]
        })
    );
}

#[test]
fn a_note_with_no_known_signer_is_unverified() {
    let c2sp = Verifier::from_vkey(&vector("c2sp-example.vkey")).expect("vkey parses");
    assert_eq!(
        note::open(&go_note(), &[c2sp]),
        Err(NoteError::UnverifiedNote {
            signed_by: vec!["PeterNeumann+c74f20a3".into()]
        })
    );
    assert_eq!(
        note::open(&go_note(), &[]),
        Err(NoteError::UnverifiedNote {
            signed_by: vec!["PeterNeumann+c74f20a3".into()]
        })
    );
}

#[test]
fn a_truncated_note_is_refused_for_its_missing_final_newline() {
    let note = go_note();
    for cut in [1, 10, 60] {
        assert_eq!(
            note::open(&note[..note.len() - cut], &[go_verifier()]),
            Err(NoteError::MissingFinalNewline),
            "cut {cut}"
        );
    }
}

#[test]
fn a_note_cut_at_its_blank_line_has_no_signature_lines() {
    let note = go_note();
    let (text, _) = note.rsplit_once("\n\n").expect("blank line");
    assert_eq!(
        note::open(&format!("{text}\n\n"), &[go_verifier()]),
        Err(NoteError::NoSignatureLines)
    );
}

#[test]
fn a_note_without_its_blank_line_is_refused() {
    let tampered = go_note().replacen("\n\n", "\n", 1);
    assert_eq!(
        note::open(&tampered, &[go_verifier()]),
        Err(NoteError::MissingBlankLine)
    );
}

#[test]
fn a_signature_line_starting_with_a_hyphen_instead_of_an_em_dash_is_refused() {
    for dash in ["-", "\u{2013}", "--"] {
        let tampered = go_note().replacen('\u{2014}', dash, 1);
        assert_eq!(
            note::open(&tampered, &[go_verifier()]),
            Err(NoteError::MissingEmDash { line: 4 }),
            "{dash:?}"
        );
    }
}

#[test]
fn a_signature_that_is_not_base64_is_malformed() {
    let tampered = go_note().replacen("x08go/", "x08go_", 1);
    assert_eq!(
        note::open(&tampered, &[go_verifier()]),
        Err(NoteError::MalformedSignatureLine {
            line: 4,
            reason: "the signature is not standard padded base64"
        })
    );
}

#[test]
fn a_known_signature_of_the_wrong_length_is_an_invalid_signature() {
    let tampered = with_signature_bytes(|bytes| bytes.truncate(40));
    assert_eq!(
        note::open(&tampered, &[go_verifier()]),
        Err(NoteError::InvalidSignature {
            name: "PeterNeumann".into(),
            key_id: GO_KEY_ID
        })
    );
}

#[test]
fn a_witness_can_cosign_and_both_signatures_verify() {
    let log = Signer::from_skey(&vector("go-peterneumann.skey")).expect("skey parses");
    let witness = Signer::from_seed("witness.example/w1", [9; 32]).expect("name");
    let note = note::sign(GO_TEXT, &[&log, &witness]).expect("signs");
    assert!(note.starts_with(&go_note()), "the log's line comes first");
    let opened = note::open(&note, &[go_verifier(), witness.verifier()]).expect("verifies");
    assert_eq!(
        opened.verified_by,
        vec!["PeterNeumann".to_string(), "witness.example/w1".to_string()]
    );
    let log_only = note::open(&note, &[go_verifier()]).expect("verifies");
    assert_eq!(log_only.unverified, 1);
}

#[test]
fn a_checkpoint_signed_with_the_log_key_opens_to_the_same_checkpoint() {
    let signer = Signer::from_seed("example.com/decisions", [5; 32]).expect("name");
    let checkpoint = Checkpoint {
        origin: "example.com/decisions".into(),
        size: 7,
        root: decision_log_ledger::Hash::digest(b"seven leaves"),
        extensions: vec![],
    };
    let note = checkpoint.sign(&signer).expect("signs");
    assert_eq!(
        Checkpoint::open(&note, &signer.verifier()),
        Ok(checkpoint.clone())
    );
    // Reparse through a fresh vkey text, as an auditor configured from a file would.
    let verifier = Verifier::from_vkey(&signer.verifier().to_vkey()).expect("vkey");
    assert_eq!(Checkpoint::open(&note, &verifier), Ok(checkpoint));
}

#[test]
fn a_checkpoint_is_refused_when_its_origin_is_not_the_key_name() {
    let signer = Signer::from_skey(&vector("go-peterneumann.skey")).expect("skey parses");
    let checkpoint = Checkpoint {
        origin: "example.com/decisions".into(),
        size: 1,
        root: decision_log_ledger::Hash::ZERO,
        extensions: vec![],
    };
    assert_eq!(
        checkpoint.sign(&signer),
        Err(CheckpointError::OriginMismatch {
            origin: "example.com/decisions".into(),
            key_name: "PeterNeumann".into()
        })
    );
    // A correctly signed note whose body names another origin is refused after verification.
    let note = note::sign(&checkpoint.to_text(), &[&signer]).expect("signs");
    assert_eq!(
        Checkpoint::open(&note, &go_verifier()),
        Err(CheckpointError::OriginMismatch {
            origin: "example.com/decisions".into(),
            key_name: "PeterNeumann".into()
        })
    );
}
