/**
 * A 0-byte vox.db is what SQLite and vox take it for: an empty database (vox puts its baseline on it).
 * diagnose, cutover and migrate said "empty"; export-legacy, verify-backup, drill, news-check, ledger
 * and rehearse said "cannot be opened as a database … restore it from a backup" (1). Each command now
 * answers a 0-byte file as it answers an empty database with a header page, and leaves it 0 bytes.
 */
import { describe, expect, it } from "vitest";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, sha256, sqlite, tmp } from "../helpers.js";
import { execaSync } from "execa";

function emptyDb(kind: "zero" | "page"): { dir: string; db: string } {
  const dir = join(tmp(), kind);
  mkdirSync(dir);
  const db = join(dir, "vox.db");
  if (kind === "zero") writeFileSync(db, "");
  else sqlite(db, "PRAGMA user_version=0; VACUUM;"); // a header page, no table (the sqlite3 CLI)
  return { dir, db };
}

describe("a 0-byte database file is an empty database", () => {
  it("export-legacy, verify-backup, drill, news-check, ledger and rehearse answer it as an empty database with a header page, and leave it 0 bytes", async () => {
    const zero = emptyDb("zero");
    const page = emptyDb("page");
    expect(statSync(page.db).size).toBeGreaterThan(0);
    const codes = async ({ dir, db }: { dir: string; db: string }) => {
      const out: Record<string, number> = {};
      const backup = join(dir, "b.jsonl");
      for (const args of [["export-legacy", backup], ["verify-backup", backup], ["drill"], ["news-check"], ["ledger"], ["rehearse"]]) {
        const r = await cli([...args, "--db", db]);
        expect(r.stderr, `${args[0]}`).not.toMatch(/cannot be opened as a database|Unexpected failure/);
        out[args[0]!] = r.exitCode;
      }
      return out;
    };
    const z = await codes(zero);
    expect(z).toEqual({ "export-legacy": 0, "verify-backup": 0, drill: 0, "news-check": 0, ledger: 0, rehearse: 0 });
    expect(z).toEqual(await codes(page));
    expect(statSync(zero.db).size).toBe(0);
  }, 60_000);

  it("a 0-byte sidecar is an empty one: `sidecar` shows no tables, and --apply --merge backs it up and archives it as it is (0 bytes), as the cutover's Stage 2 does", async () => {
    const { dir, db } = emptyDb("zero");
    expect((await cli(["migrate", "--db", db, "--apply"])).exitCode).toBe(0); // the baseline: current
    const sidecar = join(dir, "vox_training_telemetry.db");
    writeFileSync(sidecar, "");
    const dry = await cli(["sidecar", "--db", db]);
    expect(dry.exitCode, dry.stderr).toBe(0); // it said "cannot be opened as a database … restore it from a backup" (1)
    expect(dry.stdout).toMatch(/the sidecar has no tables: nothing to merge/);
    const r = await cli(["sidecar", "--db", db, "--apply", "--merge", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(sidecar)).toBe(false);
    expect(statSync(r.json.archive.path).size).toBe(0);
  }, 60_000);

  it("with a -wal beside it that holds bytes, no command opens it: SQLite would delete the -wal, the only copy of its writes (helper-106)", async () => {
    const { dir, db } = emptyDb("zero");
    const src = join(dir, "src.db");
    // A real WAL (python3's sqlite3), kept aside before its database checkpoints it.
    execaSync("python3", [
      "-c",
      "import sqlite3,shutil,sys\nc=sqlite3.connect(sys.argv[1])\nc.execute('PRAGMA journal_mode=WAL')\nc.execute('CREATE TABLE t(x)')\nc.execute('INSERT INTO t VALUES (1)')\nc.commit()\nshutil.copy(sys.argv[1] + '-wal', sys.argv[2])",
      src,
      `${db}-wal`,
    ]);
    const wal = sha256(`${db}-wal`);
    expect(statSync(`${db}-wal`).size).toBeGreaterThan(0);
    for (const args of [["ledger"], ["diagnose"], ["export-legacy", join(dir, "b.jsonl")], ["cutover", "--apply"], ["migrate", "--apply"]]) {
      const r = await cli([...args, "--db", db]);
      expect(r.exitCode, `${args[0]}: ${r.stderr}`).not.toBe(0);
      expect(r.stderr, args[0]).toMatch(/it is empty \(0 bytes\), but vox\.db-wal beside it holds \d+ bytes/);
      expect(sha256(`${db}-wal`), args[0]).toBe(wal);
    }
    expect(statSync(db).size).toBe(0);
  }, 60_000);
});
