#!/usr/bin/env python3
"""Known-answer tests for verify.py.

    selftest.py [--vectors DIR] [--spec docs/log-format.md]

- RFC 8785: the cyberphone JCS input/output pairs and the first 10,000 lines of the
  ES6 number serialisation table;
- RFC 6962/9162: reference roots, and the transparency-dev inclusion and consistency
  vectors (valid ones must pass, mutated ones must fail);
- C2SP signed notes: the C2SP and golang.org/x/mod examples;
- the worked example of §12 of docs/log-format.md, read from the document itself.
"""

from __future__ import annotations

import argparse
import base64
import glob
import json
import os
import re
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify as v  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
failures: list[str] = []


def check(condition: bool, what: str) -> None:
    if not condition:
        failures.append(what)


def test_jcs(vectors: str) -> None:
    inputs = sorted(glob.glob(os.path.join(vectors, "jcs", "input", "*.json")))
    for path in inputs:
        with open(path, "rb") as f:
            value = v.parse_json(f.read())
        with open(path.replace(os.sep + "input" + os.sep, os.sep + "output" + os.sep), "rb") as f:
            expected = f.read()
        check(v.canonicalize(value) == expected, f"JCS {os.path.basename(path)}")
    count = 0
    with open(os.path.join(vectors, "jcs", "es6-numbers-10000.txt")) as f:
        for line in f:
            bits, expected = line.strip().split(",")
            number = struct.unpack(">d", bytes.fromhex(bits.zfill(16)))[0]
            check(v.canonicalize(number).decode() == expected, f"ES6 number {bits} -> {expected}")
            count += 1
    # Integers, as the entries use them; and what must be refused.
    check(v.canonicalize([0, -1, 2**53 - 1, -(2**53 - 1)]) == b"[0,-1,9007199254740991,-9007199254740991]", "ints")
    for bad in ("\ud800", {"\udc00": 1}, float("nan")):
        try:
            v.canonicalize(bad)
            check(False, f"JCS must refuse {bad!r}")
        except v.CanonicalizationError:
            pass
    print(f"JCS: {len(inputs)} files, {count} numbers")


def b64(s: str) -> bytes:
    return base64.b64decode(s)


def test_merkle(vectors: str) -> None:
    base = os.path.join(vectors, "rfc6962")
    with open(os.path.join(base, "reference-roots.json")) as f:
        ref = json.load(f)
    leaves = [v.leaf_hash(bytes.fromhex(x)) for x in ref["leaf_inputs_hex"]]
    check([h.hex() for h in leaves] == ref["leaf_hashes_hex"], "reference leaf hashes")
    for size, root in ref["roots_by_size_hex"].items():
        check(v.merkle_root(leaves[: int(size)]).hex() == root, f"reference root at size {size}")

    counts = {"inclusion": 0, "consistency": 0}
    for kind in counts:
        for path in sorted(glob.glob(os.path.join(base, "merkle-testdata", kind, "**", "*.json"), recursive=True)):
            with open(path) as f:
                t = json.load(f)
            proof = [b64(p) for p in t["proof"] or []]
            if kind == "inclusion":
                ok = v.verify_inclusion(t["leafIdx"], t["treeSize"], b64(t["leafHash"]), proof, b64(t["root"]))
            else:
                ok = v.verify_consistency(t["size1"], t["size2"], b64(t["root1"]), b64(t["root2"]), proof)
            check(ok != t["wantErr"], f"{kind} vector {path}: {t['desc']}")
            counts[kind] += 1
    print(f"Merkle: reference roots 0..8, {counts['inclusion']} inclusion and {counts['consistency']} consistency vectors")


def test_notes(vectors: str) -> None:
    base = os.path.join(vectors, "signed-note")
    for name in ("c2sp-example", "go-peterneumann"):
        with open(os.path.join(base, name + ".vkey")) as f:
            vkey = v.parse_vkey(f.read())
        with open(os.path.join(base, name + ".note"), encoding="utf-8") as f:
            note = f.read()
        text = v.verify_note(note, vkey)
        check(note.startswith(text), f"signed note {name}")
        try:
            v.verify_note(note.replace("example", "exampel", 1).replace("If you", "If You", 1), vkey)
            check(False, f"altered note {name} must not verify")
        except v.VerificationFailure:
            pass
    # Ed25519 is deterministic: re-signing the Go test note with its skey gives the same note.
    with open(os.path.join(base, "go-peterneumann.skey")) as f:
        _, _, name, key_id, key_b64 = f.read().strip().split("+", 4)
    seed = base64.b64decode(key_b64)[1:]
    with open(os.path.join(base, "go-peterneumann.note"), encoding="utf-8") as f:
        note = f.read()
    text = note[: note.index("\n\n") + 1]
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(text.encode())
    line = f"\u2014 {name} {base64.b64encode(bytes.fromhex(key_id) + signature).decode()}\n"
    check(note == text + "\n" + line, "re-signed Go note")
    check(v.tile_index_path(1234067) == "x001/x234/067" and v.tile_index_path(5) == "005", "tile paths")
    print("signed notes: 2 examples verified, Go example re-signed byte for byte")


def test_worked_example(spec_path: str) -> None:
    """§12: rebuild the disclosures, the canonical entry and its hash from the record."""
    with open(spec_path, encoding="utf-8") as f:
        spec = f.read()

    def example(name: str) -> str:
        m = re.search(r"<!-- example:" + name + r" -->\n```[a-z]*\n(.*?)\n```", spec, re.S)
        assert m, f"example:{name} not found in {spec_path}"
        return m.group(1)

    record = v.parse_json(example("record"))
    disclosures = v.parse_json(example("disclosures"))
    canonical = example("canonical-entry").encode()
    salt, path, value = v.parse_json(example("disclosure-triple"))
    check(v.canonicalize([salt, path, value]).decode() == example("disclosure-triple"), "§12 triple")
    check(v.commitment_of(salt, path, value) == example("disclosure-digest"), "§12 digest")

    # Replace each disclosed value by its placeholder, then build entry 0.
    committed = json.loads(json.dumps(record))
    for d in disclosures:
        container, key = v._locate(committed, d["path"])
        check(container[key] == d["value"], f"§12 disclosure {d['path']} is the record's value")
        container[key] = {"commitment": v.commitment_of(d["salt"], d["path"], d["value"])}
    entry = {
        "format": 1,
        "leaf_index": 0,
        "kind": "decision.recorded",
        "decision_id": "019a7c5e-3f00-7000-8000-00000000d0c5",
        "recorded_at": "2026-11-20T09:30:00.000Z",
        "recorded_by": "finance-clerk",
        "prev_hash": v.GENESIS,
        "record": committed,
    }
    check(v.canonicalize(entry) == canonical, "§12 canonical entry")
    check(v.leaf_hash(canonical).hex() == example("entry-hash"), "§12 entry hash")
    check(v.open_disclosures(committed, disclosures, 0) == record, "§12 disclosures open to the record")
    check(v.canonicalize(v.parse_json(canonical)) == canonical, "§12 JCS is idempotent")
    print("worked example (§12): triple, digest, canonical entry and entry hash reproduced")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vectors", default="/work/shared/vectors")
    parser.add_argument("--spec", default=os.path.join(HERE, "..", "..", "docs", "log-format.md"))
    args = parser.parse_args()
    test_jcs(args.vectors)
    test_merkle(args.vectors)
    test_notes(args.vectors)
    test_worked_example(args.spec)
    for f in failures:
        print("FAIL:", f)
    print("all passed" if not failures else f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
