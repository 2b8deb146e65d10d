import { beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, truncateSync, writeFileSync, copyFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { cli, fixtureDb, makeBaselineDb, makeVoxDb, sampleInto, snapshotDir, tmp } from "../helpers.js";

let dir: string;
const p = (n: string) => join(dir, n);

beforeAll(async () => {
  dir = tmp();
  makeVoxDb(p("current.db"), "66", [59, 60, 61, 62, 63, 64, 66]);
  makeVoxDb(p("behind.db"), "60", [59, 60]);
  makeVoxDb(p("ahead.db"), "66", [66, 67]);
  // vox's fold stamps 66 on a v64-shaped file without adding columns: current, but the structure drifted.
  makeVoxDb(p("drifted.db"), "66", [64, 66], "ALTER TABLE publication_approvals DROP COLUMN approver_role; DROP INDEX idx_a2a_ack_created;");
  makeVoxDb(p("ahead-partial.db"), "60", [60, 67]);
  makeVoxDb(p("adhoc.db"), "66", [66, 100, 101, 116]);
  makeVoxDb(p("extra.db"), "66", [66], "CREATE TABLE my_notes(id INTEGER PRIMARY KEY, t TEXT); INSERT INTO my_notes VALUES (1, 'x');");
  const e = fixtureDb(p("empty.db"));
  e.exec("CREATE TABLE schema_version(version INTEGER PRIMARY KEY, applied_at TEXT)");
  e.close();
  mkdirSync(p("legacy"), { recursive: true });
  await sampleInto(p("legacy"), 10); // the worker's sample, copied
  const o = fixtureDb(p("othershape.db"));
  o.exec("CREATE TABLE schema_version(version TEXT, description TEXT); INSERT INTO schema_version VALUES ('60', 'baseline')");
  o.close();
  writeFileSync(p("junk.db"), "this is not a database at all, just text\n".repeat(200));
  mkdirSync(p("adir.db"));
  makeBaselineDb(p("trunc.db"));
  truncateSync(p("trunc.db"), Math.floor(statSync(p("trunc.db")).size / 2) + 100);
  const w = fixtureDb(p("wal.db"));
  w.exec("PRAGMA journal_mode=WAL; CREATE TABLE schema_version(version INTEGER PRIMARY KEY, applied_at TEXT); INSERT INTO schema_version VALUES (66, 'x');");
  w.close();
});

/**
 * `diagnose --db FILE [--json]`, run once per file and mode: the chain table below runs each itself
 * (with its read-only check around it) and keeps the output; the tests after it that assert more of
 * the same output read that one process's (diagnose only reads, and these files do not change).
 */
const diagnosed = new Map<string, Promise<Awaited<ReturnType<typeof cli>>>>();
function diagnose(file: string, json = true): Promise<Awaited<ReturnType<typeof cli>>> {
  const key = `${file}${json ? " --json" : ""}`;
  let r = diagnosed.get(key);
  if (!r) {
    r = cli(["diagnose", "--db", p(file), ...(json ? ["--json"] : [])]);
    diagnosed.set(key, r);
  }
  return r;
}

/** The cutover's dry-run of legacy/vox.db (its plan and trial import), shared by the two tests that read it. */
let legacyPlan: Promise<Awaited<ReturnType<typeof cli>>> | undefined;
const legacyDryRun = () => (legacyPlan ??= cli(["cutover", "--db", p("legacy/vox.db"), "--json"]));

describe("diagnose names each chain from a real file", () => {
  it.each([
    ["missing.db", "missing", 0],
    ["empty.db", "empty", 0],
    ["current.db", "current", 0],
    ["behind.db", "behind", 0],
    ["ahead.db", "ahead", 0],
    ["drifted.db", "current", 0],
    ["ahead-partial.db", "legacy", 0],
    ["adhoc.db", "legacy", 0],
    ["legacy/vox.db", "legacy", 0],
    ["othershape.db", "legacy", 0],
    ["junk.db", "not-a-database", 1],
    ["adir.db", "not-a-database", 1],
    ["trunc.db", "not-a-database", 1],
  ])("%s → %s (exit %i), read-only", async (file, chain, code) => {
    const before = snapshotDir(dir);
    const r = await cli(["diagnose", "--db", p(file), "--json"]);
    diagnosed.set(`${file} --json`, Promise.resolve(r));
    expect(r.exitCode, r.stderr).toBe(code);
    expect(r.json.chain).toBe(chain);
    expect(r.json.command).toBe("diagnose");
    expect(r.json.mode).toBe("read");
    expect(r.json.db).toEqual({ path: p(file), source: "--db" });
    expect(typeof r.json.durationMs).toBe("number");
    if (code === 0) {
      for (const k of ["maxVersion", "versions", "baseline", "tables", "totalRows", "explanation", "next"]) expect(r.json, k).toHaveProperty(k);
      expect(r.json.explanation.length).toBeGreaterThan(20);
    } else {
      expect(r.stderr).toMatch(/not-a-database/);
      expect(r.stderr).toMatch(/left untouched/);
      expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace
    }
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("legacy evidence: versions, unknown rows, kept tables and columns, sidecar, next command", async () => {
    const r = await diagnose("legacy/vox.db");
    expect(r.json.chain).toBe("legacy");
    expect(r.json.unknownVersions.length).toBeGreaterThan(0);
    expect(r.json.sidecar.exists).toBe(true);
    expect(r.json.baseline.version).toBe(66);
    expect(r.json.baseline.origin).toBe("bundled vox baseline 66");
    expect(r.json.baseline.digest).toMatch(/^0x[0-9a-f]{64}$/);
    expect(r.json.next.join("\n")).toMatch(/cutover/);
    expect(r.json.explanation).toMatch(/LegacySchemaChain/);
  });

  it("row totals agree between diagnose, export-legacy and the cutover's plan (sqlite_sequence counted apart everywhere)", async () => {
    const d = await diagnose("legacy/vox.db");
    const e = await cli(["export-legacy", join(dir, "totals.jsonl"), "--db", p("legacy/vox.db"), "--json"]);
    expect(e.exitCode, e.stderr).toBe(0);
    const c = await legacyDryRun();
    expect(c.exitCode, c.stderr).toBe(0);
    expect(d.json.sequences).toBeGreaterThan(0);
    expect(e.json.totalRows).toBe(d.json.totalRows);
    expect(e.json.sequences).toBe(d.json.sequences);
    expect(c.json.trial.rowsIn).toBe(d.json.totalRows);
    expect(c.json.trial.sequences.entries).toBe(d.json.sequences);
    expect(c.json.tables.reduce((n: number, t: any) => n + t.rowsBefore, 0)).toBe(d.json.totalRows);
    // The backup's header records the chain and highest version diagnose gives (export-legacy reads the chain only).
    const { readFileSync, rmSync } = await import("node:fs");
    const head = JSON.parse(readFileSync(join(dir, "totals.jsonl"), "utf8").split("\n", 1)[0]!);
    expect([head.chain, head.maxVersion]).toEqual([d.json.chain, d.json.maxVersion]);
    expect(e.json.chain).toBe(d.json.chain);
    rmSync(join(dir, "totals.jsonl"));
  });

  it("says what the cutover will do with each thing it lists: the user's own tables go to legacy_quarantine on the rebuild route, carried on a repair", async () => {
    const r = await diagnose("legacy/vox.db", false);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).not.toMatch(/kept \(not in the target\)/);
    expect(r.stdout).toMatch(
      /^tables not in the target: .*user_bookmarks.* — kept in legacy_quarantine: the rebuild moves every row there \(reason unknown-table\)/m,
    );
    expect(r.stdout).toMatch(/^ {2}user_bookmarks +[\d,]+ +\(not in the target: its rows go to legacy_quarantine\)$/m);
    expect(r.stdout).toMatch(/^sidecar: .* — Stage 2 backs it up, merges/m);
    // and that is what the cutover's plan (its trial import) does with them
    const c = await legacyDryRun();
    const ub = c.json.tables.find((t: any) => t.name === "user_bookmarks");
    expect(ub).toMatchObject({ target: null, rowsAfter: 0, quarantined: ub.rowsBefore });
    const e = await diagnose("extra.db", false);
    expect(e.stdout).toMatch(/^tables not in the target: my_notes — kept: carried into the copy with its rows as they are/m);
  });

  it("the structure verdict agrees with the fingerprints it prints", async () => {
    for (const f of ["current.db", "extra.db", "adhoc.db", "drifted.db"]) {
      const r = await diagnose(f, false);
      const m = /^structure: (.*)\(fingerprint ([0-9a-f]{16})…, target ([0-9a-f]{16})…\)(.*)$/m.exec(r.stdout);
      expect(m, `${f}: ${r.stdout}`).not.toBeNull();
      const [, head, fp, target, tail] = m!;
      if (fp === target) expect(head, f).toBe("identical to the target ");
      else {
        expect(head + tail, f).not.toMatch(/identical|matches/);
        expect(head + tail, f).toMatch(/differ/);
      }
    }
  });

  it("ad-hoc apply_migrations rows on a vox 66 file: legacy, naming 100, 101 and 116; the structure still matches", async () => {
    const r = await diagnose("adhoc.db");
    expect(r.json.unknownVersions).toEqual(["100", "101", "116"]);
    expect(r.json.structure.equal).toBe(true);
  });

  it("vox 66 with its structure: current, structure equal, fingerprint of the target, nothing to do", async () => {
    const r = await diagnose("current.db");
    expect(r.json.structure.equal).toBe(true);
    expect(r.json.structure.fingerprint).toBe(r.json.structure.targetFingerprint);
    expect(r.json.structure.differences).toEqual([]);
    expect(r.json.explanation).toMatch(/nothing to migrate/);
    expect(r.json.missingTables).toEqual([]); // our own bookkeeping tables are not vox's: never "missing"
  });

  it("a current file whose structure drifted: each difference named, repair in a copy offered; vox 60 lists what 66 adds", async () => {
    const r = await diagnose("drifted.db");
    expect(r.json.structure.equal).toBe(false);
    expect(r.json.structure.differences).toEqual(
      expect.arrayContaining([
        { table: "publication_approvals", missingColumns: ["approver_role"] },
        { table: "a2a_messages", missingIndexes: ["idx_a2a_ack_created"] },
      ]),
    );
    expect(r.json.explanation).toMatch(/repaired after a verified backup, in a copy beside the file that is then swapped in/);
    expect(r.json.next.join(" ")).toMatch(/migrate/);
    const h = await diagnose("drifted.db", false);
    expect(h.stdout).toMatch(/structure: differs from the target/);
    expect(h.stdout).toMatch(/publication_approvals: columns missing: approver_role/);
    const b = await diagnose("behind.db");
    expect(b.json.structure.differences).toEqual(
      expect.arrayContaining([
        { table: "publication_approvals", missingColumns: ["approver_role", "critic_fingerprint_json", "critic_report_uri"] },
        { table: "vcs_lock", missing: true },
      ]),
    );
  });

  it("ahead points at the operator's vox (--target-schema vox), not at an upgrade that does not exist", async () => {
    const r = await diagnose("ahead.db");
    expect(r.json.next.join(" ")).toMatch(/--target-schema vox/);
    expect(r.json.explanation).not.toMatch(/upgrade vox-cutover/i);
  });

  // A WAL-mode file is read with SQLite's own locking (never immutable=1: another process may write
  // it meanwhile), so SQLite may make the -shm (its shared wal-index) and an empty -wal beside it, as
  // every SQLite reader does; no byte of the database changes and no row is written.
  it("a WAL-mode file is read with SQLite's locking: its bytes stay the same, anything made beside it is an empty -wal and the -shm", async () => {
    const before = snapshotDir(dir);
    const r = await cli(["diagnose", "--db", p("wal.db"), "--json"]);
    expect(r.json.chain).toBe("current");
    const after = snapshotDir(dir);
    for (const [f, h] of Object.entries(before)) expect(after[f], f).toBe(h);
    const made = Object.keys(after).filter((f) => !(f in before));
    expect(
      made.every((f) => f === "wal.db-shm" || f === "wal.db-wal"),
      made.join(", "),
    ).toBe(true);
    if (made.includes("wal.db-wal")) expect(statSync(p("wal.db-wal")).size).toBe(0);
  });

  it("human output says which database and why, the chain and the next step", async () => {
    const r = await diagnose("behind.db", false);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(`database: ${p("behind.db")} (given with --db)`);
    expect(r.stdout).toMatch(/chain: behind/);
    expect(r.stdout).toMatch(/vox-cutover migrate/);
  });

  it("an unreadable copy of a good file stays byte-identical", async () => {
    copyFileSync(p("current.db"), p("copy.db"));
    const before = snapshotDir(dir);
    await cli(["diagnose", "--db", p("copy.db")]);
    await cli(["verify", "--db", p("copy.db")]);
    expect(snapshotDir(dir)).toEqual(before);
  });
});

describe("verify", () => {
  it("current: exit 0, baseline integer and digest, all required tables", async () => {
    const r = await cli(["verify", "--db", p("current.db"), "--json"]);
    expect(r.exitCode).toBe(0);
    expect(r.json.ok).toBe(true);
    expect(r.json.digest).toMatch(/^0x/);
    expect(r.json.requiredTables).toBe(191); // vox 66's 189 tables and its two FTS5 tables
    expect(r.stderr).toMatch(/structure: equal to the target/);
    expect(r.json.structure.equal).toBe(true);
  });
  it.each([["legacy/vox.db"], ["ahead.db"]])("%s: exit 4 with the Stage 1 hint", async (f) => {
    const r = await cli(["verify", "--db", p(f)]);
    expect(r.exitCode).toBe(4);
    expect(r.stdout + r.stderr).toMatch(/LegacySchemaChain/);
  });
  it("names the missing required tables", async () => {
    const f = p("holes.db");
    makeVoxDb(f, "66", [66], "DROP TABLE knowledge_edges; DROP TABLE users;");
    const r = await cli(["verify", "--db", f, "--json"]);
    expect(r.exitCode).toBe(1);
    expect(r.json.missingTables.sort()).toEqual(["knowledge_edges", "users"]);
    expect(r.stdout).toMatch(/required tables missing: .*knowledge_edges/);
  });
  it("behind, missing and a drifted current file: exit 1 with the migrate hint", async () => {
    for (const f of ["behind.db", "missing2.db", "drifted.db"]) {
      const r = await cli(["verify", "--db", p(f)]);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toMatch(/migrate/);
    }
  });
});
