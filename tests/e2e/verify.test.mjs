// The checks of assets/verify.js on the ledger's known-answer vectors (ledger/tests/vectors/, see
// its ORIGIN.md): RFC 8785 canonical JSON, RFC 9162 inclusion proofs (every case, the failing ones
// included) and C2SP signed notes. The browser test checks the same code against a live log; this
// one covers the edge cases a small log never reaches. Node's WebCrypto stands in for the browser's.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const VECTORS = path.join(ROOT, "ledger/tests/vectors");

/** Loads assets/verify.js as the page would, with a `module` to hand its checks back. */
function loadVerifier() {
  const source = readFileSync(path.join(ROOT, "assets/verify.js"), "utf8");
  const module = { exports: {} };
  new Function("module", source)(module);
  assert.equal(typeof module.exports.canonical, "function", "verify.js hands back its checks");
  return module.exports;
}

const { Failure, canonical, verifyInclusion, parseVerifierKey, openCheckpoint } = loadVerifier();

const utf8 = new TextEncoder();
const b64 = (text) => new Uint8Array(Buffer.from(text, "base64"));
const read = (...parts) => readFileSync(path.join(VECTORS, ...parts), "utf8");

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

describe("verify.js on known-answer vectors", () => {
  it("canonicalises JSON as RFC 8785 does", () => {
    const dir = path.join(VECTORS, "jcs/input");
    const names = readdirSync(dir).filter((n) => n.endsWith(".json"));
    assert.ok(names.length >= 5, "the JCS vectors are there");
    for (const name of names) {
      const got = canonical(JSON.parse(read("jcs/input", name)));
      const want = read("jcs/output", name);
      assert.equal(got, want, name);
      assert.equal(Buffer.from(got, "utf8").toString("hex"), read("jcs/outhex", name.replace(/\.json$/, ".txt")).replace(/\s+/g, ""), name);
    }
  });

  it("writes numbers in the ECMAScript form RFC 8785 requires", () => {
    const lines = read("jcs/es6-numbers-10000.txt").split("\n").filter(Boolean);
    assert.equal(lines.length, 10_000);
    const view = new DataView(new ArrayBuffer(8));
    for (const line of lines) {
      const [bits, want] = line.split(",");
      view.setBigUint64(0, BigInt(`0x${bits}`));
      const value = view.getFloat64(0);
      if (!Number.isFinite(value)) continue; // NaN and infinities have no JSON form
      assert.equal(canonical(value), want, line);
    }
  });

  it("refuses what has no canonical form", () => {
    assert.throws(() => canonical({ x: Number.NaN }), Failure);
    assert.throws(() => canonical({ x: "\ud800" }), Failure);
  });

  it("accepts exactly the inclusion proofs RFC 9162 accepts", async () => {
    const files = filesUnder(path.join(VECTORS, "rfc6962/merkle-testdata/inclusion")).filter((f) => f.endsWith(".json"));
    assert.ok(files.length >= 90, "the inclusion vectors are there");
    let accepted = 0;
    for (const file of files) {
      const v = JSON.parse(readFileSync(file, "utf8"));
      const ok = await verifyInclusion(
        v.leafIdx,
        v.treeSize,
        v.leafHash ? b64(v.leafHash) : new Uint8Array(0),
        (v.proof ?? []).map(b64),
        v.root ? b64(v.root) : new Uint8Array(0),
      );
      assert.equal(ok, !v.wantErr, `${path.relative(VECTORS, file)}: ${v.desc}`);
      if (ok) accepted++;
    }
    assert.ok(accepted > 0, "some proofs verify");
  });

  it("checks a C2SP signed note, its key ID and its signature", async () => {
    const key = await parseVerifierKey(read("signed-note/go-peterneumann.vkey"));
    assert.equal(key.name, "PeterNeumann");
    // The Go test note is not a checkpoint: its signature verifies, then its two lines are refused.
    const note = read("signed-note/go-peterneumann.note");
    await assert.rejects(openCheckpoint(note, key), { message: "the checkpoint has fewer than three lines" });
    const flipped = note.replace("answer", "Answer");
    await assert.rejects(openCheckpoint(flipped, key), { message: "the checkpoint signature does not verify with the log's key" });
    const other = await parseVerifierKey(read("signed-note/c2sp-example.vkey"));
    await assert.rejects(openCheckpoint(note, other), { message: "the checkpoint is not signed by the log's key" });
  });

  it("refuses a verifier key whose key ID does not match", async () => {
    const vkey = read("signed-note/go-peterneumann.vkey").trim();
    const [name, id, data] = [vkey.slice(0, 12), vkey.slice(13, 21), vkey.slice(22)];
    assert.equal(`${name}+${id}+${data}`, vkey);
    await assert.rejects(parseVerifierKey(`${name}+00000000+${data}`), { message: "the log's key ID does not match its name and public key" });
    await assert.rejects(parseVerifierKey(`Someone+${id}+${data}`), { message: "the log's key ID does not match its name and public key" });
    await assert.rejects(parseVerifierKey(`${name}+${id}`), Failure);
  });

  it("opens a checkpoint signed by the log's key", async () => {
    // A checkpoint as the log writes it, signed here with a fresh Ed25519 key.
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    const name = "test.example/log";
    const keyData = new Uint8Array([0x01, ...raw]);
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array([...utf8.encode(name), 0x0a, ...keyData])));
    const keyId = hash.slice(0, 4);
    const vkey = `${name}+${Buffer.from(keyId).toString("hex")}+${Buffer.from(keyData).toString("base64")}`;
    const root = new Uint8Array(32).fill(7);
    const text = `${name}\n6\n${Buffer.from(root).toString("base64")}\n`;
    const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, utf8.encode(text)));
    const line = (n, bytes) => `\u2014 ${n} ${Buffer.from(bytes).toString("base64")}\n`;
    const witness = line("witness.example", new Uint8Array(68).fill(1));
    const note = `${text}\n${witness}${line(name, new Uint8Array([...keyId, ...sig]))}`;

    const key = await parseVerifierKey(`${vkey}\n`);
    const checkpoint = await openCheckpoint(note, key);
    assert.equal(checkpoint.size, 6);
    assert.deepEqual(checkpoint.root, root);

    const tampered = note.replace(`${name}\n6\n`, `${name}\n7\n`);
    await assert.rejects(openCheckpoint(tampered, key), { message: "the checkpoint signature does not verify with the log's key" });
    await assert.rejects(openCheckpoint(`${text}\n${witness}`, key), { message: "the checkpoint is not signed by the log's key" });
    await assert.rejects(openCheckpoint(note.slice(0, -1), key), { message: "the checkpoint does not end with a newline" });
  });
});
