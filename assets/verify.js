// In-browser verification of a decision's entry, added to the decision page when JavaScript runs.
//
// The page is complete without this script. With it, the reader can check, in this browser and
// with WebCrypto only, that the entry the page names is in the log the log's key signed:
//
//   1. the verifier key (GET /api/v1/log/key) is well formed and its key ID matches its name and
//      public key (docs/log-format.md §8);
//   2. the newest checkpoint (GET /api/v1/log/checkpoint) carries a valid Ed25519 signature by that
//      key over its text, and its origin is the key's name (§8);
//   3. the entry as served (GET /api/v1/log/entries/N) hashes to the entry hash printed on the page:
//      SHA-256(0x00 ‖ RFC 8785 canonical JSON of the entry) (§2, §4);
//   4. the inclusion proof (GET /api/v1/log/proofs/inclusion) leads from that hash to the signed
//      root, by the RFC 9162 §2.1.3.2 algorithm (§7). The proof response's own roots are never
//      trusted: only the checkpoint's root counts.
//
// The key is fetched from the same server, so a pass proves consistency with that key, not that
// the key is the operator's: the result shows the key so the reader can compare it with the one
// published out of band. No request leaves this origin (the page's CSP allows `connect-src 'self'`).
(function () {
  "use strict";

  // Without WebCrypto (an insecure context, an old browser) there is nothing to offer: the page
  // stays as it is, with its receipt and the command-line verifier.
  if (typeof TextEncoder !== "function" || typeof crypto !== "object" || !crypto || !crypto.subtle) {
    return;
  }

  const EM_DASH = "\u2014";

  /** A failed check; its message names the check. */
  class Failure extends Error {}

  function fail(message) {
    throw new Failure(message);
  }

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function fromHex(text) {
    if (typeof text !== "string" || !/^(?:[0-9a-f]{2})*$/.test(text)) return null;
    const out = new Uint8Array(text.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
    return out;
  }

  /** Standard base64 (with padding) to bytes, or null when `text` is not exactly that. */
  function fromBase64(text) {
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return null;
    const binary = atob(text);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  async function sha256(...parts) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
  }

  const LEAF = Uint8Array.of(0x00);
  const NODE = Uint8Array.of(0x01);
  const utf8 = new TextEncoder();

  /** RFC 8785 (JCS) canonical JSON text of a parsed JSON value (docs/log-format.md §2). */
  function canonical(value) {
    if (value === null || typeof value === "boolean") return JSON.stringify(value);
    if (typeof value === "number") {
      // ECMAScript's shortest round-trip form is JCS's number form; the log holds only safe
      // integers (§1), which print as themselves.
      if (!Number.isFinite(value)) fail("the entry holds a number with no JSON form");
      return JSON.stringify(value);
    }
    if (typeof value === "string") {
      // JSON.stringify escapes exactly as JCS does; a lone surrogate has no UTF-8 form.
      if (typeof value.isWellFormed === "function" && !value.isWellFormed()) {
        fail("the entry holds a string that is not valid Unicode");
      }
      return JSON.stringify(value);
    }
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    if (typeof value === "object") {
      // The default sort compares UTF-16 code units, which is JCS's member order.
      const names = Object.keys(value).sort();
      return "{" + names.map((n) => canonical(n) + ":" + canonical(value[n])).join(",") + "}";
    }
    return fail("the entry holds a value that is not JSON");
  }

  /**
   * RFC 9162 §2.1.3.2 (docs/log-format.md §7): whether `proof` (32-byte hashes, leaf to root)
   * proves `leaf` is at `index` in the tree of `size` leaves whose root is `root`.
   */
  async function verifyInclusion(index, size, leaf, proof, root) {
    if (!(index >= 0 && index < size) || leaf.length !== 32 || root.length !== 32) return false;
    if (proof.some((p) => !p || p.length !== 32)) return false;
    let fn = index;
    let sn = size - 1;
    let r = leaf;
    for (const p of proof) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(NODE, p, r);
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        r = await sha256(NODE, r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(r, root);
  }

  /** Parses `<name>+<key ID, 8 hex>+<base64(0x01 ‖ public key)>` and checks its key ID (§8). */
  async function parseVerifierKey(text) {
    const vkey = text.trim();
    const first = vkey.indexOf("+");
    const second = first < 0 ? -1 : vkey.indexOf("+", first + 1);
    if (first <= 0 || second < 0) fail("the log's key is not a verifier key");
    const name = vkey.slice(0, first);
    const keyId = /^[0-9a-f]{8}$/.test(vkey.slice(first + 1, second))
      ? fromHex(vkey.slice(first + 1, second))
      : null;
    const keyData = fromBase64(vkey.slice(second + 1));
    if (!keyId || !keyData || keyData.length !== 33 || keyData[0] !== 0x01) {
      fail("the log's key is not an Ed25519 verifier key");
    }
    const expected = (await sha256(utf8.encode(name), Uint8Array.of(0x0a), keyData)).slice(0, 4);
    if (!equal(keyId, expected)) fail("the log's key ID does not match its name and public key");
    let publicKey;
    try {
      publicKey = await crypto.subtle.importKey(
        "raw",
        keyData.slice(1),
        { name: "Ed25519" },
        false,
        ["verify"],
      );
    } catch (e) {
      fail("this browser cannot check Ed25519 signatures; use decision-log verify instead");
    }
    return { text: vkey, name, keyId, publicKey };
  }

  /** Checks a C2SP signed checkpoint against the key and reads origin, size and root (§8). */
  async function openCheckpoint(note, key) {
    if (!note.endsWith("\n")) fail("the checkpoint does not end with a newline");
    const split = note.indexOf("\n\n");
    if (split < 0) fail("the checkpoint has no signature block");
    const text = note.slice(0, split + 1);
    const signatures = note.slice(split + 2).split("\n").slice(0, -1);
    let signed = false;
    for (const line of signatures) {
      const fields = line.startsWith(EM_DASH + " ") ? line.slice(2).split(" ") : [];
      if (fields.length !== 2) fail("the checkpoint has a malformed signature line");
      const sig = fromBase64(fields[1]);
      if (!sig) fail("the checkpoint has a signature that is not base64");
      // Signatures by other keys (witnesses) are not this check's business.
      if (fields[0] !== key.name || sig.length < 4 || !equal(sig.slice(0, 4), key.keyId)) continue;
      if (sig.length !== 68) fail("the checkpoint signature is not 64 bytes long");
      const ok = await crypto.subtle.verify(
        { name: "Ed25519" },
        key.publicKey,
        sig.slice(4),
        utf8.encode(text),
      );
      if (!ok) fail("the checkpoint signature does not verify with the log's key");
      signed = true;
    }
    if (!signed) fail("the checkpoint is not signed by the log's key");
    const lines = text.split("\n").slice(0, -1);
    if (lines.length < 3) fail("the checkpoint has fewer than three lines");
    const [origin, sizeText, rootText] = lines;
    if (origin !== key.name) fail("the checkpoint's origin is not the key's name");
    if (!/^(?:0|[1-9][0-9]{0,15})$/.test(sizeText)) fail("the checkpoint's tree size is malformed");
    const root = fromBase64(rootText);
    if (!root || root.length !== 32) fail("the checkpoint's root is not 32 bytes of base64");
    return { size: Number(sizeText), root };
  }

  // tests/e2e/verify.test.mjs runs these checks on known-answer vectors by loading this file with
  // a CommonJS-style `module`; in a browser there is none, and the page part below runs.
  if (typeof module === "object" && module !== null && typeof module.exports === "object") {
    module.exports = { Failure, canonical, verifyInclusion, parseVerifierKey, openCheckpoint };
    return;
  }

  const box = document.getElementById("verify");
  const button = document.getElementById("verify-button");
  const result = document.getElementById("verify-result");
  if (!box || !button || !result) return;

  async function fetchOk(path, what, as) {
    let response;
    try {
      response = await fetch(path, { cache: "no-store", credentials: "same-origin" });
    } catch (e) {
      fail(`${what} could not be fetched`);
    }
    if (!response.ok) fail(`${what} could not be fetched (HTTP ${response.status})`);
    try {
      return as === "json" ? await response.json() : await response.text();
    } catch (e) {
      return fail(`${what} is not ${as === "json" ? "JSON" : "text"}`);
    }
  }

  async function verify(leaf, pageHash) {
    const key = await parseVerifierKey(await fetchOk("/api/v1/log/key", "the log's key", "text"));
    // An entry appended a moment ago may not be in a signed checkpoint yet: the log signs a new
    // one within a second of growing (§8), so wait for it briefly.
    let checkpoint;
    for (let attempt = 1; ; attempt++) {
      checkpoint = await openCheckpoint(
        await fetchOk("/api/v1/log/checkpoint", "the checkpoint", "text"),
        key,
      );
      if (leaf < checkpoint.size) break;
      if (attempt === 3) {
        fail(`the newest checkpoint (size ${checkpoint.size}) does not cover entry ${leaf} yet; try again in a moment`);
      }
      await new Promise((resolve) => setTimeout(resolve, 800));
    }

    const served = await fetchOk(`/api/v1/log/entries/${leaf}`, "the entry", "json");
    if (!served || typeof served.entry !== "object" || served.entry === null) {
      fail("the entry response has no entry");
    }
    if (served.leaf_index !== leaf || served.entry.leaf_index !== leaf) {
      fail(`the log served a different entry than entry ${leaf}`);
    }
    const entryHash = await sha256(LEAF, utf8.encode(canonical(served.entry)));
    if (!equal(entryHash, pageHash)) fail("the entry's hash is not the one shown on this page");

    const proof = await fetchOk(
      `/api/v1/log/proofs/inclusion?leaf_index=${leaf}&tree_size=${checkpoint.size}`,
      "the inclusion proof",
      "json",
    );
    if (!proof || proof.leaf_index !== leaf || proof.tree_size !== checkpoint.size) {
      fail("the inclusion proof is for another leaf or tree size");
    }
    if (!Array.isArray(proof.hashes)) fail("the inclusion proof has no hashes");
    const hashes = proof.hashes.map(fromHex);
    if (hashes.some((h) => !h || h.length !== 32)) fail("the inclusion proof holds a malformed hash");
    if (!(await verifyInclusion(leaf, checkpoint.size, entryHash, hashes, checkpoint.root))) {
      fail("the inclusion proof does not lead to the signed root");
    }
    return { size: checkpoint.size, root: hex(checkpoint.root), key: key.text };
  }

  function show(text, outcome, note) {
    const headline = document.createElement("strong");
    headline.textContent = text;
    result.replaceChildren(headline);
    if (note) {
      const detail = document.createElement("span");
      detail.className = "verify-key";
      detail.append("Key: ");
      const code = document.createElement("code");
      code.textContent = note;
      detail.append(code, " — compare it with the key the log's operator publishes.");
      result.append(" ", detail);
    }
    result.className = outcome;
  }

  async function run() {
    const leaf = Number(box.dataset.leaf);
    const pageHash = fromHex(box.dataset.entryHash || "");
    button.disabled = true;
    box.setAttribute("aria-busy", "true");
    show("Checking…", "");
    try {
      if (!Number.isSafeInteger(leaf) || leaf < 0 || !pageHash || pageHash.length !== 32) {
        fail("this page does not name an entry and its hash");
      }
      const ok = await verify(leaf, pageHash);
      show(
        `Verified: entry ${leaf} is in the log the key signed (size ${ok.size}, root ${ok.root}).`,
        "ok",
        ok.key,
      );
    } catch (e) {
      show(`Failed: ${e instanceof Failure ? e.message : "the check could not run (" + e + ")"}`, "bad");
    } finally {
      button.disabled = false;
      box.removeAttribute("aria-busy");
    }
  }

  button.addEventListener("click", run);
  button.hidden = false;
})();
