#!/usr/bin/env python3
"""Known-answer tests for verify.py.

    selftest.py [--vectors DIR] [--spec docs/log-format.md]

- RFC 8785: the cyberphone JCS input/output pairs and the first 10,000 lines of the
  ES6 number serialisation table;
- RFC 6962/9162: reference roots, and the transparency-dev inclusion and consistency
  vectors (valid ones must pass, mutated ones must fail);
- C2SP signed notes: the C2SP and golang.org/x/mod examples;
- the worked example of §12 of docs/log-format.md, read from the document itself;
- lineage (§5, §6, §11): small logs with every entry kind, built here, signed with a
  throwaway key and served through an in-memory stand-in for the HTTP API and the tiles,
  with the failures a verifier must catch.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import glob
import hashlib
import io
import json
import os
import re
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

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
        "format": 2,
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


# ---------------------------------------------------------------------------
# Lineage (§5, §6, §11)
# ---------------------------------------------------------------------------

ORIGIN = "selftest.example/log"
# §6: the members a non-public decision.recorded record withholds, in commitment order.
WITHHELD = [
    "title", "decision", "decision_maker", "reasons", "alternatives", "conflicts", "participants",
    "vote", "documents", "success_measures", "input_from", "tags", "areas",
]


def decision_id(n: int) -> str:
    return f"019a7c5e-3f00-7000-8000-{n:012x}"


class FakeLog:
    """A decision-log written by the rules of §3 to §6 and served as §9 and §10 describe.

    `served()` applies §6's "who sees what": anyone gets a public decision's disclosures and
    what a publication made public; a token gets everything; nobody gets an erased value.
    `extra` and `withheld` let a test make the service misbehave.
    """

    def __init__(self):
        self.key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"selftest key").digest())
        public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
        self.vkey = f"{ORIGIN}+{self.key_id.hex()}+" + base64.b64encode(b"\x01" + public).decode()
        self.entries: list[dict] = []
        self.hashes: list[bytes] = []
        self.disclosures: list[list[dict]] = []  # every disclosure the service keeps, by leaf
        self.erased: set[tuple[int, str]] = set()
        self.classification: dict[str, str] = {}
        self.publications: list[tuple[int, str, dict]] = []  # (leaf, decision id, record)
        self.extra: dict[int, list[dict]] = {}  # disclosures served although they should not be
        self.withheld: set[tuple[int, str]] = set()  # disclosures not served although they should be
        self.raw: dict[int, bytes] = {}  # entry bytes served instead of the canonical ones (§2)
        self.signed_size: int | None = None  # the checkpoint's size, when it lags the log (§11)
        self.served_key: str | None = None  # the key served at /api/v1/log/key, when not the log's
        self.next_cursor: dict[int, object] = {}  # a wrong next_cursor for the page starting there

    # -- writing ----------------------------------------------------------------------------

    def append(self, kind: str, decision: str, record: dict, commit: list[str] = ()) -> int:
        leaf = len(self.entries)
        record = copy.deepcopy(record)
        disclosures = []
        for path in commit:  # in order: a whole value committed later holds the earlier placeholders
            container, key = v._locate(record, path)
            salt = hashlib.sha256(f"salt {leaf} {path}".encode()).hexdigest()[:32]
            disclosures.append({"path": path, "salt": salt, "value": container[key]})
            container[key] = {"commitment": v.commitment_of(salt, path, container[key])}
        entry = {
            "format": 2,
            "leaf_index": leaf,
            "kind": kind,
            "decision_id": decision,
            "recorded_at": f"2026-11-20T09:{leaf // 60:02d}:{leaf % 60:02d}.000Z",
            "recorded_by": "selftest-clerk",
            "prev_hash": self.hashes[-1].hex() if self.hashes else v.GENESIS,
            "record": record,
        }
        self.entries.append(entry)
        self.hashes.append(v.leaf_hash(v.canonicalize(entry)))
        self.disclosures.append(disclosures)
        return leaf

    def is_public(self, decision: str) -> bool:
        return self.classification.get(decision, "public") == "public" or any(
            d == decision and r["scope"] == "record" for _, d, r in self.publications
        )

    def record(self, decision: str, record: dict) -> int:
        """decision.recorded, committing what §6 commits (format 2: every name)."""
        commit = ["/decision_maker/name"]
        commit += [f"/participants/{i}/name" for i in range(len(record["participants"]))]
        if isinstance(record["conflicts"], list):
            commit += [
                f"/conflicts/{i}/dispensation/granted_by" for i, c in enumerate(record["conflicts"]) if "dispensation" in c
            ]
        if record["classification"] != "public":
            commit += [f"/{m}" for m in WITHHELD if m in record]
        self.classification[decision] = record["classification"]
        return self.append("decision.recorded", decision, record, commit)

    def lineage(self, kind: str, decision: str, record: dict) -> int:
        """A lineage entry, committing what §6 commits for its kind."""
        commit = []
        if not self.is_public(decision):
            if kind == "decision.amended":
                commit = [f"/changes/{f}" for f in record["changes"] if f in WITHHELD] + ["/reason"]
            elif kind == "decision.outcome_reported":
                commit = ["/narrative"] + (["/evidence"] if "evidence" in record else [])
            elif kind == "decision.call_in":
                commit = ["/note"] if "note" in record else []
            elif kind in ("decision.rescinded", "decision.superseded"):
                commit = ["/reason"]
        return self.append(kind, decision, record, commit)

    def redact(self, decision: str, leaf: int, path: str, commitment: str | None = None) -> int:
        """Erase the disclosure at (leaf, path) and append its decision.redacted entry."""
        if commitment is None:
            d = next(d for d in self.disclosures[leaf] if d["path"] == path)
            commitment = v.commitment_of(d["salt"], path, d["value"])
        self.erased.add((leaf, path))
        record = {
            "leaf_index": leaf,
            "path": path,
            "commitment": commitment,
            "basis": "UK GDPR Art. 17",
            "authorised_by": "data-protection-officer",
            "reason": "Erasure request.",
        }
        # Format 2 commits the path, authority and reason of a decision that is not public (§5.7).
        commit = [] if self.is_public(decision) else ["/path", "/authorised_by", "/reason"]
        return self.append("decision.redacted", decision, record, commit)

    def grant(self, grant_id: str, token: str, role: str = "auditor") -> int:
        return self.append("access.granted", grant_id, {"token": token, "role": role})

    def revoke(self, grant_id: str, token: str) -> int:
        return self.append("access.revoked", grant_id, {"token": token})

    def publish(self, decision: str, fields: list[str] | None = None) -> int:
        record = {"scope": "record", "reason": "The exemption has lapsed."}
        if fields is not None:
            record = {"scope": "fields", "fields": fields, "reason": "The contract is signed."}
        leaf = self.append("decision.published", decision, record)
        self.publications.append((leaf, decision, record))
        return leaf

    # -- serving ----------------------------------------------------------------------------

    def published(self, leaf: int, path: str) -> bool:
        entry = self.entries[leaf]
        for at, decision, record in self.publications:
            if decision != entry["decision_id"] or at <= leaf:
                continue
            if record["scope"] == "record":
                return True
            prefix = {"decision.recorded": "", "decision.amended": "/changes"}.get(entry["kind"])
            if prefix is not None and any(v._is_under(path, f"{prefix}/{f}") for f in record["fields"]):
                return True
        return False

    def served(self, leaf: int, reader: str) -> list[dict]:
        """§6, served to whom exactly: `reader` is anonymous, authenticated or auditor."""
        classification = self.classification.get(self.entries[leaf]["decision_id"], "public")
        out = [
            d
            for d in self.disclosures[leaf]
            if not any(t == leaf and v._is_under(d["path"], p) for t, p in self.erased)
            and (leaf, d["path"]) not in self.withheld
            and (self.published(leaf, d["path"]) or classification in v.SERVED_TO[reader])
        ]
        return out + self.extra.get(leaf, [])

    def checkpoint(self) -> str:
        size = len(self.entries) if self.signed_size is None else self.signed_size
        root = base64.b64encode(v.merkle_root(self.hashes[:size])).decode()
        text = f"{ORIGIN}\n{size}\n{root}\n"
        signature = base64.b64encode(self.key_id + self.key.sign(text.encode())).decode()
        return f"{text}\n\u2014 {ORIGIN} {signature}\n"


class FakeHttp:
    """Serves a FakeLog as the JSON API (§9) and as tiles (§10, one partial tile)."""

    def __init__(self, log: FakeLog, reader: str):
        self.log, self.reader = log, reader

    def get(self, path: str, params: dict | None = None) -> bytes:
        log, size = self.log, len(self.log.entries)
        if path in ("/api/v1/log/checkpoint", "/tlog/checkpoint"):
            return log.checkpoint().encode()
        if path == "/api/v1/log/key":
            return ((log.vkey if log.served_key is None else log.served_key) + "\n").encode()
        if path == "/api/v1/log/entries":
            start, limit = int(params["from"]), int(params["limit"])
            # Entries are served as their bytes, verbatim (§2): spliced into the page as they are.
            items = []
            for i in range(start, min(start + limit, size)):
                entry = log.raw.get(i, v.canonicalize(log.entries[i])).decode()
                items.append(
                    f'{{"leaf_index":{i},"entry_hash":"{log.hashes[i].hex()}","entry":{entry},'
                    f'"disclosures":{json.dumps(log.served(i, self.reader))}}}'
                )
            end = min(start + limit, size)
            page = f'{{"entries":[{",".join(items)}],"tree_size":{size}'
            if start in log.next_cursor:
                page += f',"next_cursor":{json.dumps(log.next_cursor[start])}'
            elif end < size:
                page += f',"next_cursor":"{end}"'
            return (page + "}").encode()
        if path == f"/tlog/tile/entries/000.p/{size}":
            return b"".join(len(e).to_bytes(2, "big") + e for e in map(v.canonicalize, log.entries))
        if path == f"/tlog/tile/0/000.p/{size}":
            return b"".join(log.hashes)
        raise v.ReadError(f"GET {path}: 404")

    def get_text(self, path: str) -> str:
        return self.get(path).decode()


def verify_fake(log: FakeLog, mode: str, page_size: int = 1000) -> str:
    """Run the verifier on `log` read anonymously, as an authenticated reader, with an auditor's
    token, or through tiles: "OK" or the failure."""
    vkey = v.parse_vkey(log.vkey)
    reader = {"token": "auditor", "authenticated": "authenticated"}.get(mode, "anonymous")
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            if mode == "tiles":
                v.verify_via_tiles(FakeHttp(log, "anonymous"), vkey)
            else:
                v.verify_via_api(FakeHttp(log, reader), vkey, page_size, reader=reader, vkey_text=log.vkey)
    except v.VerificationFailure as e:
        return str(e)
    return "OK"


def a_record(n: int, classification: str = "public") -> dict:
    """A decision.recorded record with two participants and a dispensation."""
    record = {
        "title": f"Decision {n}",
        "decision": f"Do thing {n}.",
        "decided_on": "2026-11-02",
        "body": "cabinet",
        "decision_maker": {"kind": "member", "name": "Ann Lee", "title": "Leader"},
        "decision_type": "key",
        "reasons": "It is needed.",
        "alternatives": "none_considered",
        "conflicts": [
            {"participant": 1, "nature": "Lives nearby.", "dispensation": {"granted_by": "Jo Bloggs", "granted_on": "2026-10-01"}}
        ],
        "participants": [
            {"name": "Ann Lee", "role": "decision_maker", "attendance": "present"},
            {"name": "Bo Chen", "role": "consulted", "attendance": "remote"},
        ],
        "classification": classification,
        "documents": [{"title": "Report", "uri": "https://example.org/r.pdf", "sha256": "ab" * 32}],
        "tags": ["libraries"],
    }
    if classification == "restricted":
        record["exemption"] = {"paragraph": 3, "public_interest_reason": "Terms open.", "public_summary": "A contract."}
    return record


A, B, C, D, X = (decision_id(n) for n in range(1, 6))
G, H = decision_id(6), decision_id(7)  # grant ids (§5.10)


def full_log() -> FakeLog:
    """Every kind, for a public decision (A), a restricted one published in two steps (B), a
    restricted one never published (C) and a successor (D)."""
    log = FakeLog()
    log.record(A, a_record(1))  # 0
    log.record(B, a_record(2, "restricted"))  # 1
    log.lineage("decision.amended", A, {"changes": {"title": "Decision 1, corrected", "tags": ["libraries", "a"]}, "reason": "Typo."})  # 2
    log.lineage("decision.amended", B, {"changes": {"title": "Decision 2, corrected", "decided_on": "2026-11-03"}, "reason": "Typo."})  # 3
    evidence = [{"title": "Survey", "uri": "https://example.org/s.pdf", "sha256": "cd" * 32}]
    log.lineage(
        "decision.outcome_reported",
        B,
        {"status": "on_track", "reported_on": "2027-01-10", "narrative": "Going well.", "evidence": evidence, "next_review_on": "2027-06-01"},
    )  # 4
    log.lineage("decision.call_in", A, {"status": "called_in", "on": "2026-11-05", "note": "Scrutiny asked."})  # 5
    log.lineage("decision.call_in", A, {"status": "upheld", "on": "2026-11-12"})  # 6
    log.redact(A, 0, "/participants/1/name")  # 7
    log.publish(B, ["title"])  # 8
    log.record(C, a_record(3, "restricted"))  # 9
    log.redact(C, 9, "/participants/0/name")  # 10: inside /participants, withheld from anonymous readers
    log.lineage("decision.call_in", B, {"status": "called_in", "on": "2027-02-01", "note": "Again."})  # 11
    log.publish(B)  # 12
    log.redact(B, 1, "/participants/0/name")  # 13: after the publication that made it public
    log.lineage("decision.rescinded", B, {"rescinded_on": "2027-03-01", "reason": "Contract ended."})  # 14
    log.record(D, a_record(4))  # 15
    log.lineage("decision.superseded", A, {"superseded_by": D, "reason": "Replaced."})  # 16
    log.lineage("decision.amended", D, {"changes": {"reasons": "Clearer reasons."}, "reason": "Clarity."})  # 17
    log.grant(G, "internal-audit")  # 18
    log.revoke(G, "internal-audit")  # 19
    return log


caught = 0  # failure cases expected of the verifier


def expect(log: FakeLog, modes: str, want: str, what: str) -> None:
    """`want` is "OK", or "leaf N: <part of the message>"."""
    global caught
    caught += want != "OK"
    where, _, fragment = want.partition(": ")
    for mode in modes.split():
        got = verify_fake(log, mode)
        ok = got == "OK" if want == "OK" else got.startswith(where + ": ") and fragment in got
        check(ok, f"lineage, {what} ({mode}): expected {want!r}, got {got!r}")


def test_lineage() -> None:
    log = full_log()
    expect(log, "anonymous token tiles", "OK", "a log with every kind verifies")
    for entry in log.entries:  # a receipt checks each entry's kind and members (§9)
        v.check_entry_shape(entry, entry["leaf_index"])
    check({e["kind"] for e in log.entries} == v.KINDS, "the full log has every kind")
    # What §6 commits: B's amendment commits /changes/title and /reason, not /changes/decided_on.
    amended = log.entries[3]["record"]
    check(v.is_placeholder(amended["changes"]["title"]) and v.is_placeholder(amended["reason"]), "§6 amended commits")
    check(amended["changes"]["decided_on"] == "2026-11-03", "§6 an amended date stays in clear")
    check(not any(v.is_placeholder(x) for x in log.entries[14]["record"].values()), "§6 public after publication")
    # §5.7 (format 2): a redaction commits path, authority and reason while its decision is withheld.
    check(all(v.is_placeholder(log.entries[10]["record"][m]) for m in ("path", "authorised_by", "reason")),
          "§5.7 a withheld decision's redaction commits its text")
    check(log.entries[10]["record"]["basis"] == "UK GDPR Art. 17", "§5.7 the basis stays in clear")
    check(isinstance(log.entries[7]["record"]["path"], str), "§5.7 a public decision's redaction is in clear")

    # Grants (§5.10): minted once, revoked once, for the token granted, never a decision.
    for build, want, what in (
        (lambda l: l.revoke(G, "internal-audit"), f"leaf 1: access.revoked names grant {G}", "a revocation of no grant"),
        (lambda l: (l.grant(G, "internal-audit"), l.revoke(G, "clerk")), "leaf 2: access.revoked names token 'clerk'",
         "a revocation of another token"),
        (lambda l: (l.grant(G, "internal-audit"), l.revoke(G, "internal-audit"), l.revoke(G, "internal-audit")),
         "leaf 3: access.revoked of grant", "a grant revoked twice"),
        (lambda l: l.grant(A, "internal-audit"), f"leaf 1: access.granted reuses the id {A}", "a grant id that is a decision's"),
        (lambda l: (l.grant(H, "internal-audit"), l.lineage("decision.rescinded", H, {"rescinded_on": "2027-01-01", "reason": "x"})),
         f"leaf 2: decision.rescinded names {H}, which is the id of a grant", "lineage of a grant"),
        (lambda l: l.append("access.granted", H, {"role": "auditor"}), "leaf 1: access.granted: record.token must be a token name",
         "a grant without a token"),
    ):
        log = FakeLog()
        log.record(A, a_record(1))
        build(log)
        expect(log, "anonymous token tiles", want, what)

    log = FakeLog()
    log.record(A, a_record(1))
    log.append("decision.deleted", A, {"reason": "No such kind."})
    expect(log, "anonymous tiles", "leaf 1: kind 'decision.deleted' is not one of the kinds of §5", "an unknown kind")

    log = FakeLog()
    log.record(A, a_record(1))
    log.lineage("decision.rescinded", X, {"rescinded_on": "2027-01-01", "reason": "Gone."})
    expect(log, "anonymous tiles", f"leaf 1: decision.rescinded refers to decision {X}", "a lineage entry for an unknown decision")

    log = FakeLog()
    log.lineage("decision.call_in", A, {"status": "called_in", "on": "2026-11-05"})
    log.record(A, a_record(1))
    expect(log, "anonymous", "leaf 0: decision.call_in refers to decision", "a lineage entry before its decision")

    log = FakeLog()
    log.record(A, a_record(1))
    log.record(A, a_record(2))
    expect(log, "anonymous tiles", f"leaf 1: decision {A} was already recorded", "a decision recorded twice")

    for successor, want in ((X, "no earlier decision.recorded entry records that decision"), (A, "superseded by itself")):
        log = FakeLog()
        log.record(A, a_record(1))
        log.lineage("decision.superseded", A, {"superseded_by": successor, "reason": "Replaced."})
        expect(log, "anonymous tiles", f"leaf 1: {want}", "a bad successor")

    # The lifecycle (§5.9): each entry must be one the decision's state admits.
    rescind = {"rescinded_on": "2027-01-01", "reason": "Gone."}
    outcome = {"status": "on_track", "reported_on": "2027-01-10", "narrative": "Going well."}
    for events, want, what in (
        ([("decision.rescinded", A, rescind), ("decision.outcome_reported", A, outcome)],
         f"leaf 4: transition refused: decision.outcome_reported while decision {A} is rescinded", "an outcome after rescission"),
        ([("decision.rescinded", A, rescind), ("decision.rescinded", A, rescind)],
         f"leaf 4: transition refused: decision.rescinded while decision {A} is rescinded", "a second rescission"),
        ([("decision.call_in", A, {"status": "upheld", "on": "2026-11-12"})],
         f"leaf 3: transition refused: decision.call_in while decision {A} is in_force", "an upheld call-in without a call-in"),
        ([("decision.call_in", A, {"status": s, "on": "2026-11-12"}) for s in ("called_in", "upheld", "called_in")],
         f"leaf 5: transition refused: decision.call_in while decision {A} is in_force", "a second call-in"),
        ([("decision.call_in", A, {"status": s, "on": "2026-11-12"}) for s in ("called_in", "referred_back", "upheld")],
         f"leaf 5: transition refused: decision.call_in while decision {A} is referred_back", "a referral back upheld"),
        ([("decision.superseded", A, {"superseded_by": D, "reason": "Replaced."}),
          ("decision.amended", A, {"changes": {"title": "Late"}, "reason": "Typo."})],
         f"leaf 4: transition refused: decision.amended while decision {A} is superseded", "an amendment after supersession"),
        ([("decision.rescinded", D, rescind), ("decision.superseded", A, {"superseded_by": D, "reason": "Replaced."})],
         f"leaf 4: transition refused: decision.superseded while decision {D} is rescinded", "a rescinded successor"),
        ([("decision.superseded", D, {"superseded_by": A, "reason": "Replaced."}),
          ("decision.superseded", A, {"superseded_by": D, "reason": "Replaced."})],
         f"leaf 4: transition refused: decision.superseded while decision {D} is superseded", "two decisions superseding each other"),
        ([("decision.call_in", A, {"status": s, "on": "2026-11-12"}) for s in ("called_in", "referred_to_council", "upheld")]
         + [("decision.superseded", A, {"superseded_by": C, "reason": "Replaced."}),
            ("decision.superseded", D, {"superseded_by": A, "reason": "Replaced."})],
         "OK", "a call-in resolved by council; a successor itself superseded by a third decision"),
    ):
        log = FakeLog()
        log.record(A, a_record(1))
        log.record(D, a_record(4))
        log.record(C, a_record(3))
        for kind, decision, record in events:
            log.lineage(kind, decision, record)
        expect(log, "anonymous token tiles", want, what)
    log = FakeLog()
    log.record(A, a_record(1))
    log.lineage("decision.rescinded", A, rescind)
    log.redact(A, 0, "/participants/0/name")
    expect(log, "anonymous token tiles", "OK", "an erasure after rescission")

    # Redactions: the commitment must match, the target must be an earlier entry of the decision
    # holding a placeholder at the path, and the erased value must no longer be served.
    log = FakeLog()
    log.record(A, a_record(1))
    log.redact(A, 0, "/participants/0/name", commitment="ab" * 32)
    expect(log, "anonymous token tiles", "leaf 1: redaction of leaf 0 /participants/0/name: commitment is", "a redaction commitment mismatch")

    log = FakeLog()
    log.record(C, a_record(3, "restricted"))
    log.redact(C, 0, "/participants/1/name", commitment="ab" * 32)
    expect(log, "token", "leaf 1: redaction of leaf 0 /participants/1/name: commitment is", "a nested commitment mismatch")
    expect(log, "anonymous tiles", "OK", "a nested commitment under a withheld parent cannot be checked")

    log = FakeLog()
    log.record(A, a_record(1))
    log.redact(A, 0, "/title", commitment="ab" * 32)
    expect(log, "anonymous token tiles", "leaf 1: redaction of leaf 0 /title: that entry holds no placeholder", "a redaction of a clear value")

    log = FakeLog()
    log.record(A, a_record(1))
    log.record(D, a_record(4))
    log.redact(A, 1, "/participants/0/name")
    expect(log, "anonymous tiles", f"leaf 2: redaction of leaf 1, which is not an entry of decision {A}", "a redaction across decisions")

    log = FakeLog()
    log.record(A, a_record(1))
    log.redact(A, 0, "/participants/0/name")
    log.entries[1]["record"]["leaf_index"] = 1  # its own leaf; rebuild the chain from here
    log.hashes[1] = v.leaf_hash(v.canonicalize(log.entries[1]))
    expect(log, "anonymous", "leaf 1: redaction of leaf 1, which is not an earlier entry", "a redaction of itself")

    redaction = {"leaf_index": 0, "path": "/participants/0/name", "commitment": "ab" * 32,
                 "basis": "UK GDPR Art. 17", "authorised_by": "data-protection-officer", "reason": "Asked."}
    malformed = [
        ("decision.redacted", dict(redaction, leaf_index="0"), "record.leaf_index must be a leaf index"),
        ("decision.redacted", dict(redaction, basis=None), "record.basis must be a string"),
        ("decision.redacted", {k: x for k, x in redaction.items() if k != "authorised_by"}, "record.authorised_by must be"),
        ("decision.redacted", dict(redaction, path=7), "record.path must be a string or a placeholder"),
        ("decision.redacted", dict(redaction, commitment="AB" * 32), "record.commitment must be 64 lowercase hex"),
        ("decision.superseded", {"superseded_by": 5, "reason": "Replaced."}, "record.superseded_by must be a decision id"),
        ("decision.call_in", {"status": "rescinded", "on": "2026-11-12"}, "record.status must be one of called_in"),
        ("decision.published", {"scope": "fields", "reason": "Open."}, "record.fields must be a non-empty list"),
    ]
    for kind, record, want in malformed:
        log = FakeLog()
        log.record(A, a_record(1))
        log.append(kind, A, record)
        expect(log, "anonymous tiles", f"leaf 1: {kind}: {want}", f"a malformed {kind}")

    log = full_log()
    log.extra[0] = [next(d for d in log.disclosures[0] if d["path"] == "/participants/1/name")]
    expect(log, "anonymous token", "leaf 7: erased value still held: this entry erases leaf 0 /participants/1/name", "an erased disclosure still served")
    expect(log, "tiles", "OK", "tiles serve no disclosures, so no erased one")

    # Publications: what they make public must be served to anyone, unless erased.
    log = full_log()
    log.withheld.add((1, "/title"))
    expect(log, "anonymous token", "leaf 8: publication not honoured: decision", "a published field not served")
    log = full_log()
    log.withheld.add((11, "/note"))
    expect(log, "anonymous", "leaf 12: publication not honoured", "a published record not served in full")
    expect(log, "tiles", "OK", "tiles cannot check publications")
    # Scope fields publishes /title and /changes/title, and nothing else: not the amendment's reason.
    log = FakeLog()
    log.record(B, a_record(2, "restricted"))
    log.lineage("decision.amended", B, {"changes": {"title": "Decision 2, corrected"}, "reason": "Typo."})
    log.publish(B, ["title"])
    expect(log, "anonymous", "OK", "a fields publication publishes only its fields")
    check(sorted(d["path"] for leaf in (0, 1) for d in log.served(leaf, "anonymous")) == ["/changes/title", "/title"],
          "lineage: the fake service publishes /title and /changes/title")
    for leaf, path in ((0, "/title"), (1, "/changes/title")):
        log.withheld = {(leaf, path)}
        expect(log, "anonymous", f"leaf 2: publication not honoured: decision {B} published leaf {leaf} {path}",
               "a published field not served")
    # A name in published participants erased by a redaction whose path is withheld: an
    # anonymous reader cannot tell which value went, so that entry's values are excused.
    log = FakeLog()
    log.record(B, a_record(2, "restricted"))
    log.publish(B, ["participants"])
    log.redact(B, 0, "/participants/1/name")
    expect(log, "anonymous token tiles", "OK", "an erasure whose path is withheld excuses its entry")
    log.withheld = {(0, "/participants/0/name")}
    expect(log, "token", "leaf 1: publication not honoured", "a reader shown the path still checks the rest")
    test_served_to_whom()
    test_served_bytes()
    print(f"lineage: every kind verified anonymously, with a token and through tiles; {caught} failure cases")


def test_served_to_whom() -> None:
    """§6 "served to whom, exactly", both ways, judged at each page's tree_size."""
    log = full_log()
    log.record(X, a_record(5, "internal"))  # 20
    Y = decision_id(8)
    log.record(Y, a_record(6, "restricted"))  # 21
    expect(log, "anonymous authenticated token", "OK", "each reader served exactly its values")
    log.withheld = {(0, "/participants/0/name")}
    expect(log, "anonymous authenticated token", f"leaf 0: value withheld: /participants/0/name of decision {A} is public, so",
           "a public name withheld")
    check(verify_fake(log, "anonymous").endswith("so an anonymous reader is served it, but no disclosure of it is served "
                                                 "and no redaction erased it"), "the withheld message")
    log.withheld = {(20, "/title")}
    expect(log, "authenticated", f"leaf 20: value withheld: /title of decision {X} is internal, so a authenticated",
           "an internal value withheld from an authenticated reader")
    expect(log, "anonymous", "OK", "an internal value is not an anonymous reader's to miss")
    log.withheld = {(21, "/title")}
    expect(log, "token", f"leaf 21: value withheld: /title of decision {Y} is restricted, so an auditor", "a restricted value withheld")
    expect(log, "anonymous authenticated", "OK", "a restricted value is only an auditor's to miss")
    log.withheld = set()
    log.extra[21] = [next(d for d in log.disclosures[21] if d["path"] == "/title")]
    expect(log, "anonymous authenticated",
           f"leaf 21: value served beyond its readers: /title of decision {Y} is restricted, but it is served to",
           "a restricted value served to others")
    log.extra = {20: [next(d for d in log.disclosures[20] if d["path"] == "/title")]}
    expect(log, "anonymous", f"leaf 20: value served beyond its readers: /title of decision {X} is internal", "over-served")

    # Read past the checkpoint: an erasure after it withdraws a published value, without a false alarm.
    log = FakeLog()
    log.record(B, a_record(2, "restricted"))  # 0
    log.publish(B)  # 1
    log.signed_size = 2
    log.redact(B, 0, "/participants/1/name")  # 2: in no checkpoint yet
    expect(log, "anonymous token", "OK", "an erasure past the checkpoint is read")
    for page_size in (1, 2):
        check(verify_fake(log, "anonymous", page_size) == "OK", f"pages of {page_size} past the checkpoint")
    log.extra[0] = [next(d for d in log.disclosures[0] if d["path"] == "/participants/1/name")]
    expect(log, "anonymous", "leaf 2: erased value still held: this entry erases leaf 0 /participants/1/name",
           "an erasure past the checkpoint is checked too")
    err = io.StringIO()
    log.extra = {}
    with contextlib.redirect_stderr(err):
        v.verify_via_api(FakeHttp(log, "anonymous"), v.parse_vkey(log.vkey), reader="anonymous")
    check("the first 2 are covered by the signed checkpoint; the newest 1 are not yet" in err.getvalue(),
          f"uncovered entries reported: {err.getvalue()!r}")


