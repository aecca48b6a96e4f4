#!/usr/bin/env python3
"""Independent verifier for a decision-log transparency log.

Written from docs/log-format.md, docs/API.md and README.md alone (no look at the
Rust implementation), as a cross-check of that specification. Section numbers
(§N) below refer to docs/log-format.md.

Usage:
    verify.py --url URL --vkey VKEY [--token TOKEN] [--reader R]
                                                      check a live log via the JSON API (§11)
    verify.py --url URL --vkey VKEY --tiles           check a live log via its C2SP tiles (§10)
    verify.py --receipt FILE --vkey VKEY              check a JSON receipt or a .tlog-proof (§9)

Besides hashes, links, the root and commitments, a whole-log run checks the lineage
of every decision (§11): each entry's kind is one of the ten of §5; lineage entries
refer to decisions recorded earlier; each is one its decision's lifecycle state
admits (§5.9: no outcome after rescission, a call-in only from the states the table
gives, ...); a redaction names a placeholder of an earlier entry of its decision,
whose disclosure is no longer served; and every value is served to exactly the
readers §6 gives it (anonymous, authenticated, auditor), judged at the tree size of
the page that served it. Served entries are taken as their bytes, verbatim, and must
be canonical (§2); pages are read past the checkpoint to the size they were read at
(§11). A receipt is checked entry by entry (kinds
and the record members the lineage checks rely on), not across entries.

Exit codes: 0 verified; 1 does not verify (the first failure is printed, naming
the leaf); 2 usage error, or the log/file could not be read.

Requirements: Python 3.11+, and the `cryptography` package for Ed25519.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import hashlib
import json
import math
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# ---------------------------------------------------------------------------
# Errors and their exit codes
# ---------------------------------------------------------------------------


class VerificationFailure(Exception):
    """The log, receipt or proof does not verify (exit code 1).

    `where` names the first bad leaf ("leaf 12") or, when no single leaf can be
    blamed, the checkpoint or tree size.
    """

    def __init__(self, where: str | None, message: str):
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.message = message


class PageUnreadable(VerificationFailure):
    """A served page that is not valid JSON (duplicate members included, §2)."""


class ReadError(Exception):
    """The log or file could not be read at all (exit code 2)."""


class CanonicalizationError(ValueError):
    """A JSON value has no RFC 8785 form (non-finite number, lone surrogate, ...)."""


# ---------------------------------------------------------------------------
# Hashing primitives (§1, §4, §7)
# ---------------------------------------------------------------------------

HEX64 = re.compile(r"^[0-9a-f]{64}$")
GENESIS = "0" * 64  # prev_hash of entry 0 (§3)
MAX_ENTRY_BYTES = 65_535  # §3: the C2SP tlog-tiles per-entry limit
MAX_SAFE_INTEGER = 2**53 - 1  # §1: I-JSON integer range


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(entry_bytes: bytes) -> bytes:
    """RFC 6962 leaf hash, which is also the decision-log entry hash (§4)."""
    return sha256(b"\x00" + entry_bytes)


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash (§7)."""
    return sha256(b"\x01" + left + right)


# ---------------------------------------------------------------------------
# Strict JSON parsing and RFC 8785 canonicalisation (§2)
# ---------------------------------------------------------------------------


def _reject_duplicate_keys(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate object member {key!r}")
        obj[key] = value
    return obj


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_json(data: bytes | str):
    """Parse JSON as I-JSON (RFC 7493): UTF-8, no duplicate names, no NaN/Infinity.

    Lone surrogates (from "\\ud800" escapes) survive parsing and are rejected by
    canonicalize(), which is where they would matter.
    """
    if isinstance(data, bytes):
        data = data.decode("utf-8")  # strict: invalid UTF-8 raises
    return json.loads(data, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant)


_JSON_WS = re.compile(r"[ \t\n\r]*")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_JSON_SCALAR = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null")


def raw_spans(text: str, wanted) -> list[str]:
    """The raw text of every value whose path (member names and array indexes from the top)
    `wanted(path)` accepts, in document order, verbatim (§2: served entries are bytes, not values).

    `text` must already have parsed as JSON (parse_json): this only finds where values lie.
    """
    spans: list[str] = []

    def skip_ws(pos: int) -> int:
        return _JSON_WS.match(text, pos).end()

    def value(pos: int, path: tuple) -> int:
        start = pos
        ch = text[pos]
        if ch == "{":
            pos = skip_ws(pos + 1)
            if text[pos] == "}":
                pos += 1
            else:
                while True:
                    key_match = _JSON_STRING.match(text, pos)
                    name = json.loads(key_match.group())
                    pos = skip_ws(key_match.end())
                    pos = skip_ws(pos + 1)  # the ':'
                    pos = skip_ws(value(pos, path + (name,)))
                    pos += 1  # ',' or '}'
                    if text[pos - 1] == "}":
                        break
                    pos = skip_ws(pos)
        elif ch == "[":
            pos = skip_ws(pos + 1)
            if text[pos] == "]":
                pos += 1
            else:
                index = 0
                while True:
                    pos = skip_ws(value(pos, path + (index,)))
                    index += 1
                    pos += 1  # ',' or ']'
                    if text[pos - 1] == "]":
                        break
                    pos = skip_ws(pos)
        elif ch == '"':
            pos = _JSON_STRING.match(text, pos).end()
        else:
            pos = _JSON_SCALAR.match(text, pos).end()
        if wanted(path):
            spans.append(text[start:pos])
        return pos

    value(skip_ws(0), ())
    return spans


def served_entry_bytes(raw: bytes, leaf: int):
    """Parse one served entry from its raw bytes, which MUST be canonical (§2); return (entry, bytes)."""
    where = f"leaf {leaf}"
    try:
        entry = parse_json(raw)
    except ValueError as e:
        raise VerificationFailure(where, f"the served entry is not valid JSON: {e}") from None
    try:
        canonical = canonicalize(entry)
    except CanonicalizationError as e:
        raise VerificationFailure(where, f"the entry has no canonical form: {e}") from None
    if canonical != raw:
        raise VerificationFailure(
            where, "the served entry bytes are not in RFC 8785 canonical form (§2: they are the bytes hashed)"
        )
    if len(raw) > MAX_ENTRY_BYTES:
        raise VerificationFailure(where, f"canonical entry is {len(raw)} bytes, over {MAX_ENTRY_BYTES}")
    return entry, raw


def _es_number(x: float) -> str:
    """ECMAScript Number.prototype.toString(x) for a finite double (RFC 8785 §3.2.2.3).

    Python's repr() gives the shortest digit string that round-trips, which is
    exactly the digit string ECMAScript uses; only the layout rules differ.
    """
    if not math.isfinite(x):
        raise CanonicalizationError("NaN and Infinity have no JSON form")
    if x == 0:
        return "0"  # also for -0
    if x < 0:
        return "-" + _es_number(-x)
    # Decompose repr(x) into digits d1..dk and exponent n with x = 0.d1..dk * 10^n.
    mantissa, _, exp = repr(x).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = int_part + frac_part
    n = len(int_part) + (int(exp) if exp else 0)
    stripped = digits.lstrip("0")
    n -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    sign = "+" if e >= 0 else "-"
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{sign}{abs(e)}"


def _jcs_number(value: int | float) -> str:
    if isinstance(value, int):
        # Safe integers print as themselves; beyond 2^53 JCS works on the double.
        if abs(value) <= 2**53:
            return str(value)
        try:
            value = float(value)
        except OverflowError:
            raise CanonicalizationError(f"number {value} is out of the IEEE 754 range") from None
    return _es_number(value)


_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _jcs_string(s: str) -> str:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalizationError(f"string {s!r} contains a lone surrogate") from None
    out = ['"']
    for ch in s:
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif ch < "\x20":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)  # everything else, including U+007F and U+2028, is literal
    out.append('"')
    return "".join(out)


