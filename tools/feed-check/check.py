#!/usr/bin/env python3
"""Checks a live Atom feed or JSON Feed with third-party parsers and validators.

Usage:
    check.py URL [--token TOKEN] [--format atom|json]

The format is taken from the response's Content-Type (`application/atom+xml` or
`application/feed+json`) unless --format names it; a response of another type fails.

Atom (RFC 4287) is parsed with the `feedparser` package. The check fails when
feedparser reports the document as ill-formed (`bozo`), when it is not Atom 1.0,
when the feed lacks an id, title, updated or self link, or when any entry lacks
an id, title, updated date or link.

JSON Feed is validated against `jsonfeed-1.1.schema.json` beside this script (a
JSON Schema written from https://www.jsonfeed.org/version/1.1/) with the
`jsonschema` package, dates checked as RFC 3339 and URLs as absolute http(s)
URLs. Rules the schema cannot say are checked here: `next_url` differs from
`feed_url`, and item ids are unique.

Exit codes: 0 valid; 1 invalid (each problem is printed); 2 usage error, or the
feed could not be fetched.

Requirements: Python 3.11+, `feedparser`, `jsonschema` and `rfc3339-validator`.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

SCHEMA = Path(__file__).resolve().parent / "jsonfeed-1.1.schema.json"
TYPES = {"application/atom+xml": "atom", "application/feed+json": "json"}


def fetch(url: str, token: str | None) -> tuple[str, bytes]:
    """The media type (without parameters) and body of `url`."""
    request = urllib.request.Request(url, headers={"Accept": ", ".join(TYPES)})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        content_type = response.headers.get("Content-Type", "")
        return content_type.split(";")[0].strip().lower(), response.read()


def check_atom(body: bytes, content_type: str) -> tuple[list[str], int]:
    """Problems with an Atom document, and its number of entries."""
    import feedparser

    parsed = feedparser.parse(body, response_headers={"content-type": content_type})
    problems = []
    if parsed.bozo:
        problems.append(f"feedparser: not well-formed: {parsed.bozo_exception!r}")
    if parsed.version != "atom10":
        problems.append(f"feedparser: version is {parsed.version!r}, not 'atom10'")
    feed = parsed.feed
    for key in ("id", "title", "updated"):
        if not present(feed, key):
            problems.append(f"feed: no {key}")
    if feed.get("updated") and not feed.get("updated_parsed"):
        problems.append(f"feed: updated {feed.get('updated')!r} is not a date")
    if not any(link.get("rel") == "self" and link.get("href") for link in feed.get("links", [])):
        problems.append("feed: no self link")
    for n, entry in enumerate(parsed.entries):
        where = f"entry {n} ({entry.get('id', 'no id')})"
        for key in ("id", "title", "updated"):
            if not present(entry, key):
                problems.append(f"{where}: no {key}")
        # feedparser's `link` falls back to the id (`guidislink`): ask for a real link element.
        if not any(
            link.get("rel", "alternate") == "alternate" and link.get("href")
            for link in entry.get("links", [])
        ):
            problems.append(f"{where}: no link")
        if entry.get("updated") and not entry.get("updated_parsed"):
            problems.append(f"{where}: updated {entry.get('updated')!r} is not a date")
        for link in entry.get("links", []):
            if not is_url(link.get("href", "")):
                problems.append(f"{where}: link {link.get('href')!r} is not an absolute URL")
    return problems, len(parsed.entries)


def present(element, key: str) -> bool:
    """Whether `element` has a non-empty `key` of its own. feedparser answers `updated` with
    `published` when a document has no `updated`, so its `get` cannot tell."""
    return key in element.keys() and bool(element[key])


def is_url(value: object) -> bool:
    """Whether `value` is an absolute http(s) URL."""
    if not isinstance(value, str):
        return False
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def describe(error) -> str:
    """A schema error in a line: an `anyOf` of required keys names the keys, not the instance."""
    if error.validator == "anyOf":
        keys = [k for alternative in error.validator_value for k in alternative.get("required", [])]
        return f"needs one of {', '.join(keys)}" if keys else "matches none of the alternatives"
    return error.message


def check_json(body: bytes) -> tuple[list[str], int]:
    """Problems with a JSON Feed document, and its number of items."""
    import jsonschema

    try:
        document = json.loads(body)
    except ValueError as e:
        return [f"not JSON: {e}"], 0
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    formats = jsonschema.FormatChecker()
    # jsonschema checks `date-time` only with rfc3339-validator installed; a check that
    # silently passes is no check.
    if "date-time" not in formats.checkers:
        return ["the date-time format is not checked: install rfc3339-validator"], 0
    # Only strings have a format; other types are the schema's `type` to refuse.
    formats.checks("uri")(lambda value: not isinstance(value, str) or is_url(value))
    validator = validator_class(schema, format_checker=formats)
    problems = [
        f"schema: {'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {describe(error)}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]
    if not isinstance(document, dict):
        return problems, 0
    next_url = document.get("next_url")
    if next_url is not None and next_url == document.get("feed_url"):
        problems.append("next_url is the same as feed_url")
    items = document.get("items")
    items = items if isinstance(items, list) else []
    ids = [item.get("id") for item in items if isinstance(item, dict)]
    duplicates = sorted({str(i) for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"item ids repeat: {', '.join(duplicates)}")
    return problems, len(items)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--token", help="a bearer token to read as")
    parser.add_argument("--format", choices=("atom", "json"), help="skip the Content-Type check")
    args = parser.parse_args()
    try:
        content_type, body = fetch(args.url, args.token)
    except (urllib.error.URLError, OSError) as e:
        print(f"cannot fetch {args.url}: {e}", file=sys.stderr)
        return 2
    kind = args.format or TYPES.get(content_type)
    if kind is None:
        print(f"FAIL: {args.url}: Content-Type {content_type!r} is not a feed's", file=sys.stderr)
        return 1
    if kind == "atom":
        problems, count = check_atom(body, content_type or "application/atom+xml")
    else:
        problems, count = check_json(body)
    if problems:
        for problem in problems:
            print(f"FAIL: {args.url}: {problem}", file=sys.stderr)
        return 1
    print(f"OK: {kind} {count} entries {args.url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
