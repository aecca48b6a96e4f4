// The pages in a real browser: headless Chromium against the real binary on a fresh database.
//
// A reader browses the latest decisions, filters them by body with the form, opens a decision and
// its timeline, searches, follows the Atom feed of the filtered list, reads a withheld decision
// anonymously, a body and the log, and checks a decision's entry with "Verify in your browser",
// which must pass on the untouched log and fail when a proof or an entry is tampered with on the
// way. Every page type gets a full-page screenshot (target/e2e-screenshots/) and an axe-core
// accessibility audit that fails on any violation. Hostile text in a decision must never run: no
// dialog may open, no Content-Security-Policy violation may be reported, and no request may leave
// the server's origin.
//
// axe-core is injected as a script tag, which the pages' CSP (`script-src 'self'`, no inline
// script) refuses; the audits therefore run in a second browser context with `bypassCSP`, while
// every other step runs with the CSP enforced.
//
//   DECISION_LOG_BIN   the binary (default: target/debug/decision-log)
//   CHROMIUM           the browser (default: /usr/bin/chromium)

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { PROBE, seed, startServer } from "./server.mjs";

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BINARY = process.env.DECISION_LOG_BIN || path.join(ROOT, "target/debug/decision-log");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = path.join(ROOT, "target/e2e-screenshots");
const AXE = require.resolve("axe-core/axe.min.js");

// Without the background-networking flags Chromium keeps calling home, which a closed network
// answers with a flood of failures. Playwright gives every launch a fresh, temporary profile
// (--user-data-dir) and removes it on close.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let server;
let seeded;
let browser;
let context; // CSP enforced: everything but the audits
let auditContext; // bypassCSP: the axe audits only
let page;
let filteredPath;
const dialogs = [];
const cspViolations = [];
const pageErrors = [];
const foreignRequests = [];

function url(pathname) {
  return server.base + pathname;
}

async function screenshot(name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/**
 * Opens `pathname` in the audit context and runs axe-core on it with every rule axe enables by
 * default (WCAG 2.x A and AA, and best practices). `prepare(page)` may bring the page into a state
 * to audit (a verification result shown, say). Fails listing every violation.
 */
async function audit(name, pathname, prepare) {
  const auditPage = await auditContext.newPage();
  try {
    const response = await auditPage.goto(url(pathname));
    assert.ok(response, `${name}: no response`);
    if (prepare) await prepare(auditPage);
    await auditPage.addScriptTag({ path: AXE });
    const violations = await auditPage.evaluate(async () => {
      const results = await window.axe.run(document, { resultTypes: ["violations"] });
      return results.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
      }));
    });
    const report = violations
      .map(
        (v) =>
          `  ${v.id} (${v.impact}): ${v.help}\n` +
          v.nodes.map((n) => `    at ${n.target}\n      ${n.summary.replace(/\n/g, "\n      ")}`).join("\n"),
      )
      .join("\n");
    assert.equal(violations.length, 0, `axe found violations on the ${name} page (${pathname}):\n${report}`);
  } finally {
    await auditPage.close();
  }
}

/** Clicks "Verify in your browser" and resolves to the result's text and class. */
async function verifyInBrowser(onPage = page) {
  const button = onPage.locator("#verify-button");
  await assert.doesNotReject(button.waitFor({ state: "visible", timeout: 5000 }), "the verify button is shown");
  await onPage.locator("#verify-result").evaluate((e) => {
    e.textContent = "";
    e.className = "";
  });
  await button.click();
  const result = onPage.locator("#verify-result.ok, #verify-result.bad");
  await result.waitFor({ timeout: 15_000 });
  return { text: (await result.textContent()).trim(), className: await result.getAttribute("class") };
}

/** GETs `pathname` outside the page; resolves to the response. */
function request(pathname) {
  return context.request.get(url(pathname), { failOnStatusCode: false, maxRedirects: 0 });
}

