import { beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, truncateSync, writeFileSync, copyFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { cli, fixtureDb, makeBaselineDb, snapshotDir, tmp } from "../helpers.js";

let dir: string;
const p = (n: string) => join(dir, n);

beforeAll(async () => {
  dir = tmp();
  makeBaselineDb(p("current.db"), [56, 58, 60]);
  makeBaselineDb(p("behind.db"), [56, 58]);
  makeBaselineDb(p("ahead.db"), [60, 61]);
  const e = fixtureDb(p("empty.db"));
  e.exec("CREATE TABLE schema_version(version INTEGER PRIMARY KEY, applied_at TEXT)");
  e.close();
  mkdirSync(p("legacy"), { recursive: true });
  const s = await cli(["sample", p("legacy/vox.db"), "--rows", "10"]);
  if (s.exitCode !== 0) throw new Error(`sample failed: ${s.stderr}`);
  const o = fixtureDb(p("othershape.db"));
  o.exec("CREATE TABLE schema_version(version TEXT, description TEXT); INSERT INTO schema_version VALUES ('60', 'baseline')");
  o.close();
  writeFileSync(p("junk.db"), "this is not a database at all, just text\n".repeat(200));
  mkdirSync(p("adir.db"));
  makeBaselineDb(p("trunc.db"));
  truncateSync(p("trunc.db"), Math.floor(statSync(p("trunc.db")).size / 2) + 100);
  const w = fixtureDb(p("wal.db"));
  w.exec("PRAGMA journal_mode=WAL; CREATE TABLE schema_version(version INTEGER PRIMARY KEY, applied_at TEXT); INSERT INTO schema_version VALUES (60, 'x');");
  w.close();
});

describe("diagnose names each chain from a real file", () => {
  it.each([
    ["missing.db", "missing", 0],
    ["empty.db", "empty", 0],
    ["current.db", "current", 0],
    ["behind.db", "behind", 0],
    ["ahead.db", "ahead", 0],
    ["legacy/vox.db", "legacy", 0],
    ["othershape.db", "legacy", 0],
    ["junk.db", "not-a-database", 1],
    ["adir.db", "not-a-database", 1],
    ["trunc.db", "not-a-database", 1],
  ])("%s → %s (exit %i), read-only", async (file, chain, code) => {
    const before = snapshotDir(dir);
    const r = await cli(["diagnose", "--db", p(file), "--json"]);
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

  it("legacy evidence: versions, unknown rows, unknown tables and columns, sidecar, next command", async () => {
    const r = await cli(["diagnose", "--db", p("legacy/vox.db"), "--json"]);
    expect(r.json.maxVersion).toBe(1001);
    expect(r.json.versions).toContain(17);
    expect(r.json.unknownVersions).toContain("51");
    expect(r.json.unknownTables).toEqual(expect.arrayContaining(["gamify_badges", "routing_scores"]));
    expect(r.json.unknownColumns).toEqual(expect.arrayContaining([{ table: "users", columns: ["karma"] }]));
    expect(r.json.sidecar.exists).toBe(true);
    expect(r.json.baseline.version).toBe(60);
    expect(r.json.baseline.digest).toMatch(/^0x[0-9a-f]{64}$/);
    expect(r.json.next.join("\n")).toMatch(/cutover/);
    expect(r.json.explanation).toMatch(/LegacySchemaChain/);
  });

  it("a WAL-mode file is read without creating -wal or -shm", async () => {
    const before = snapshotDir(dir);
    const r = await cli(["diagnose", "--db", p("wal.db"), "--json"]);
    expect(r.json.chain).toBe("current");
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("human output says which database and why, the chain and the next step", async () => {
    const r = await cli(["diagnose", "--db", p("behind.db")]);
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
    expect(r.json.requiredTables).toBeGreaterThan(70);
  });
  it.each([["legacy/vox.db"], ["ahead.db"]])("%s: exit 4 with the Stage 1 hint", async (f) => {
    const r = await cli(["verify", "--db", p(f)]);
    expect(r.exitCode).toBe(4);
    expect(r.stdout + r.stderr).toMatch(/LegacySchemaChain/);
  });
  it("names the missing required tables", async () => {
    const f = p("holes.db");
    makeBaselineDb(f);
    const db = fixtureDb(f);
    db.exec("DROP TABLE knowledge_edges; DROP TABLE users;");
    db.close();
    const r = await cli(["verify", "--db", f, "--json"]);
    expect(r.exitCode).toBe(1);
    expect(r.json.missingTables.sort()).toEqual(["knowledge_edges", "users"]);
    expect(r.stdout).toMatch(/required tables missing: .*knowledge_edges/);
  });
  it("behind and missing: exit 1 with the migrate hint", async () => {
    for (const f of ["behind.db", "missing2.db"]) {
      const r = await cli(["verify", "--db", p(f)]);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toMatch(/migrate/);
    }
  });
});
