// The real decision-log binary on a fresh SQLite database and a fresh key, and the decisions the
// browser tests read: started as an operator would start it, seeded over the HTTP API.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const ORIGIN = "test.example/log";

/** The text every hostile field carries: it must render as text and never run. */
export const PROBE = "<script>alert(1)</script><img src=x onerror=alert(2)>";

/**
 * Starts `decision-log serve` on a free loopback port with a first-run admin token.
 * Resolves to `{ base, admin, vkey, stop() }`; `stop()` ends the server and removes its files.
 */
export async function startServer(binary) {
  const dir = mkdtempSync(path.join(tmpdir(), "decision-log-e2e-"));
  const key = path.join(dir, "log.key");
  const vkey = execFileSync(binary, ["keygen", "--origin", ORIGIN, "--out", key], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
  const child = spawn(
    binary,
    [
      "serve",
      "--bind", "127.0.0.1:0",
      "--database-url", `sqlite://${path.join(dir, "db")}?mode=rwc`,
      "--signing-key", key,
      "--first-run-admin", "true",
      "--checkpoint-interval-ms", "100",
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s) => (stderr += s));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    // eslint-disable-next-line no-control-regex
    const plain = stderr.replace(/\x1b\[[0-9;]*m/g, "");
    const listening = plain.match(/listening on (http:\/\/[0-9.]+:[0-9]+)/);
    const admin = stdout.match(/\bdlt_[A-Za-z0-9_-]+/);
    if (listening && admin) {
      return { base: listening[1], admin: admin[0], vkey, log: () => stderr, stop };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the server did not start:\n${stdout}\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `POST path` with a bearer token; resolves to the JSON answer, failing on anything but 201. */
async function post(base, token, pathname, body) {
  const response = await fetch(base + pathname, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => null);
  if (response.status !== 201) {
    throw new Error(`POST ${pathname}: ${response.status} ${JSON.stringify(answer, null, 2)}`);
  }
  return answer;
}

function isoDate(daysFromToday) {
  return new Date(Date.now() + daysFromToday * 86_400_000).toISOString().slice(0, 10);
}

/** The example record of `decision_log::record::example()`, dated relative to today. */
export function example() {
  return {
    title: "Close Northgate depot and move waste collection to Southfield",
    decision:
      "Northgate depot closes on 31 March 2027. Waste and recycling rounds move to the Southfield site, which is extended with a covered vehicle bay.",
    decided_on: isoDate(-11),
    body: "cabinet",
    decision_maker: { kind: "body", name: "Cabinet" },
    decision_type: "key",
    reasons:
      "The Northgate lease ends in 2027 and the building needs £2.1m of repairs. Southfield has space for the fleet and cuts average round mileage by 9%.",
    alternatives: [
      { option: "Renew the Northgate lease and repair the building", why_rejected: "£2.1m capital cost with no improvement to rounds." },
      { option: "Outsource waste collection", why_rejected: "Market testing in 2025 gave no bid below current cost." },
    ],
    conflicts: [
      {
        participant: 2,
        nature: "Lives on a road next to the Southfield site.",
        dispensation: {
          granted_by: "Monitoring Officer",
          granted_on: isoDate(-19),
          note: "May speak and vote; the interest is shared with many residents.",
        },
      },
    ],
    participants: [
      { name: "Cllr Amina Okafor", role: "chair", organisation: "Cabinet", attendance: "present" },
      { name: "Cllr Tom Reid", role: "decision_maker", organisation: "Cabinet", attendance: "present" },
      { name: "Cllr Priya Shah", role: "decision_maker", organisation: "Cabinet", attendance: "remote" },
      { name: "Cllr Owen Hughes", role: "decision_maker", organisation: "Cabinet", attendance: "apologies" },
      { name: "Dana Mills", role: "advisor", organisation: "Environmental Services", attendance: "present" },
    ],
    vote: {
      method: "roll_call",
      counts: { for: 2, against: 1, abstain: 0 },
      votes: [
        { participant: 0, vote: "for" },
        { participant: 1, vote: "for" },
        { participant: 2, vote: "against" },
        { participant: 3, vote: "absent" },
      ],
      result: "passed",
    },
    classification: "public",
    documents: [
      {
        title: "Depot options appraisal",
        uri: "https://intranet.example.gov.uk/papers/cabinet/item-7.pdf",
        sha256: "9f2c8d3b6a1e4f5071c2d8e9a0b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5",
      },
    ],
    success_measures:
      "Round mileage down at least 8% and no missed-collection rise over 2% in the first six months.",
    review_on: isoDate(300),
    input_from: [
      { kind: "staff", summary: "Crews asked for covered parking and earlier site opening.", uri: "https://intranet.example.gov.uk/consultations/depot-staff" },
      { kind: "community", summary: "Southfield residents raised traffic at school times; rounds will leave before 07:30." },
    ],
    effective_from: isoDate(-3),
    tags: ["waste", "property"],
    areas: ["Northgate", "Southfield"],
  };
}

/**
 * Registers the bodies `cabinet` and `planning-committee`, creates a secretariat token for both
 * and records the decisions the tests read. Resolves to the recorded decisions by role.
 */
export async function seed(base, admin) {
  await post(base, admin, "/api/v1/bodies", { slug: "cabinet", name: "Cabinet", kind: "cabinet" });
  await post(base, admin, "/api/v1/bodies", {
    slug: "planning-committee",
    name: "Planning Committee",
    kind: "committee",
  });
  const token = await post(base, admin, "/api/v1/tokens", {
    name: "e2e-clerk",
    role: "secretariat",
    bodies: ["cabinet", "planning-committee"],
  });
  const clerk = token.secret;
  const record = (r) => post(base, clerk, "/api/v1/decisions", r);

  const depot = await record(example());

  const hostile = example();
  hostile.title = `Hostile title ${PROBE}`;
  hostile.decision = `Hostile decision ${PROBE}`;
  hostile.reasons = `Hostile reasons ${PROBE}`;
  hostile.tags = ["probe"];
  const probe = await record(hostile);

  const housing = example();
  housing.body = "planning-committee";
  housing.title = "Approve the Riverside housing scheme with conditions";
  housing.decision_maker = { kind: "body", name: "Planning Committee" };
  housing.decision_type = "non_key";
  housing.tags = ["housing"];
  const planning = await record(housing);

  const purchase = example();
  purchase.title = "Purchase of 14 Mill Lane";
  purchase.classification = "restricted";
  purchase.exemption = {
    paragraph: 3,
    public_interest_reason: "Price under negotiation.",
    public_summary: "A property purchase in Southfield.",
  };
  const restricted = await record(purchase);

  await post(base, clerk, `/api/v1/decisions/${depot.id}/amendments`, {
    changes: { title: "Close Northgate depot and move rounds to Southfield (amended)" },
    reason: "The title named the rounds, not the service.",
  });
  await post(base, clerk, `/api/v1/decisions/${planning.id}/outcomes`, {
    status: "on_track",
    narrative: "Groundworks started on time; the first conditions are discharged.",
  });
  return {
    depot,
    depotTitle: "Close Northgate depot and move rounds to Southfield (amended)",
    probe,
    planning,
    planningTitle: housing.title,
    restricted,
  };
}