def _utf16_key(name: str) -> bytes:
    # Big-endian UTF-16 bytes compare exactly like sequences of UTF-16 code units.
    return name.encode("utf-16-be")


def _jcs(value) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return _jcs_number(value)
    if isinstance(value, str):
        return _jcs_string(value)
    if isinstance(value, list):
        return "[" + ",".join(_jcs(v) for v in value) + "]"
    if isinstance(value, dict):
        for name in value:
            _jcs_string(name)  # rejects lone surrogates before sorting
        members = sorted(value.items(), key=lambda kv: _utf16_key(kv[0]))
        return "{" + ",".join(_jcs_string(k) + ":" + _jcs(v) for k, v in members) + "}"
    raise CanonicalizationError(f"{type(value).__name__} is not a JSON value")


def canonicalize(value) -> bytes:
    """The RFC 8785 (JCS) byte form of a parsed JSON value."""
    return _jcs(value).encode("utf-8")


def non_integer_number(value, pointer: str = "") -> str | None:
    """The JSON Pointer of the first number that is not an I-JSON safe integer (§1), if any."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    if isinstance(value, (int, float)):
        integral = isinstance(value, int) or (math.isfinite(value) and value.is_integer())
        return None if integral and abs(value) <= MAX_SAFE_INTEGER else pointer or "(top level)"
    children = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in children:
        token = str(key).replace("~", "~0").replace("/", "~1")
        found = non_integer_number(child, f"{pointer}/{token}")
        if found:
            return found
    return None


# ---------------------------------------------------------------------------
# Merkle tree (§7)
# ---------------------------------------------------------------------------


class CompactRange:
    """The roots of the perfect subtrees that make up a tree of `size` leaves (§7).

    Appending a leaf merges equal-sized subtrees like a binary counter; the root
    folds the stack right to left.
    """

    def __init__(self):
        self.size = 0
        self.hashes: list[bytes] = []  # largest (leftmost) subtree first

    def append(self, h: bytes) -> None:
        self.hashes.append(h)
        n = self.size
        while n & 1:  # each trailing 1 bit of the old size is a merge
            right = self.hashes.pop()
            left = self.hashes.pop()
            self.hashes.append(node_hash(left, right))
            n >>= 1
        self.size += 1

    def root(self) -> bytes:
        if not self.hashes:
            return sha256(b"")  # MTH({}) is the hash of the empty string
        acc = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            acc = node_hash(h, acc)
        return acc


def merkle_root(leaves: list[bytes]) -> bytes:
    """MTH of a list of leaf hashes (§7), via a compact range."""
    cr = CompactRange()
    for h in leaves:
        cr.append(h)
    return cr.root()


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2, as written in §7."""
    if not 0 <= index < size or len(leaf) != 32:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2, as written in §7."""
    if not 0 < old <= new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if not proof:
        return False  # RFC 9162 step 1 (not spelled out in §7's pseudo-code)
    if old & (old - 1) == 0:  # old is a power of two
        proof = [old_root] + list(proof)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


# ---------------------------------------------------------------------------
# Signed notes, verifier keys and checkpoints (§8)
# ---------------------------------------------------------------------------

EM_DASH = "\u2014"


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes  # 4 bytes
    public_key: Ed25519PublicKey


def parse_vkey(vkey: str) -> VerifierKey:
    """Parse `<name>+<key ID, 8 hex>+<base64(0x01 ‖ public key)>` (§8).

    The base64 part may itself contain '+', so split at the first two '+' only.
    """
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3 or not parts[0] or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise ValueError("a verifier key is <name>+<8 hex digits>+<base64 key>")
    name, id_hex, key_b64 = parts
    try:
        key_data = base64.b64decode(key_b64, validate=True)
    except binascii.Error:
        raise ValueError("the verifier key's key data is not standard base64") from None
    if len(key_data) != 33 or key_data[0] != 0x01:
        raise ValueError("the verifier key is not an Ed25519 key (0x01 followed by 32 bytes)")
    key_id = bytes.fromhex(id_hex)
    expected_id = sha256(name.encode() + b"\n" + key_data)[:4]
    if key_id != expected_id:
        raise ValueError(f"the verifier key's ID {id_hex} should be {expected_id.hex()} for its name and key")
    return VerifierKey(name, key_id, Ed25519PublicKey.from_public_bytes(key_data[1:]))


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    text: str  # the signed note, verbatim


def verify_note(note: str, vkey: VerifierKey, where: str = "checkpoint") -> str:
    """Check a C2SP signed note for a valid signature by `vkey`; return its signed text."""
    if not note.endswith("\n"):
        raise VerificationFailure(where, "the note does not end with a newline")
    split = note.find("\n\n")
    if split < 0:
        raise VerificationFailure(where, "the note has no blank line before its signatures")
    text, signatures = note[: split + 1], note[split + 2 :]

    # Signature lines: "— <name> <base64(key ID ‖ signature)>".
    verified = False
    prefix = EM_DASH + " "
    for line in signatures.split("\n")[:-1]:
        fields = line[len(prefix) :].split(" ") if line.startswith(prefix) else []
        if len(fields) != 2:
            raise VerificationFailure(where, f"malformed signature line {line!r}")
        name, sig_b64 = fields
        try:
            sig = base64.b64decode(sig_b64, validate=True)
        except binascii.Error:
            raise VerificationFailure(where, f"signature of {name} is not base64") from None
        if name != vkey.name or sig[:4] != vkey.key_id:
            continue  # someone else's signature (e.g. a witness): not ours to check
        if len(sig) != 4 + 64:
            raise VerificationFailure(where, "the log's signature is not 64 bytes long")
        try:
            vkey.public_key.verify(sig[4:], text.encode("utf-8"))
        except InvalidSignature:
            raise VerificationFailure(where, f"the signature by {vkey.name} does not verify") from None
        verified = True
    if not verified:
        raise VerificationFailure(where, f"no signature by the key {vkey.name}+{vkey.key_id.hex()}")
    return text


def open_checkpoint(note: str, vkey: VerifierKey) -> Checkpoint:
    """Check a C2SP tlog-checkpoint against the log's key and read it (§8)."""
    where = "checkpoint"
    text = verify_note(note, vkey, where)

    # Body: origin, size, root (C2SP allows further extension lines; we ignore them).
    lines = text.split("\n")[:-1]
    if len(lines) < 3:
        raise VerificationFailure(where, "the note has fewer than three lines")
    origin, size_text, root_b64 = lines[:3]
    if origin != vkey.name:
        raise VerificationFailure(where, f"origin {origin!r} is not the key's name {vkey.name!r}")
    if not re.fullmatch(r"0|[1-9][0-9]*", size_text):
        raise VerificationFailure(where, f"tree size {size_text!r} is not a decimal without leading zeros")
    try:
        root = base64.b64decode(root_b64, validate=True)
    except binascii.Error:
        root = b""
    if len(root) != 32 or base64.b64encode(root).decode() != root_b64:
        raise VerificationFailure(where, f"root {root_b64!r} is not the standard base64 of 32 bytes")
    return Checkpoint(origin, int(size_text), root, note)


# ---------------------------------------------------------------------------
# Entries (§3) and disclosures (§6)
# ---------------------------------------------------------------------------