def test_served_bytes() -> None:
    """§2: entries are served verbatim and must be canonical; duplicate members fail; §8, §9."""
    log = full_log()
    canonical = v.canonicalize(log.entries[3])
    log.raw[3] = b"{ " + canonical[1:]
    expect(log, "anonymous", "leaf 3: the served entry bytes are not in RFC 8785 canonical form", "a non-canonical entry")
    log.raw[3] = b'{"format":9,' + canonical[1:]
    expect(log, "anonymous", "leaf 3: the served page is not valid JSON: duplicate object member 'format'",
           "a duplicate member in an entry")
    log.raw = {}
    d = json.dumps(log.disclosures[0][0])
    # A duplicate member in a disclosure (spliced into the served page).
    original_get = FakeHttp.get

    def duplicated(self, path, params=None):
        body = original_get(self, path, params)
        return body.replace(d.encode()[:-1] + b"}", d.encode()[:-1] + b', "salt": "00"}', 1) if path.endswith("entries") else body

    FakeHttp.get = duplicated
    try:
        expect(log, "anonymous", "leaf 0: the served page is not valid JSON: duplicate object member 'salt'",
               "a duplicate member in a disclosure")
    finally:
        FakeHttp.get = original_get
    log.served_key = log.vkey.replace(ORIGIN, "other.example/log", 1)
    got = verify_fake(log, "anonymous")
    check(got.startswith("the log's verifier key is \"other.example/log+"), f"a served key not the pinned one: {got!r}")
    log.served_key = None
    log.next_cursor[0] = None
    expect(log, "anonymous", "leaf 0: next_cursor is None", "next_cursor null at the head")
    log.next_cursor = {0: "5"}
    check(verify_fake(log, "anonymous", 3).startswith("leaf 0: next_cursor is '5', expected \"3\""), "a wrong next_cursor")
    log.next_cursor = {}
    check(verify_fake(log, "anonymous", 7) == "OK", "pages of 7")
    check(v.verify_consistency(3, 3, b"r" * 32, b"r" * 32, []), "§7 consistency of a size with itself")
    check(not v.verify_consistency(3, 3, b"r" * 32, b"s" * 32, []), "§7 equal sizes need equal roots")
    check(not v.verify_consistency(3, 3, b"r" * 32, b"r" * 32, [b"r" * 32]), "§7 equal sizes need an empty proof")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vectors", default="/work/shared/vectors")
    parser.add_argument("--spec", default=os.path.join(HERE, "..", "..", "docs", "log-format.md"))
    args = parser.parse_args()
    test_jcs(args.vectors)
    test_merkle(args.vectors)
    test_notes(args.vectors)
    test_worked_example(args.spec)
    test_lineage()
    for f in failures:
        print("FAIL:", f)
    print("all passed" if not failures else f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
