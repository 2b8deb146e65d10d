import { describe, expect, it } from "vitest";
import { cpSync, readFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { cli, makeBaselineDb, ROOT, sampleInto, sqlite, tmp } from "../helpers.js";
import { makeTortureDb } from "../fixtures/torture.js";

describe("drill", () => {
  it("on a torture database: every table's canonical hash equal, a record in JSON and Markdown, a ledger row with --apply", async () => {
    const dir = tmp();
    const db = join(dir, "src.db");
    makeTortureDb(db);
    const work = join(dir, "work");
    const r = await cli(["drill", "--db", db, "--work-dir", work, "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const rec = JSON.parse(readFileSync(join(work, "drill-record.json"), "utf8"));
    expect(rec.status).toBe("pass");
    expect(rec.canonicalHash.match).toBe(true);
    expect(rec.tables.find((t: any) => t.name === "plain")).toMatchObject({ sourceRows: 25, restoredRows: 25, match: true });
    expect(rec.tables.every((t: any) => t.match)).toBe(true);
    expect(rec.toolVersion).toBeTruthy();
    expect(Date.parse(rec.window.end)).toBeGreaterThanOrEqual(Date.parse(rec.window.start));
    expect(readFileSync(join(work, "drill-record.md"), "utf8")).toMatch(/canonical hash match: yes/);
    expect(sqlite(db, "SELECT command, status FROM cutover_ledger")).toBe("drill|ok");
  });
  it("on a legacy database it still drills (the record is only in the work dir)", async () => {
    const dir = tmp();
    await sampleInto(dir, 10);
    const r = await cli(["drill", "--db", join(dir, "vox.db"), "--work-dir", join(dir, "w"), "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.ledger).toBe(false);
  });
});

describe("gate", () => {
  const content = () => {
    const d = tmp();
    cpSync(join(ROOT, "schema"), join(d, "schema"), { recursive: true });
    cpSync(join(ROOT, "contracts"), join(d, "contracts"), { recursive: true });
    cpSync(join(ROOT, "package.json"), join(d, "package.json"));
    return d;
  };

  it("passes on a current database with drift and verify; says what ran and what was skipped", async () => {
    const dir = tmp();
    makeBaselineDb(join(dir, "vox.db"));
    const r = await cli(["gate", "--db", join(dir, "vox.db"), "--json"]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.json.ran).toEqual(["ssot-drift", "verify"]);
    expect(r.json.skipped).toEqual(["drill", "telemetry-check", "news-check"]);
  });

  it("one exit code: the highest of the checks'", async () => {
    const dir = tmp();
    await sampleInto(dir, 10); // vox.db and telemetry.jsonl: the worker's sample, copied
    // verify on a legacy file → 4
    expect((await cli(["gate", "--db", join(dir, "vox.db")])).exitCode).toBe(4);
    // skip verify: drift passes, telemetry fails → 1
    const t = await cli(["gate", "--db", join(dir, "vox.db"), "--no-verify", "--telemetry", join(dir, "telemetry.jsonl"), "--json"]);
    expect(t.exitCode).toBe(1);
    expect(t.json.checks.find((c: any) => c.name === "telemetry-check").exitCode).toBe(1);
    // env toggles
    const e = await cli(["gate", "--db", join(dir, "vox.db"), "--json"], { env: { VOX_GATE_VERIFY: "false", VOX_GATE_DRIFT: "false" } });
    expect(e.exitCode).toBe(0);
    expect(e.json.ran).toEqual([]);
    // a value that is neither true nor false is a usage error, never taken for true (helper-101)
    const nope = await cli(["gate", "--db", join(dir, "vox.db"), "--json"], { env: { VOX_GATE_VERIFY: "nope" } });
    expect(nope.exitCode).toBe(2);
    expect(nope.stderr).toMatch(/VOX_GATE_VERIFY=nope is neither true nor false/);
    expect(nope.json.ok).toBe(false);
    // drift → 3
    const root = content();
    appendFileSync(join(root, "schema/domains/09_packages.sql"), "\n-- changed\nCREATE INDEX IF NOT EXISTS x ON packages(version);\n");
    const d = await cli(["gate", "--db", join(dir, "vox.db"), "--no-verify"], { env: { VOX_CUTOVER_ROOT: root } });
    expect(d.exitCode).toBe(3);
    expect(d.stdout).toMatch(/FAIL\s+ssot-drift\s+exit 3/);
    // drift 3 and verify 4 together → 4
    expect((await cli(["gate", "--db", join(dir, "vox.db")], { env: { VOX_CUTOVER_ROOT: root } })).exitCode).toBe(4);
  });

  it("news mismatch fails the gate (1) only when news is opted in", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    makeBaselineDb(db);
    sqlite(
      db,
      "INSERT INTO publication_manifests(publication_id, content_type, title, author, body_markdown, content_sha3_256, created_at_ms, updated_at_ms) VALUES ('p', 'a', 't', 'ann', 'body', 'bad', 1, 1)",
    );
    expect((await cli(["gate", "--db", db])).exitCode).toBe(0);
    expect((await cli(["gate", "--db", db, "--news"])).exitCode).toBe(1);
    expect((await cli(["gate", "--db", db], { env: { VOX_GATE_NEWS: "true" } })).exitCode).toBe(1);
  });
});