ENTRY_MEMBERS = {"format", "leaf_index", "kind", "decision_id", "recorded_at", "recorded_by", "prev_hash", "record"}
RECORDED = "decision.recorded"
AMENDED = "decision.amended"
OUTCOME = "decision.outcome_reported"
CALL_IN = "decision.call_in"
RESCINDED = "decision.rescinded"
SUPERSEDED = "decision.superseded"
REDACTED = "decision.redacted"
PUBLISHED = "decision.published"
GRANTED = "access.granted"
REVOKED = "access.revoked"
# §3: the formats; §5: the ten kinds. Every decision.* kind but decision.recorded is a lineage
# kind; the access.* kinds record grants of power (§5.10).
FORMATS = (1, 2)
KINDS = {
    RECORDED,
    AMENDED,
    OUTCOME,
    CALL_IN,
    RESCINDED,
    SUPERSEDED,
    REDACTED,
    PUBLISHED,
    GRANTED,
    REVOKED,
}
# §5.4: the call-in statuses. §5.9: the call-in table, (status before, called in before,
# call-in status) -> status after; every other triple is refused.
CALL_IN_STATUSES = ("called_in", "upheld", "referred_back", "referred_to_council")
CALL_IN_TABLE = {
    ("in_force", False, "called_in"): "called_in",
    ("called_in", True, "upheld"): "in_force",
    ("called_in", True, "referred_back"): "referred_back",
    ("called_in", True, "referred_to_council"): "referred_to_council",
    ("referred_to_council", True, "upheld"): "in_force",
}
ENDED = ("rescinded", "superseded")
UUID_V7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SALT = re.compile(r"^[0-9a-f]{32}$")


