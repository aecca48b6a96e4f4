#!/usr/bin/env python3
"""The OpenAPI document as a contract, checked by tools that did not write it.

Starts the real `decision-log` binary on a fresh SQLite database, seeds it over HTTP as a
secretariat would, and then, against the document the server serves:

1. schemathesis (all checks, fixed seed and example count) as a secretariat, as an admin and
   anonymously, each required to report no failure;
2. openapi-python-client generates a client without a warning, and mypy --strict type-checks
   `roundtrip_client.py`, which then runs a full round trip against the server;
3. openapi-typescript generates types without a warning, tsc --strict type-checks
   `roundtrip.ts` (openapi-fetch), which then runs the same round trip under Node.js;
4. Redocly (`recommended`) and Spectral (`spectral:oas`) lint the document with no error.

Neither round trip may cast its way past the types: the files are refused if they contain a
cast, `any` or a type-checker suppression.

    python tests/contract/run.py BINARY       (scripts/test.sh runs it with the debug binary)

Needs, from the environment scripts/test.sh prepares: schemathesis, openapi-python-client and
mypy beside this Python, and `npm ci` done in tests/contract.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
NODE_BIN = HERE / "node_modules" / ".bin"

# Fixed, so that a failure reproduces: `schemathesis run ... --seed 20261203`.
SEED = "20261203"
EXAMPLES = os.environ.get("DECISION_LOG_CONTRACT_EXAMPLES", "50")


def log(message: str) -> None:
    print(f"-- {message}", file=sys.stderr, flush=True)


def run(command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Runs `command`, echoing its output; raises on a non-zero exit. Returns stdout+stderr."""
    done = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout)
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}")
    return done.stdout