describe("the pages in a browser", () => {
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServer(BINARY);
    seeded = await seed(server.base, server.admin);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    auditContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    for (const ctx of [context, auditContext]) {
      // Nothing a page does may reach another origin.
      await ctx.route(
        (u) => u.origin !== server.base,
        (route) => {
          foreignRequests.push(route.request().url());
          return route.abort();
        },
      );
      ctx.on("page", (p) => {
        p.on("dialog", (d) => {
          dialogs.push(`${d.type()}: ${d.message()} on ${p.url()}`);
          return d.dismiss();
        });
        p.on("pageerror", (e) => pageErrors.push(`${p.url()}: ${e.message}`));
        p.on("console", (m) => {
          if (/Content Security Policy/i.test(m.text()) && ctx === context) {
            cspViolations.push(`${p.url()}: ${m.text()}`);
          }
        });
      });
    }
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    if (server) {
      if (process.exitCode) process.stderr.write(server.log());
      await server.stop();
    }
  });

  it("lists the latest decisions, hostile text shown as text", async () => {
    const response = await page.goto(url("/"));
    assert.equal(response.status(), 200);
    assert.match(response.headers()["content-security-policy"], /script-src 'self'/);
    const cards = page.locator("article.card h3");
    await assert.doesNotReject(cards.first().waitFor());
    const titles = await cards.allTextContents();
    assert.ok(titles.includes(seeded.depotTitle), `${titles}`);
    assert.ok(titles.includes(`Hostile title ${PROBE}`), `the probe is shown as text: ${titles}`);
    assert.ok(!titles.some((t) => t.includes("Mill Lane")), "a withheld title is not listed");
    assert.equal(await page.locator("main script, main img").count(), 0, "no probe became an element");
    await screenshot("index");
    await audit("index", "/");
  });

  it("filters by body with the form", async () => {
    await page.goto(url("/"));
    await page.selectOption("#f-body", "planning-committee");
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get("body") === "planning-committee"),
      page.click("form.filters button[type=submit]"),
    ]);
    const titles = await page.locator("article.card h3").allTextContents();
    assert.deepEqual(titles, [seeded.planningTitle]);
    assert.equal(await page.locator("#f-body").inputValue(), "planning-committee", "the filter stays selected");
    filteredPath = new URL(page.url()).pathname + new URL(page.url()).search;
    await screenshot("index-filtered");
    await audit("filtered index", filteredPath);
  });

  it("follows the filtered list's Atom feed", async (t) => {
    assert.ok(filteredPath, "the filtered list was shown");
    await page.goto(url(filteredPath));
    const href = await page.locator('link[rel=alternate][type="application/atom+xml"]').getAttribute("href");
    assert.ok(href && href.includes("body=planning-committee"), `the feed keeps the filter: ${href}`);
    const feed = await request(href);
    if (feed.status() === 404) {
      t.skip(`the Atom feed ${href} answers 404: /feeds/… is not served yet`);
      return;
    }
    assert.equal(feed.status(), 200, `GET ${href}`);
    assert.match(feed.headers()["content-type"], /^application\/atom\+xml/);
    const xml = await feed.text();
    assert.ok(xml.includes(seeded.planningTitle), "the feed lists the filtered decision");
    assert.ok(!xml.includes(seeded.depotTitle), "and only it");
  });

  it("opens a decision with its timeline, and the entry verifies in the browser", async () => {
    await page.goto(url("/"));
    await Promise.all([
      page.waitForURL(`**/decisions/${seeded.depot.id}`),
      page.getByRole("link", { name: seeded.depotTitle, exact: true }).click(),
    ]);
    assert.equal(await page.locator("h1").textContent(), seeded.depotTitle);
    const timeline = await page.locator("ol.timeline > li").allTextContents();
    assert.equal(timeline.length, 2, `${timeline}`);
    assert.match(timeline[0], /Recorded/);
    assert.match(timeline[1], /Amended/);
    assert.match(timeline[1], /The title named the rounds, not the service\./);
    await screenshot("decision");

    const { text, className } = await verifyInBrowser();
    assert.equal(className, "ok", text);
    assert.match(text, new RegExp(`^Verified: entry ${seeded.depot.receipt.leaf_index} is in the log the key signed \\(size \\d+, root [0-9a-f]{64}\\)`));
    assert.ok(text.includes(server.vkey), "the result shows the key to compare");
    await screenshot("decision-verified");
    await audit("decision", `/decisions/${seeded.depot.id}`, async (p) => {
      assert.equal((await verifyInBrowser(p)).className, "ok");
    });
  });

  it("shows hostile text inert on the decision page, and its entry verifies", async () => {
    await page.goto(url(`/decisions/${seeded.probe.id}`));
    assert.equal(await page.locator("h1").textContent(), `Hostile title ${PROBE}`);
    const prose = await page.locator("p.prose").allTextContents();
    assert.ok(prose.includes(`Hostile decision ${PROBE}`), `${prose}`);
    assert.ok(prose.includes(`Hostile reasons ${PROBE}`), `${prose}`);
    assert.equal(await page.locator("main script, main img").count(), 0, "no probe became an element");
    const { text, className } = await verifyInBrowser();
    assert.equal(className, "ok", text);
  });

  it("fails the check when a proof or an entry is tampered with on the way", async () => {
    await page.goto(url(`/decisions/${seeded.planning.id}`));
    assert.equal((await verifyInBrowser()).className, "ok", "untouched, it verifies");

    const proofs = "**/api/v1/log/proofs/inclusion**";
    let flipped = 0;
    await page.route(proofs, async (route) => {
      const response = await route.fetch();
      const proof = await response.json();
      assert.ok(proof.hashes.length > 0, "the proof has a hash to flip");
      const h = proof.hashes[0];
      proof.hashes[0] = h.slice(0, 10) + ((parseInt(h.slice(10, 12), 16) ^ 0x01).toString(16).padStart(2, "0")) + h.slice(12);
      flipped++;
      await route.fulfill({ response, json: proof });
    });
    let result = await verifyInBrowser();
    assert.equal(flipped, 1, "the proof went through the tampering route");
    assert.equal(result.className, "bad", result.text);
    assert.equal(result.text, "Failed: the inclusion proof does not lead to the signed root");
    await screenshot("decision-failed");
    await page.unroute(proofs);
    await audit("decision (check failed)", `/decisions/${seeded.planning.id}`, async (p) => {
      await p.route(proofs, (route) => route.fulfill({ json: { leaf_index: 0, tree_size: 0, hashes: [] } }));
      assert.equal((await verifyInBrowser(p)).className, "bad");
    });

    const entries = "**/api/v1/log/entries/*";
    await page.route(entries, async (route) => {
      const response = await route.fetch();
      const served = await response.json();
      served.entry.recorded_by = "someone-else";
      await route.fulfill({ response, json: served });
    });
    result = await verifyInBrowser();
    assert.equal(result.className, "bad", result.text);
    assert.equal(result.text, "Failed: the entry's hash is not the one shown on this page");
    await page.unroute(entries);

    const checkpoint = "**/api/v1/log/checkpoint";
    await page.route(checkpoint, async (route) => {
      const response = await route.fetch();
      const note = await response.text();
      const lines = note.split("\n");
      lines[1] = String(Number(lines[1]) + 1); // a bigger tree than the key signed
      await route.fulfill({ response, body: lines.join("\n") });
    });
    result = await verifyInBrowser();
    assert.equal(result.className, "bad", result.text);
    assert.equal(result.text, "Failed: the checkpoint signature does not verify with the log's key");
    await page.unroute(checkpoint);

    assert.equal((await verifyInBrowser()).className, "ok", "untampered again, it verifies again");
  });

  it("shows an anonymous reader why a restricted decision is withheld, and its entry verifies", async () => {
    const response = await page.goto(url(`/decisions/${seeded.restricted.id}`));
    assert.equal(response.status(), 200);
    await assert.doesNotReject(page.getByRole("heading", { name: "Why the content is withheld" }).waitFor());
    const text = await page.locator("main").textContent();
    assert.ok(text.includes("A property purchase in Southfield."));
    assert.ok(!text.includes("Mill Lane") && !text.includes("Okafor"), "nothing withheld is shown");
    assert.equal((await verifyInBrowser()).className, "ok");
    await screenshot("decision-withheld");
    await audit("withheld decision", `/decisions/${seeded.restricted.id}`);
  });

  it("shows a body and its decisions", async () => {
    await page.goto(url(`/decisions/${seeded.depot.id}`));
    await Promise.all([
      page.waitForURL("**/bodies/cabinet"),
      page.locator("nav.crumbs").getByRole("link", { name: "Cabinet" }).click(),
    ]);
    assert.equal(await page.locator("h1").textContent(), "Cabinet");
    const titles = await page.locator("article.card h3").allTextContents();
    assert.ok(titles.includes(seeded.depotTitle), `${titles}`);
    assert.ok(!titles.includes(seeded.planningTitle), "only the body's decisions");
    await screenshot("body");
    await audit("body", "/bodies/cabinet");
  });

  it("shows the log with the key the operator created", async () => {
    await page.goto(url("/"));
    await Promise.all([page.waitForURL("**/log"), page.getByRole("link", { name: "The log" }).first().click()]);
    const text = await page.locator("main").textContent();
    assert.ok(text.includes(server.vkey), "the verifier key from keygen is shown");
    assert.match(await page.locator("pre.note").textContent(), /^test\.example\/log\n\d+\n/);
    await screenshot("log");
    await audit("log", "/log");
  });

  it("searches the decisions", async (t) => {
    const probe = await request("/search?q=Riverside");
    if (probe.status() === 404) {
      t.skip("GET /search answers 404: the search page is not served yet");
      return;
    }
    await page.goto(url("/"));
    await Promise.all([page.waitForURL("**/search**"), page.getByRole("link", { name: "Search", exact: true }).click()]);
    const response = await page.goto(url("/search?q=Riverside"));
    assert.equal(response.status(), 200);
    let text = await page.locator("main").textContent();
    assert.ok(text.includes(seeded.planningTitle), "the search finds the housing scheme");
    assert.ok(!text.includes(seeded.depotTitle), "and not the depot");
    await screenshot("search");
    await audit("search", "/search?q=Riverside");

    // Nothing withheld is found by its content.
    await page.goto(url("/search?q=Mill"));
    text = await page.locator("main").textContent();
    assert.ok(!text.includes("Mill Lane"), "a withheld title is not found");

    // Hostile text in a result's snippet, and as the query, is shown as text.
    await page.goto(url("/search?q=Hostile"));
    text = await page.locator("main").textContent();
    assert.ok(text.includes(`Hostile title ${PROBE}`), "the search finds the probe, shown as text");
    assert.equal(await page.locator("main script, main img").count(), 0, "no probe became an element");
    await page.goto(url(`/search?q=${encodeURIComponent(PROBE)}`));
    assert.equal(await page.locator("main script, main img").count(), 0, "no probe became an element");
  });

  it("shows who is in the room", async (t) => {
    const probe = await request("/stats");
    if (probe.status() === 404) {
      t.skip("GET /stats answers 404: the statistics page is not served yet");
      return;
    }
    const response = await page.goto(url("/stats"));
    assert.equal(response.status(), 200);
    await screenshot("stats");
    await audit("stats", "/stats");
  });

  it("explains a missing page", async () => {
    const response = await page.goto(url("/decisions/no-such-decision"));
    assert.equal(response.status(), 404);
    await screenshot("error");
    await audit("error", "/decisions/no-such-decision");
  });

  it("is complete without JavaScript: no verify button, the receipt link instead", async () => {
    const noScript = await browser.newContext({ javaScriptEnabled: false });
    try {
      const p = await noScript.newPage();
      await p.goto(url(`/decisions/${seeded.depot.id}`));
      assert.equal(await p.locator("#verify-button").isVisible(), false);
      assert.equal(await p.getByRole("link", { name: "Download the receipt" }).count(), 1);
    } finally {
      await noScript.close();
    }
  });

  it("never ran hostile text, broke the CSP or reached another origin", () => {
    assert.deepEqual(dialogs, [], "no dialog opened");
    assert.deepEqual(cspViolations, [], "no Content-Security-Policy violation");
    assert.deepEqual(pageErrors, [], "no uncaught script error");
    assert.deepEqual(foreignRequests, [], "no request left the server's origin");
  });
});
