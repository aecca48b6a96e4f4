// A round trip through openapi-fetch, typed by the `paths` that openapi-typescript generates from
// the served OpenAPI document, type-checked with tsc --strict before it runs
// (tests/contract/run.py). The same round trip as roundtrip_client.py: an admin registers a body
// and a secretariat token; the secretariat records a decision and amends it; an anonymous reader
// lists and reads it, the log head, an inclusion proof, a log page and the first entry bundle.

import createClient from "openapi-fetch";
import type { components, paths } from "./api.js";

type DecisionRecord = components["schemas"]["DecisionRecord"];

function check(condition: boolean, what: string): asserts condition {
  if (!condition) {
    throw new Error(`round trip: ${what}`);
  }
}

function required(name: string): string {
  const value = process.env[name];
  check(value !== undefined && value !== "", `${name} is not set`);
  return value;
}

const baseUrl = required("DECISION_LOG_URL");
const admin = createClient<paths>({
  baseUrl,
  headers: { Authorization: `Bearer ${required("ADMIN_TOKEN")}` },
});
const anonymous = createClient<paths>({ baseUrl });
const suffix = Math.random().toString(16).slice(2, 10);

const body = await admin.POST("/api/v1/bodies", {
  body: { slug: `ts-${suffix}`, name: "TypeScript Board", kind: "board" },
});
check(body.data !== undefined, `the body was not created: ${JSON.stringify(body.error)}`);
check(!Number.isNaN(Date.parse(body.data.created_at)), "created_at is not a date-time");

const token = await admin.POST("/api/v1/tokens", {
  body: { name: `ts-clerk-${suffix}`, role: "secretariat", bodies: [body.data.slug] },
});
check(token.data !== undefined, `no token: ${JSON.stringify(token.error)}`);
const clerk = createClient<paths>({
  baseUrl,
  headers: { Authorization: `Bearer ${token.data.secret}` },
});

const record: DecisionRecord = {
  title: "Adopt the TypeScript board's terms of reference",
  body: body.data.slug,
  decision: "The board adopts the terms of reference in the appendix.",
  decided_on: "2026-11-20",
  decision_maker: { kind: "body", name: "TypeScript Board" },
  decision_type: "non_key",
  reasons: "The board was created without terms of reference.",
  alternatives: "none_considered",
  conflicts: "none_declared",
  participants: [
    { name: "Cllr Grace Hopper", role: "chair", attendance: "present" },
    { name: "Cllr Edsger Dijkstra", role: "decision_maker", attendance: "remote" },
  ],
  classification: "public",
  tags: ["governance"],
};
const recorded = await clerk.POST("/api/v1/decisions", {
  params: { header: { "Idempotency-Key": `ts-${suffix}` } },
  body: record,
});
check(recorded.data !== undefined, `recording refused: ${JSON.stringify(recorded.error)}`);
const id = recorded.data.id;
check(recorded.response.status === 201, `recording answered ${recorded.response.status}`);
check(recorded.response.headers.get("Location") === `/api/v1/decisions/${id}`, "no Location");
const leaf = recorded.data.receipt.leaf_index;

const amended = await clerk.POST("/api/v1/decisions/{id}/amendments", {
  params: { path: { id } },
  body: {
    changes: { title: "Adopt the TypeScript board's terms of reference (2026)" },
    reason: "The year was missing from the title",
  },
});
check(amended.error === undefined, `the amendment was refused: ${JSON.stringify(amended.error)}`);

const read = await anonymous.GET("/api/v1/decisions/{id}", { params: { path: { id } } });
check(read.data !== undefined, "the decision is not served");
const title = read.data.record?.title ?? "";
check(title.endsWith("(2026)"), `the amended title is not served: ${title}`);
for (const event of read.data.lineage ?? []) {
  check(typeof event.detail === "object", "an event's detail is not an object");
}

const page = await anonymous.GET("/api/v1/decisions", {
  params: { query: { body: body.data.slug, limit: 10 } },
});
check(page.data !== undefined, "no page");
check(page.data.items.length === 1 && page.data.items[0]?.id === id, "the list is not the one decision");

const receipt = await anonymous.GET("/api/v1/decisions/{id}/receipt", { params: { path: { id } } });
check(receipt.data !== undefined, "no receipt");
check(receipt.data.entries.some((e) => e.leaf_index === leaf), "the receipt does not hold the leaf");

const head = await anonymous.GET("/api/v1/log/head");
check(head.data !== undefined && head.data.tree_size > leaf, "the head is behind the decision");

const proof = await anonymous.GET("/api/v1/log/proofs/inclusion", {
  params: { query: { leaf_index: leaf, tree_size: head.data.tree_size } },
});
check(proof.data !== undefined && proof.data.tree_size === head.data.tree_size, "no proof");

const entries = await anonymous.GET("/api/v1/log/entries", { params: { query: { from: 0, limit: 1 } } });
check(entries.data !== undefined, "no log page");
const first = entries.data.entries[0];
check(first !== undefined && first.leaf_index === 0, "the first page is not leaf 0");
check(typeof first.entry["kind"] === "string", "an entry has no kind");

const bundle = await anonymous.GET("/tlog/tile/{tile}", {
  params: { path: { tile: "entries/000.p/1" } },
  parseAs: "arrayBuffer",
});
check(bundle.data !== undefined, "no entry bundle");
const bytes = new Uint8Array(bundle.data);
check(bytes.length > 2 && ((bytes[0] ?? 0) << 8) + (bytes[1] ?? 0) === bytes.length - 2, "not one entry");

console.log("typescript client: round trip ok");