def request(method: str, url: str, token: str | None = None, body: object = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{method} {url}: {error.code} {error.read().decode()}") from None


class Server:
    """`decision-log serve` on a free loopback port, with its first-run admin token."""

    def __init__(self, binary: str, workdir: Path) -> None:
        key = workdir / "log.key"
        subprocess.run(
            [binary, "keygen", "--origin", "contract.example/log", "--out", str(key)],
            check=True,
            capture_output=True,
        )
        self.out = open(workdir / "serve.out", "w+")
        self.err = open(workdir / "serve.err", "w+")
        self.process = subprocess.Popen(
            [
                binary, "serve",
                "--bind", "127.0.0.1:0",
                "--database-url", f"sqlite://{workdir / 'db'}?mode=rwc",
                "--signing-key", str(key),
                "--first-run-admin", "true",
                "--checkpoint-interval-ms", "100",
            ],
            stdout=self.out,
            stderr=self.err,
            env={**os.environ, "NO_COLOR": "1", "RUST_LOG": "warn,decision_log=info"},
        )
        deadline = time.monotonic() + 60
        while True:
            self.out.seek(0)
            self.err.seek(0)
            out, err = self.out.read(), re.sub(r"\x1b\[[0-9;]*m", "", self.err.read())
            listening = re.search(r"listening on (http://[0-9.]+:[0-9]+)", out + err)
            admin = re.search(r"\bdlt_[A-Za-z0-9_-]+", out)
            if listening and admin:
                self.base, self.admin = listening.group(1), admin.group(0)
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{out}\n{err}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def seed(server: Server) -> dict[str, str]:
    """A body, a secretariat token for it and one decision: what the callers read and write."""
    base, admin = server.base, server.admin
    request("POST", f"{base}/api/v1/bodies", admin, {"slug": "cabinet", "name": "Cabinet", "kind": "cabinet"})
    clerk = request(
        "POST", f"{base}/api/v1/tokens", admin,
        {"name": "cabinet-clerk", "role": "secretariat", "bodies": ["cabinet"]},
    )["secret"]
    document = request("GET", f"{base}/api/v1/openapi.json")
    example = document["paths"]["/api/v1/decisions"]["post"]["requestBody"]["content"]["application/json"]["example"]
    request("POST", f"{base}/api/v1/decisions", clerk, example)
    return {"admin": admin, "clerk": clerk}


def no_casts(path: Path, forbidden: list[str]) -> None:
    """Refuses `path` if its code (comments aside) matches one of `forbidden`."""
    comment = "#" if path.suffix == ".py" else "//"
    text = "\n".join(line for line in path.read_text().splitlines() if not line.strip().startswith(comment))
    for pattern in forbidden:
        if re.search(pattern, text):
            raise SystemExit(f"{path.name} uses {pattern!r}: the round trip must type-check as written")


def schemathesis(server: Server, tokens: dict[str, str], reports: Path) -> None:
    callers = [("secretariat", tokens["clerk"]), ("admin", tokens["admin"]), ("anonymous", None)]
    for name, token in callers:
        log(f"schemathesis as {name}: all checks, {EXAMPLES} examples per operation, seed {SEED}")
        command = [
            str(BIN / "schemathesis"), "--config-file", str(HERE / "schemathesis.toml"), "--no-color",
            "run", f"{server.base}/api/v1/openapi.json",
            "--checks", "all",
            "--max-examples", EXAMPLES,
            "--seed", SEED,
            "--generation-database", "none",
            "--workers", "2",
            "--report", "junit",
            "--report-junit-path", str(reports / f"schemathesis-{name}.xml"),
        ]
        if token:
            command += ["--header", f"Authorization: Bearer {token}"]
        output = run(command)
        summary = [line for line in output.splitlines() if "passed" in line or "failure" in line]
        log(summary[-1].strip("= ") if summary else "schemathesis: done")


def python_client(server: Server, tokens: dict[str, str], work: Path) -> None:
    log("openapi-python-client: generate, mypy --strict, run the round trip")
    spec = work / "openapi.json"
    out = work / "python"
    output = run([
        str(BIN / "openapi-python-client"), "generate",
        "--path", str(spec), "--meta", "none", "--output-path", str(out / "dl_client"),
        "--config", str(HERE / "openapi-python-client.yaml"),
    ])
    if re.search(r"warning|error", output, re.IGNORECASE):
        raise SystemExit(f"openapi-python-client warned:\n{output}")
    no_casts(HERE / "roundtrip_client.py", [r"\bcast\(", r"type:\s*ignore", r"\bAny\b"])
    shutil.copy(HERE / "roundtrip_client.py", out / "roundtrip_client.py")
    run([str(BIN / "mypy"), "--strict", "--no-incremental", "roundtrip_client.py"], cwd=out)
    run(
        [sys.executable, "roundtrip_client.py"],
        cwd=out,
        env={"DECISION_LOG_URL": server.base, "ADMIN_TOKEN": tokens["admin"]},
    )


def typescript_client(server: Server, tokens: dict[str, str], work: Path) -> None:
    log("openapi-typescript + openapi-fetch: generate, tsc --strict, run the round trip")
    spec = work / "openapi.json"
    out = work / "typescript"
    out.mkdir()
    output = run([str(NODE_BIN / "openapi-typescript"), str(spec), "--output", str(out / "api.d.ts")], cwd=HERE)
    if re.search(r"warn|error", output, re.IGNORECASE):
        raise SystemExit(f"openapi-typescript warned:\n{output}")
    no_casts(HERE / "roundtrip.ts", [r"\bas\s+[A-Za-z{\[(]", r"\bany\b", r"@ts-", r"!\."])
    shutil.copy(HERE / "roundtrip.ts", out / "roundtrip.ts")
    shutil.copy(HERE / "tsconfig.json", out / "tsconfig.json")
    (out / "package.json").write_text('{"type": "module"}\n')
    # Resolve openapi-fetch and Node's types from tests/contract.
    (out / "node_modules").symlink_to(HERE / "node_modules")
    run([str(NODE_BIN / "tsc"), "--project", str(out / "tsconfig.json")], cwd=out)
    run(
        ["node", str(out / "build" / "roundtrip.js")],
        cwd=out,
        env={"DECISION_LOG_URL": server.base, "ADMIN_TOKEN": tokens["admin"]},
    )


def lint(work: Path) -> None:
    spec = work / "openapi.json"
    log("Redocly lint (recommended)")
    run([str(NODE_BIN / "redocly"), "lint", "--config", str(HERE / "redocly.yaml"), str(spec)], cwd=HERE,
        env={"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"})
    log("Spectral lint (spectral:oas)")
    run([str(NODE_BIN / "spectral"), "lint", "--ruleset", str(HERE / ".spectral.yaml"),
         "--fail-severity", "error", str(spec)], cwd=HERE)


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    binary = str(Path(sys.argv[1]).resolve())
    with tempfile.TemporaryDirectory(prefix="decision-log-contract-") as tmp:
        work = Path(tmp)
        server = Server(binary, work)
        try:
            tokens = seed(server)
            served = urllib.request.urlopen(f"{server.base}/api/v1/openapi.json", timeout=30).read()
            (work / "openapi.json").write_bytes(served)
            lint(work)
            python_client(server, tokens, work)
            typescript_client(server, tokens, work)
            reports = Path(os.environ.get("DECISION_LOG_CONTRACT_REPORTS", work))
            reports.mkdir(parents=True, exist_ok=True)
            schemathesis(server, tokens, reports)
        finally:
            server.stop()
    log("the contract holds")


if __name__ == "__main__":
    main()