def is_index(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_entry_shape(entry, leaf: int) -> None:
    """An entry has exactly the members of §3, with the types and forms given there."""
    where = f"leaf {leaf}"
    if not isinstance(entry, dict):
        raise VerificationFailure(where, "the entry is not a JSON object")
    if set(entry) != ENTRY_MEMBERS:
        missing, extra = sorted(ENTRY_MEMBERS - set(entry)), sorted(set(entry) - ENTRY_MEMBERS)
        raise VerificationFailure(where, f"entry members differ from §3 (missing {missing}, extra {extra})")
    if entry["format"] not in FORMATS or isinstance(entry["format"], bool):
        raise VerificationFailure(where, f"format is {entry['format']!r}, expected 1 or 2")
    if not is_index(entry["leaf_index"]):
        raise VerificationFailure(where, f"leaf_index {entry['leaf_index']!r} is not a non-negative integer")
    if not isinstance(entry["kind"], str) or entry["kind"] not in KINDS:
        raise VerificationFailure(where, f"kind {entry['kind']!r} is not one of the kinds of §5")
    if not isinstance(entry["decision_id"], str) or not UUID_V7.match(entry["decision_id"]):
        raise VerificationFailure(where, f"decision_id {entry['decision_id']!r} is not a lowercase UUIDv7")
    if not isinstance(entry["recorded_at"], str) or not TIMESTAMP.match(entry["recorded_at"]):
        raise VerificationFailure(where, f"recorded_at {entry['recorded_at']!r} is not RFC 3339 UTC with ms")
    if not isinstance(entry["recorded_by"], str):
        raise VerificationFailure(where, "recorded_by is not a string")
    if not isinstance(entry["prev_hash"], str) or not HEX64.match(entry["prev_hash"]):
        raise VerificationFailure(where, "prev_hash is not 64 lowercase hex digits")
    if not isinstance(entry["record"], dict):
        raise VerificationFailure(where, "record is not a JSON object")
    check_record_members(entry["kind"], entry["record"], where)
    bad_number = non_integer_number(entry)
    if bad_number:
        raise VerificationFailure(where, f"the number at {bad_number} is not an integer within ±(2^53−1)")


def check_record_members(kind: str, record: dict, where: str) -> None:
    """The record members the lineage checks rely on (§11); other shapes are the writer's business (§5)."""

    def need(member: str, test, what: str) -> None:
        if member not in record or not test(record[member]):
            raise VerificationFailure(where, f"{kind}: record.{member} must be {what}, found {record.get(member)!r}")

    def is_str(x) -> bool:
        return isinstance(x, str)

    if kind == SUPERSEDED:
        need("superseded_by", lambda x: is_str(x) and bool(UUID_V7.match(x)), "a decision id")
    elif kind == CALL_IN:
        need("status", lambda x: x in CALL_IN_STATUSES, "one of " + ", ".join(CALL_IN_STATUSES))
    elif kind == REDACTED:
        need("leaf_index", is_index, "a leaf index")
        need("basis", is_str, "a string")
        # Format 2 commits these on a decision that is not public (§5.7).
        for member in ("path", "authorised_by", "reason"):
            need(member, lambda x: is_str(x) or is_placeholder(x), "a string or a placeholder")
        need("commitment", lambda x: is_str(x) and bool(HEX64.match(x)), "64 lowercase hex digits")
    elif kind == PUBLISHED:
        need("scope", lambda x: x in ("record", "fields"), '"record" or "fields"')
        if record["scope"] == "fields":
            need("fields", lambda x: isinstance(x, list) and x and all(map(is_str, x)), "a non-empty list of names")
    elif kind in (GRANTED, REVOKED):
        need("token", is_str, "a token name")
        if kind == GRANTED:
            need("role", is_str, "a role")


def is_placeholder(value) -> bool:
    """A placeholder is {"commitment": "<64 hex>"} and nothing else (§6)."""
    return (
        isinstance(value, dict)
        and set(value) == {"commitment"}
        and isinstance(value["commitment"], str)
        and bool(HEX64.match(value["commitment"]))
    )


def count_placeholders(value) -> int:
    """How many placeholders a (partly opened) record still holds."""
    if is_placeholder(value):
        return 1
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return sum(count_placeholders(child) for child in children)


def _escape(token) -> str:
    """One RFC 6901 reference token."""
    return str(token).replace("~", "~0").replace("/", "~1")


def placeholders_in(value, pointer: str = ""):
    """Yield (JSON Pointer, digest) for every placeholder a (partly opened) record still holds."""
    if is_placeholder(value):
        yield pointer, value["commitment"]
        return
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in children:
        yield from placeholders_in(child, f"{pointer}/{_escape(key)}")


def _is_under(path: str, parent: str) -> bool:
    """`path` is `parent` or a pointer below it."""
    return path == parent or path.startswith(parent + "/")


def _pointer_tokens(pointer: str) -> list[str]:
    """RFC 6901: "/a~1b/0" -> ["a/b", "0"]."""
    if not pointer.startswith("/"):
        raise ValueError("a JSON Pointer into the record starts with '/'")
    tokens = pointer[1:].split("/")
    for t in tokens:
        if re.search(r"~(?![01])", t):
            raise ValueError(f"invalid '~' escape in {t!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in tokens]


def _locate(document, pointer: str):
    """Return (container, key) such that container[key] is the value at `pointer`."""
    tokens = _pointer_tokens(pointer)
    node = document
    for i, token in enumerate(tokens):
        if isinstance(node, dict):
            key = token
            if key not in node:
                raise KeyError(pointer)
        elif isinstance(node, list):
            if not re.fullmatch(r"0|[1-9][0-9]*", token) or int(token) >= len(node):
                raise KeyError(pointer)
            key = int(token)
        else:
            raise KeyError(pointer)
        if i == len(tokens) - 1:
            return node, key
        node = node[key]
    raise KeyError(pointer)  # unreachable: tokens is never empty


def commitment_of(salt: str, path: str, value) -> str:
    """commitment = SHA-256(JCS([salt, path, value])) (§6)."""
    return hashlib.sha256(canonicalize([salt, path, value])).hexdigest()


def open_disclosures(record: dict, disclosures, leaf: int) -> dict:
    """Open every disclosure against its placeholder (§6) and return the opened record.

    The record itself is not modified.
    """
    return open_record(record, disclosures, leaf)[0]


def open_record(record: dict, disclosures, leaf: int) -> tuple[dict, dict[str, str]]:
    """open_disclosures(), also returning the digest of every placeholder opened, by path."""
    where = f"leaf {leaf}"
    if not isinstance(disclosures, list):
        raise VerificationFailure(where, "disclosures is not a list")
    opened = copy.deepcopy(record)
    opened_digests: dict[str, str] = {}
    for d in disclosures:
        if not isinstance(d, dict) or set(d) != {"path", "salt", "value"}:
            raise VerificationFailure(where, f"a disclosure must have exactly path, salt and value: {d!r}")
        if not isinstance(d["path"], str):
            raise VerificationFailure(where, f"disclosure path {d['path']!r} is not a string")
    # Parents first: by the number of '/' in the path (a stable sort keeps served order otherwise).
    for d in sorted(disclosures, key=lambda d: d["path"].count("/")):
        path, salt, value = d["path"], d["salt"], d["value"]
        if not isinstance(salt, str) or not SALT.match(salt):
            raise VerificationFailure(where, f"disclosure {path}: salt is not 32 lowercase hex digits")
        bad_number = non_integer_number(value)
        if bad_number:
            raise VerificationFailure(where, f"disclosure {path}: number at {bad_number} is not a safe integer")
        try:
            container, key = _locate(opened, path)
        except (KeyError, ValueError):
            raise VerificationFailure(where, f"disclosure {path}: no such value in the record") from None
        placeholder = container[key]
        if not is_placeholder(placeholder):
            raise VerificationFailure(where, f"disclosure {path}: the record holds no placeholder there")
        try:
            computed = commitment_of(salt, path, value)
        except CanonicalizationError as e:
            raise VerificationFailure(where, f"disclosure {path}: value has no canonical form: {e}") from None
        if computed != placeholder["commitment"]:
            raise VerificationFailure(
                where, f"disclosure {path}: commitment is {placeholder['commitment']}, disclosure hashes to {computed}"
            )
        container[key] = copy.deepcopy(value)
        opened_digests[path] = computed
    return opened, opened_digests


def entry_bytes_of(entry, leaf: int) -> bytes:
    """JCS(entry), with its size limit (§2, §3)."""
    try:
        data = canonicalize(entry)
    except CanonicalizationError as e:
        raise VerificationFailure(f"leaf {leaf}", f"the entry has no canonical form: {e}") from None
    if len(data) > MAX_ENTRY_BYTES:
        raise VerificationFailure(f"leaf {leaf}", f"canonical entry is {len(data)} bytes, over {MAX_ENTRY_BYTES}")
    return data


# ---------------------------------------------------------------------------
# Lineage: references between entries, erasures and publications (§5, §6, §11)
# ---------------------------------------------------------------------------


@dataclass
class Placeholder:
    digest: str
    opened: bool  # a served disclosure opened it
    as_of: int = 0  # the tree_size of the page that served its entry (§6, §9)


@dataclass
class Decision:
    """What the lineage checks remember about one decision's entries."""

    kinds: dict[int, str] = field(default_factory=dict)  # leaf index -> kind
    # (leaf index, path) -> placeholder, for every placeholder seen: in the hashed record, or
    # revealed inside an opened parent.
    placeholders: dict[tuple[int, str], Placeholder] = field(default_factory=dict)
    # The visibility its decision.recorded record gives every value (§6): public, internal, restricted.
    classification: str = "public"
    # (redaction's leaf, erased entry's leaf, erased path or None when this reader was not
    # shown the path: then every value of that entry may be the erased one).
    erasures: list[tuple[int, int, str | None]] = field(default_factory=list)
    # (publication's leaf, escaped field names or None for scope "record").
    publications: list[tuple[int, list[str] | None]] = field(default_factory=list)
    # The lifecycle state of §5.9.
    status: str = "in_force"
    called_in_before: bool = False
    superseded_by: str | None = None

    def erasure(self, target: int, path: str, as_of: int):
        """The first erasure among the first `as_of` entries of the value at `path` of `target`."""
        for by, t, erased in self.erasures:
            if t == target and by < as_of and (erased is None or _is_under(path, erased)):
                return by, erased
        return None

    def publication(self, target: int, path: str, as_of: int) -> int | None:
        """The first publication after `target` and among the first `as_of` entries covering `path` (§6)."""
        kind = self.kinds[target]
        for by, fields in self.publications:
            if not target < by < as_of:
                continue
            if fields is None:
                return by  # scope "record": every placeholder of every earlier entry
            prefix = {RECORDED: "", AMENDED: "/changes"}.get(kind)
            if prefix is not None and any(_is_under(path, f"{prefix}/{f}") for f in fields):
                return by
        return None


# The three readers of §6, and the visibilities each is served.
READERS = ("anonymous", "authenticated", "auditor")
READER_ALIASES = {"staff": "authenticated", "secretariat": "authenticated", "admin": "authenticated", "redactor": "auditor"}
SERVED_TO = {
    "anonymous": {"public"},
    "authenticated": {"public", "internal"},
    "auditor": {"public", "internal", "restricted"},
}
CLASSIFICATIONS = ("public", "internal", "restricted")


class Lineage:
    """The lineage checks of §11, fed every entry in log order.

    `disclosures_served` is False when reading tiles: no disclosure is served, so the
    erasure and publication checks, which are about disclosures, are skipped. `reader` is
    who the disclosures were served to (§6), or None when unknown: then only the
    publication rule says what must be served.
    """

    def __init__(self, disclosures_served: bool, reader: str | None = None):
        self.disclosures_served = disclosures_served
        self.reader = reader
        # The tree_size of the page now being read (§9): what is served is judged at it.
        self.as_of = 0
        self.decisions: dict[str, Decision] = {}
        # grant id -> [leaf of access.granted, token, leaf of access.revoked or None] (§5.10)
        self.grants: dict[str, list] = {}

    def add(self, entry: dict, opened_record: dict, opened_digests: dict[str, str]) -> None:
        leaf, kind, decision_id, record = entry["leaf_index"], entry["kind"], entry["decision_id"], entry["record"]
        where = f"leaf {leaf}"
        if kind in (GRANTED, REVOKED):
            self._check_access(entry)
            return
        if decision_id in self.grants:
            raise VerificationFailure(where, f"{kind} names {decision_id}, which is the id of a grant, not a decision")
        if kind == RECORDED:
            if decision_id in self.decisions:
                raise VerificationFailure(where, f"decision {decision_id} was already recorded by an earlier entry")
            classification = record.get("classification")
            if self.disclosures_served and classification not in CLASSIFICATIONS:
                raise VerificationFailure(
                    where, f"{kind}: record.classification must be one of {list(CLASSIFICATIONS)}, found {classification!r}"
                )
            self.decisions[decision_id] = Decision(classification=classification)
        elif decision_id not in self.decisions:
            raise VerificationFailure(
                where, f"{kind} refers to decision {decision_id}, which no earlier decision.recorded entry records"
            )
        decision = self.decisions[decision_id]

        if kind == SUPERSEDED:
            successor = record["superseded_by"]
            if successor == decision_id:
                raise VerificationFailure(where, f"decision {decision_id} is superseded by itself")
            if successor not in self.decisions:
                raise VerificationFailure(
                    where, f"superseded_by {successor}: no earlier decision.recorded entry records that decision"
                )
        if kind != RECORDED:
            self._replay_lifecycle(decision, decision_id, kind, record, where)
        if kind == REDACTED:
            self._check_redaction(decision, decision_id, opened_record, leaf)
        elif kind == PUBLISHED and self.disclosures_served:
            fields = None if record["scope"] == "record" else [_escape(f) for f in record["fields"]]
            decision.publications.append((leaf, fields))

        decision.kinds[leaf] = kind
        for path, digest in opened_digests.items():
            decision.placeholders[(leaf, path)] = Placeholder(digest, opened=True, as_of=self.as_of)
        for path, digest in placeholders_in(opened_record):
            decision.placeholders[(leaf, path)] = Placeholder(digest, opened=False, as_of=self.as_of)

    def _replay_lifecycle(self, decision: Decision, decision_id: str, kind: str, record: dict, where: str) -> None:
        """§5.9: the entry must be one the decision's state admits; it moves to the state the table gives."""

        def refused(subject: str, status: str, why: str) -> VerificationFailure:
            return VerificationFailure(where, f"transition refused: {kind} while decision {subject} is {status}: {why}")

        if kind in (REDACTED, PUBLISHED):
            return
        if decision.status in ENDED:
            raise refused(decision_id, decision.status, "nothing but erasure and publication follows")
        if kind == CALL_IN:
            to = record["status"]
            after = CALL_IN_TABLE.get((decision.status, decision.called_in_before, to))
            if after is None:
                raise refused(decision_id, decision.status, f"no call-in to {to} from this state")
            decision.status, decision.called_in_before = after, True
        elif kind == RESCINDED:
            decision.status = "rescinded"
        elif kind == SUPERSEDED:
            successor_id = record["superseded_by"]
            successor = self.decisions[successor_id]
            if successor.status == "rescinded":
                raise refused(successor_id, successor.status, "a rescinded decision supersedes no other")
            if successor.superseded_by == decision_id:
                raise refused(successor_id, successor.status, f"it is itself superseded by {decision_id}")
            decision.status, decision.superseded_by = "superseded", successor_id

    def _check_access(self, entry: dict) -> None:
        leaf, kind, grant_id, token = entry["leaf_index"], entry["kind"], entry["decision_id"], entry["record"]["token"]
        where = f"leaf {leaf}"
        if kind == GRANTED:
            if grant_id in self.grants or grant_id in self.decisions:
                raise VerificationFailure(where, f"access.granted reuses the id {grant_id}")
            self.grants[grant_id] = [leaf, token, None]
            return
        grant = self.grants.get(grant_id)
        if grant is None:
            raise VerificationFailure(where, f"access.revoked names grant {grant_id}, which no earlier access.granted made")
        if grant[1] != token:
            raise VerificationFailure(where, f"access.revoked names token {token!r}, the grant was of {grant[1]!r}")
        if grant[2] is not None:
            raise VerificationFailure(where, f"access.revoked of grant {grant_id}: leaf {grant[2]} revoked it already")
        grant[2] = leaf

    def _check_redaction(self, decision: Decision, decision_id: str, record: dict, leaf: int) -> None:
        """`record` is the redaction opened with its own served disclosures."""
        where = f"leaf {leaf}"
        target, path = record["leaf_index"], record["path"]
        if target >= leaf:
            raise VerificationFailure(where, f"redaction of leaf {target}, which is not an earlier entry")
        if target not in decision.kinds:
            raise VerificationFailure(where, f"redaction of leaf {target}, which is not an entry of decision {decision_id}")
        if not isinstance(path, str):
            # The path is withheld from this reader (§5.7): which value was erased is unknown.
            decision.erasures.append((leaf, target, None))
            return
        placeholder = decision.placeholders.get((target, path))
        if placeholder is None:
            hidden = any(
                t == target and not p.opened and path.startswith(q + "/") for (t, q), p in decision.placeholders.items()
            )
            if not hidden:
                raise VerificationFailure(where, f"redaction of leaf {target} {path}: that entry holds no placeholder there")
            # Inside a value withheld from this reader: neither check can be made.
        else:
            if placeholder.digest != record["commitment"]:
                raise VerificationFailure(
                    where,
                    f"redaction of leaf {target} {path}: commitment is {record['commitment']}, "
                    f"the placeholder there is {placeholder.digest}",
                )
        # Whether it is still served is judged at the end, at the size each page was read (§6).
        decision.erasures.append((leaf, target, path))

    def finish(self) -> None:
        """Every placeholder is served to exactly the readers §6 gives it, judged at the tree_size
        of the page that served it (§6, §11); the first failure, in log order, is raised."""
        if not self.disclosures_served:
            return
        failures = []
        for decision_id, decision in self.decisions.items():
            for (target, path), p in decision.placeholders.items():
                erasure = decision.erasure(target, path, p.as_of)
                if erasure is not None:
                    by, erased = erasure
                    if p.opened and erased is not None:
                        failures.append(
                            (
                                (by, target, path),
                                f"leaf {by}",
                                f"erased value still held: this entry erases leaf {target} {erased}, "
                                "but a disclosure of it is still served",
                            )
                        )
                    continue
                publication = decision.publication(target, path, p.as_of)
                visibility = "public" if publication is not None else decision.classification
                if self.reader is None:
                    served_to_reader = publication is not None
                else:
                    served_to_reader = visibility in SERVED_TO[self.reader]
                reader = self.reader or "anonymous"
                article = "an" if reader in ("anonymous", "auditor") else "a"
                if served_to_reader and not p.opened:
                    if publication is not None:
                        failures.append(
                            (
                                (publication, target, path),
                                f"leaf {publication}",
                                f"publication not honoured: decision {decision_id} published leaf {target} {path}, "
                                "but no disclosure of it is served and no redaction erased it",
                            )
                        )
                    else:
                        failures.append(
                            (
                                (target, target, path),
                                f"leaf {target}",
                                f"value withheld: {path} of decision {decision_id} is {visibility}, so {article} "
                                f"{reader} reader is served it, but no disclosure of it is served and no redaction "
                                "erased it",
                            )
                        )
                elif not served_to_reader and p.opened and self.reader is not None:
                    failures.append(
                        (
                            (target, target, path),
                            f"leaf {target}",
                            f"value served beyond its readers: {path} of decision {decision_id} is {visibility}, "
                            f"but it is served to {article} {reader} reader",
                        )
                    )
        if failures:
            _, where, message = min(failures)
            raise VerificationFailure(where, message)


# ---------------------------------------------------------------------------
# Whole-log verification (§11)
# ---------------------------------------------------------------------------


@dataclass
class LogVerifier:
    """Consumes entries in order and checks index, shape, hash, chain and disclosures (§11)."""

    checkpoint: Checkpoint
    disclosures_served: bool = True  # False when reading tiles (§10)
    reader: str | None = None  # who the disclosures are served to (§6); None when unknown
    tree: CompactRange = field(default_factory=CompactRange)
    prev: str = GENESIS
    prev_recorded_at: str = ""
    # Every leaf hash (32 bytes a leaf): the tiles mode compares them with the hash
    # tiles, and after a root mismatch locate_first_bad_leaf() uses them.
    leaf_hashes: list[bytes] = field(default_factory=list)
    disclosures_opened: int = 0
    placeholders_unopened: int = 0  # commitments whose disclosure was not served to us
    lineage: Lineage = field(init=False)

    def __post_init__(self):
        self.lineage = Lineage(self.disclosures_served, self.reader)

    @property
    def expected_index(self) -> int:
        return self.tree.size

    def add(self, leaf_index, entry, entry_bytes: bytes, served_hash: str | None, disclosures) -> bytes:
        """Check one served item; `served_hash` and `disclosures` are None when not served (tiles)."""
        index = self.expected_index
        where = f"leaf {index}"
        if leaf_index != index or not is_index(leaf_index):
            raise VerificationFailure(where, f"served leaf_index is {leaf_index!r}, expected {index} (gap or repeat)")
        check_entry_shape(entry, index)
        if entry["leaf_index"] != index:
            raise VerificationFailure(where, f"entry.leaf_index is {entry['leaf_index']!r}, expected {index}")
        h = leaf_hash(entry_bytes)
        if served_hash is not None and served_hash != h.hex():
            raise VerificationFailure(where, f"entry hash: served {served_hash}, computed {h.hex()}")
        if entry["prev_hash"] != self.prev:
            if index == 0:
                raise VerificationFailure(where, f"prev_hash is {entry['prev_hash']}, expected the genesis constant")
            raise VerificationFailure(
                where,
                f"chain broken: prev_hash is {entry['prev_hash']}, but leaf {index - 1} hashes to {self.prev} "
                f"(leaf {index - 1} or this link was altered)",
            )
        if entry["recorded_at"] < self.prev_recorded_at:
            raise VerificationFailure(
                where, f"recorded_at {entry['recorded_at']} is earlier than the previous {self.prev_recorded_at}"
            )
        opened, opened_digests = open_record(entry["record"], [] if disclosures is None else disclosures, index)
        if disclosures is not None:
            self.disclosures_opened += len(disclosures)
            self.placeholders_unopened += count_placeholders(opened)
        self.lineage.add(entry, opened, opened_digests)
        self.tree.append(h)
        self.leaf_hashes.append(h)
        self.prev = h.hex()
        self.prev_recorded_at = entry["recorded_at"]
        return h

    def check_root(self, locate_bad_leaf=None) -> None:
        """The first checkpoint.size entries make the checkpoint's root (§11)."""
        cp = self.checkpoint
        root = self.tree.root()
        if root != cp.root:
            message = f"Merkle root is {root.hex()}, the checkpoint signs {cp.root.hex()}"
            bad = locate_bad_leaf(self.leaf_hashes) if locate_bad_leaf else None
            where = f"leaf {bad}" if bad is not None else f"tree size {cp.size}"
            raise VerificationFailure(where, message)

    def finish(self, locate_bad_leaf=None) -> None:
        """Require that exactly checkpoint.size entries were read and that they make its root."""
        cp = self.checkpoint
        if self.tree.size != cp.size:
            raise VerificationFailure(f"leaf {self.tree.size}", f"the log ends here but the checkpoint has {cp.size}")
        self.check_root(locate_bad_leaf)
        self.lineage.finish()


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------


class Http:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0):
        self.base = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def get(self, path: str, params: dict | None = None) -> bytes:
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
        if self.token:
            request.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as e:
            raise ReadError(f"GET {url}: HTTP {e.code} {e.read()[:300].decode('utf-8', 'replace')}") from None
        except (urllib.error.URLError, OSError) as e:
            raise ReadError(f"GET {url}: {e}") from None

    def get_text(self, path: str) -> str:
        try:
            return self.get(path).decode("utf-8")
        except UnicodeDecodeError:
            # Served but undecodable: the log is answerable for what it serves (§11 exit codes).
            raise VerificationFailure(f"GET {path}", "the answer is not UTF-8") from None


def fetch_checkpoint(http: Http, path: str, vkey: VerifierKey) -> Checkpoint:
    return open_checkpoint(http.get_text(path), vkey)


def check_served_key(http: Http, vkey_text: str) -> None:
    """GET /api/v1/log/key, less its final newline, is the pinned key byte for byte (§8)."""
    served = http.get_text("/api/v1/log/key")
    if served.endswith("\n"):
        served = served[:-1]
    if served != vkey_text:
        raise VerificationFailure(
            None, f"the log's verifier key is {json.dumps(served)}, not the pinned {json.dumps(vkey_text)}"
        )


PAGE_ITEM_MEMBERS = {"leaf_index", "entry_hash", "entry", "disclosures"}


def _is_entry_span(path: tuple) -> bool:
    return len(path) == 3 and path[0] == "entries" and isinstance(path[1], int) and path[2] == "entry"


def read_page(http: Http, start: int, limit: int):
    """One page of GET /api/v1/log/entries (§9): (items, raw entry bytes, tree_size).

    Duplicate members anywhere in the page fail (§2); each entry's bytes are taken verbatim
    from the body, never re-serialised.
    """
    where = f"leaf {start}"
    body = http.get("/api/v1/log/entries", {"from": start, "limit": limit})
    try:
        text = body.decode("utf-8")
        page = parse_json(text)
    except ValueError as e:
        raise PageUnreadable(where, f"the served page is not valid JSON: {e}") from None
    if not isinstance(page, dict) or not isinstance(page.get("entries"), list):
        raise VerificationFailure(where, "the served page has no list of entries")
    if set(page) - {"entries", "tree_size", "next_cursor"}:
        raise VerificationFailure(where, f"the served page has unknown members {sorted(set(page) - {'entries', 'tree_size', 'next_cursor'})}")
    tree_size = page.get("tree_size")
    if not is_index(tree_size):
        raise VerificationFailure(where, f"the served page's tree_size is {tree_size!r}, not a tree size")
    items = page["entries"]
    for i, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != PAGE_ITEM_MEMBERS:
            raise VerificationFailure(
                f"leaf {start + i}", "a served item has exactly leaf_index, entry_hash, entry and disclosures"
            )
    raw = [span.encode("utf-8") for span in raw_spans(text, _is_entry_span)]
    if len(raw) != len(items):  # cannot happen for JSON that parsed; kept as a guard
        raise VerificationFailure(where, "the served entries could not be located in the page")
    end = start + len(items)
    if end < tree_size:
        if page.get("next_cursor") != str(end):
            raise VerificationFailure(
                where, f"next_cursor is {page.get('next_cursor')!r}, expected \"{end}\" (the page ends before its tree_size {tree_size})"
            )
    elif "next_cursor" in page:
        raise VerificationFailure(
            where, f"next_cursor is {page['next_cursor']!r}, but the page reaches its tree_size {tree_size}: it must be absent"
        )
    return items, raw, tree_size


def verify_via_api(http: Http, vkey: VerifierKey, page_size: int = 1000, reader: str | None = None, vkey_text: str | None = None) -> Checkpoint:
    """§11 over GET /api/v1/log/entries, reading past the checkpoint to the size the pages were read at."""
    checkpoint = fetch_checkpoint(http, "/api/v1/log/checkpoint", vkey)
    if vkey_text is not None:
        check_served_key(http, vkey_text)
    log = LogVerifier(checkpoint, reader=reader)
    locate = lambda leaves: locate_first_bad_leaf(http, checkpoint, leaves)  # noqa: E731
    if checkpoint.size == 0:
        log.check_root(locate)
    target = checkpoint.size
    limit, unreadable = page_size, None  # after an unreadable page: one entry at a time, to name it
    while log.expected_index < target:
        start = log.expected_index
        if unreadable is not None and start >= unreadable[0]:
            raise unreadable[1]  # each entry of it read alone, yet the page was not valid JSON
        try:
            items, raw, tree_size = read_page(http, start, limit)
        except PageUnreadable as e:
            if limit == 1:
                raise
            limit, unreadable = 1, (start + page_size, e)
            continue
        if tree_size < checkpoint.size:
            raise VerificationFailure(
                f"leaf {start}", f"the page was read at tree size {tree_size}, smaller than the checkpoint's {checkpoint.size}"
            )
        target = max(target, tree_size)
        if not items:
            raise VerificationFailure(f"leaf {start}", f"the log serves no entry here, its tree size is {target}")
        log.lineage.as_of = tree_size
        for item, entry_raw in zip(items, raw):
            index = log.expected_index
            if index >= tree_size:
                raise VerificationFailure(f"leaf {index}", f"served in a page read at tree size {tree_size}")
            entry, entry_bytes = served_entry_bytes(entry_raw, index)
            log.add(item["leaf_index"], entry, entry_bytes, item["entry_hash"], item["disclosures"])
            if log.tree.size == checkpoint.size:
                log.check_root(locate)
    log.lineage.finish()
    uncovered = log.tree.size - checkpoint.size
    print(
        f"{log.tree.size} entries verified; {log.disclosures_opened} disclosures opened, "
        f"{log.placeholders_unopened} commitments not disclosed to this caller "
        f"(read as {reader or 'an unknown reader'})",
        file=sys.stderr,
    )
    if uncovered:
        print(
            f"the first {checkpoint.size} are covered by the signed checkpoint; the newest {uncovered} are not yet",
            file=sys.stderr,
        )
    return checkpoint


def locate_first_bad_leaf(http: Http, checkpoint: Checkpoint, leaves: list[bytes]) -> int | None:
    """After a root mismatch, find the first leaf that differs from the signed tree.

    A prefix of m leaves is consistent with the checkpoint exactly when none of the
    first m leaves is bad, so a binary search over consistency proofs (§9) finds
    the first bad leaf. This only sharpens the message: the log has already
    failed, and None is returned if the proofs cannot be read.
    """
    good, bad = 0, len(leaves)  # prefix of `good` leaves is fine; prefix of `bad` is not
    try:
        while bad - good > 1:
            m = (good + bad) // 2
            proof_doc = parse_json(http.get("/api/v1/log/proofs/consistency", {"from": m, "to": checkpoint.size}))
            proof = [bytes.fromhex(h) for h in proof_doc["hashes"]]
            if verify_consistency(m, checkpoint.size, merkle_root(leaves[:m]), checkpoint.root, proof):
                good = m
            else:
                bad = m
    except (ReadError, ValueError, KeyError, TypeError):
        return None
    return good


# ---------------------------------------------------------------------------
# The log as C2SP tlog-tiles (§10)
# ---------------------------------------------------------------------------

TILE_WIDTH = 256


def tile_index_path(n: int) -> str:
    """1234067 -> "x001/x234/067" (§10)."""
    digits = str(n)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


def tile_path(level: int | str, n: int, width: int) -> str:
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"/tlog/tile/{level}/{tile_index_path(n)}{suffix}"


def perfect_subtree_root(hashes: list[bytes]) -> bytes:
    """MTH of 2^k hashes that are the roots of equal perfect subtrees (a full tile)."""
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def split_bundle(data: bytes, width: int, first_leaf: int) -> list[bytes]:
    """An entry bundle is a run of (big-endian uint16 length, entry bytes) (§10)."""
    entries, offset = [], 0
    while offset < len(data):
        where = f"leaf {first_leaf + len(entries)}"
        if offset + 2 > len(data):
            raise VerificationFailure(where, "entry bundle ends inside a length prefix")
        length = int.from_bytes(data[offset : offset + 2], "big")
        offset += 2
        if offset + length > len(data):
            raise VerificationFailure(where, "entry bundle ends inside an entry")
        entries.append(data[offset : offset + length])
        offset += length
    if len(entries) != width:
        raise VerificationFailure(f"leaf {first_leaf}", f"entry bundle holds {len(entries)} entries, expected {width}")
    return entries


def verify_hash_tiles(http: Http, level: int, hashes: list[bytes]) -> None:
    """The tiles of `level` must hold exactly `hashes`, the tree hashes computed from the entries."""
    span = TILE_WIDTH**level  # leaves under one hash of this level
    for n in range(math.ceil(len(hashes) / TILE_WIDTH)):
        expected = hashes[n * TILE_WIDTH : (n + 1) * TILE_WIDTH]
        tile = http.get(tile_path(level, n, len(expected)))
        if len(tile) != 32 * len(expected):
            raise VerificationFailure(
                f"leaf {n * TILE_WIDTH * span}", f"tile {level}/{n} is {len(tile)} bytes, expected {32 * len(expected)}"
            )
        for i, h in enumerate(expected):
            served = tile[32 * i : 32 * i + 32]
            if served != h:
                first = (n * TILE_WIDTH + i) * span
                raise VerificationFailure(
                    f"leaf {first}",
                    f"tile {level}/{n} hash {i} (leaves {first}..{first + span - 1}) "
                    f"is {served.hex()}, computed {h.hex()}",
                )


def verify_via_tiles(http: Http, vkey: VerifierKey) -> Checkpoint:
    """§11 over the tiles of §10: entry bundles, then every hash tile, then the root.

    Entry bundles carry no disclosures, so commitments cannot be opened here.
    """
    checkpoint = fetch_checkpoint(http, "/tlog/checkpoint", vkey)
    size = checkpoint.size
    log = LogVerifier(checkpoint, disclosures_served=False)

    # Level 0: entry bundles give the entries, and the level-0 tile beside each
    # bundle serves their entry hashes (the role of entry_hash in the JSON API).
    for n in range(math.ceil(size / TILE_WIDTH)):
        first = n * TILE_WIDTH
        width = min(TILE_WIDTH, size - first)
        bundle = split_bundle(http.get(tile_path("entries", n, width)), width, first)
        tile = http.get(tile_path(0, n, width))
        if len(tile) != 32 * width:
            raise VerificationFailure(f"leaf {first}", f"tile 0/{n} is {len(tile)} bytes, expected {32 * width}")
        for i, data in enumerate(bundle):
            leaf = first + i
            try:
                entry = parse_json(data)
                canonical = canonicalize(entry) == data
            except (ValueError, CanonicalizationError):
                raise VerificationFailure(f"leaf {leaf}", "the bundled entry is not JSON") from None
            if not canonical:
                raise VerificationFailure(f"leaf {leaf}", "the bundled entry is not in RFC 8785 canonical form")
            served_hash = tile[32 * i : 32 * i + 32].hex()
            log.add(entry.get("leaf_index") if isinstance(entry, dict) else None, entry, data, served_hash, None)

    # Levels 1 and up: tile hash i must be the tree hash of the 256^L leaves it covers.
    # Only full tiles are hashed into the level above.
    level, hashes = 0, log.leaf_hashes
    while hashes:
        if level > 0:
            verify_hash_tiles(http, level, hashes)
        full = len(hashes) // TILE_WIDTH
        hashes = [perfect_subtree_root(hashes[k * TILE_WIDTH : (k + 1) * TILE_WIDTH]) for k in range(full)]
        level += 1

    log.finish()
    print(f"{checkpoint.size} entries and their hash tiles verified (bundles carry no disclosures)", file=sys.stderr)
    return checkpoint


# ---------------------------------------------------------------------------
# Receipts (§9)
# ---------------------------------------------------------------------------

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"


def _hex_hashes(values, where: str) -> list[bytes]:
    if not isinstance(values, list) or not all(isinstance(v, str) and HEX64.match(v) for v in values):
        raise VerificationFailure(where, "proof hashes must be a list of 64 lowercase hex digits")
    return [bytes.fromhex(v) for v in values]


def verify_json_receipt(receipt, vkey: VerifierKey) -> Checkpoint:
    """A decision-log-receipt/v1 (§9)."""
    if not isinstance(receipt, dict) or receipt.get("format") != "decision-log-receipt/v1":
        raise VerificationFailure("receipt", "not a decision-log-receipt/v1")
    for member in ("decision_id", "origin", "checkpoint", "entries"):
        if member not in receipt:
            raise VerificationFailure("receipt", f"missing {member}")
    if not isinstance(receipt["checkpoint"], str):
        raise VerificationFailure("receipt", "checkpoint is not a string")
    checkpoint = open_checkpoint(receipt["checkpoint"], vkey)
    if receipt["origin"] != checkpoint.origin:
        raise VerificationFailure("receipt", f"origin {receipt['origin']!r} is not the checkpoint's {checkpoint.origin!r}")
    entries = receipt["entries"]
    if not isinstance(entries, list) or not entries:
        raise VerificationFailure("receipt", "entries must be a non-empty list")
    for item in entries:
        if not isinstance(item, dict) or not is_index(item.get("leaf_index")):
            raise VerificationFailure("receipt", "each entry needs a leaf_index")
        leaf = item["leaf_index"]
        where = f"leaf {leaf}"
        for member in ("entry_hash", "entry", "inclusion_proof"):
            if member not in item:
                raise VerificationFailure(where, f"receipt entry is missing {member}")
        entry = item["entry"]
        h = leaf_hash(entry_bytes_of(entry, leaf))
        if item["entry_hash"] != h.hex():
            raise VerificationFailure(where, f"entry_hash: receipt says {item['entry_hash']}, computed {h.hex()}")
        check_entry_shape(entry, leaf)
        if entry["leaf_index"] != leaf:
            raise VerificationFailure(where, f"entry.leaf_index is {entry['leaf_index']!r}, receipt says {leaf}")
        if entry["decision_id"] != receipt["decision_id"]:
            raise VerificationFailure(where, f"entry is about {entry['decision_id']}, not {receipt['decision_id']}")
        proof = item["inclusion_proof"]
        if not isinstance(proof, dict):
            raise VerificationFailure(where, "inclusion_proof is not an object")
        if proof.get("tree_size") != checkpoint.size:
            raise VerificationFailure(where, f"proof is for size {proof.get('tree_size')!r}, checkpoint is {checkpoint.size}")
        if proof.get("leaf_index", leaf) != leaf:
            raise VerificationFailure(where, f"proof is for leaf {proof.get('leaf_index')!r}")
        if not verify_inclusion(leaf, checkpoint.size, h, _hex_hashes(proof.get("hashes"), where), checkpoint.root):
            raise VerificationFailure(where, f"inclusion proof does not lead to the checkpoint root {checkpoint.root.hex()}")
        open_disclosures(entry["record"], item.get("disclosures", []), leaf)
    return checkpoint


def verify_tlog_proof(text: str, vkey: VerifierKey) -> Checkpoint:
    """A C2SP tlog-proof whose `extra` is the canonical entry bytes (§9)."""
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise VerificationFailure("tlog-proof", "no blank line before the checkpoint")
    lines = head.split("\n")
    if lines[0] != TLOG_PROOF_HEADER:
        raise VerificationFailure("tlog-proof", f"first line is not {TLOG_PROOF_HEADER}")
    lines = lines[1:]
    if not lines or not lines[0].startswith("extra "):
        raise VerificationFailure("tlog-proof", "no `extra` line: the entry is needed to check the proof")
    try:
        entry_bytes = base64.b64decode(lines[0][len("extra ") :], validate=True)
    except binascii.Error:
        raise VerificationFailure("tlog-proof", "extra is not standard base64") from None
    if len(lines) < 2 or not re.fullmatch(r"index (0|[1-9][0-9]*)", lines[1]):
        raise VerificationFailure("tlog-proof", "no valid `index` line")
    leaf = int(lines[1][len("index ") :])
    where = f"leaf {leaf}"
    proof = []
    for line in lines[2:]:
        try:
            h = base64.b64decode(line, validate=True)
        except binascii.Error:
            h = b""
        if len(h) != 32:
            raise VerificationFailure(where, f"proof line {line!r} is not a base64 SHA-256 hash")
        proof.append(h)
    checkpoint = open_checkpoint(note, vkey)
    try:
        entry = parse_json(entry_bytes)
        canonical = canonicalize(entry) == entry_bytes
    except (ValueError, CanonicalizationError):
        raise VerificationFailure(where, "extra is not a JSON entry") from None
    if not canonical:
        raise VerificationFailure(where, "extra is not in RFC 8785 canonical form")
    check_entry_shape(entry, leaf)
    if entry["leaf_index"] != leaf:
        raise VerificationFailure(where, f"entry.leaf_index is {entry['leaf_index']!r}, the proof's index is {leaf}")
    if not verify_inclusion(leaf, checkpoint.size, leaf_hash(entry_bytes), proof, checkpoint.root):
        raise VerificationFailure(where, f"inclusion proof does not lead to the checkpoint root {checkpoint.root.hex()}")
    return checkpoint


def verify_receipt_file(path: str, vkey: VerifierKey) -> Checkpoint:
    try:
        with open(path, "rb") as f:
            data = f.read()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ReadError(f"{path}: {e}") from None
    if text.startswith(TLOG_PROOF_HEADER + "\n"):
        return verify_tlog_proof(text, vkey)
    try:
        receipt = parse_json(text)
    except ValueError as e:
        raise ReadError(f"{path}: neither a tlog-proof nor JSON: {e}") from None
    return verify_json_receipt(receipt, vkey)


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Independent verifier for a decision-log transparency log.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--url", help="base URL of a live log, e.g. http://127.0.0.1:8080")
    source.add_argument("--receipt", metavar="FILE", help="a JSON receipt or a .tlog-proof file")
    parser.add_argument("--vkey", required=True, help="the log's verifier key (or a file holding it), obtained out of band")
    parser.add_argument("--tiles", action="store_true", help="with --url: read the log through /tlog/ tiles")
    parser.add_argument(
        "--reader",
        choices=READERS + tuple(READER_ALIASES),
        help="with --url: who the log serves this caller as (§6): anonymous, authenticated (admin, "
        "secretariat, staff) or auditor (redactor); default auditor with --token, anonymous without",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("DECISION_LOG_TOKEN"),
        help="with --url: bearer token, to read and check the disclosures of non-public records "
        "(default: $DECISION_LOG_TOKEN; anonymous otherwise)",
    )
    args = parser.parse_args(argv)
    if args.tiles and not args.url:
        parser.error("--tiles needs --url")

    reader = args.reader or ("auditor" if args.token else "anonymous")
    reader = READER_ALIASES.get(reader, reader)
    try:
        vkey_text = args.vkey
        if os.path.isfile(vkey_text):
            with open(vkey_text, encoding="utf-8") as f:
                vkey_text = f.read()
        vkey_text = vkey_text.strip()
        vkey = parse_vkey(vkey_text)
    except (OSError, ValueError) as e:
        print(f"error: --vkey: {e}", file=sys.stderr)
        return 2
    try:
        if args.receipt:
            checkpoint = verify_receipt_file(args.receipt, vkey)
        else:
            http = Http(args.url, args.token)
            if args.tiles:
                checkpoint = verify_via_tiles(http, vkey)
            else:
                checkpoint = verify_via_api(http, vkey, reader=reader, vkey_text=vkey_text)
    except VerificationFailure as e:
        print(f"FAILED: {e}")
        return 1
    except ReadError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"OK: {checkpoint.origin} {checkpoint.size} {checkpoint.root.hex()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
