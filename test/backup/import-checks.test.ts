/**
 * The import's last phases with the proof worker (issue 18, session 10). Once every table copied
 * inside SQLite is proven, the worker closes its connection so that the build leaves WAL (the index
 * builds, FTS rebuild and checks are written once). The checks' answers must be what the sqlite3
 * CLI (the independent reader) finds in the new file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeSync, openSync, readdirSync, readSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
// The proof worker is a built file: the import that starts it runs from dist/.
import { importBackup } from "../../dist/src/backup/import.js";
import { loadImporters } from "../../src/backup/importers.js";
import { loadBaselineContext } from "../../src/diagnose/diagnose.js";
import { cli, sampleInto, sqlite, tmp } from "../helpers.js";

let dir: string;
let db: string;
const backup = () => join(dir, "sample.jsonl");
const base = loadBaselineContext();

function importBeside(target: string, onChecking?: (building: string) => void) {
  process.env.VOX_CUTOVER_PROOF_WORKER_BYTES = "0"; // the worker at any size
  return importBackup({
    backupPath: backup(),
    targetPath: target,
    baselineSql: base.sql,
    baselineVersion: base.manifest.baselineVersion,
    history: base.policy.history,
    rules: loadImporters(),
    into: "target",
    source: db,
    onProgress: (p) => {
      if (p.phase !== "checking foreign keys and integrity" || !onChecking) return;
      const building = readdirSync(dir).filter((f) => f.startsWith(`.${basename(target)}.`) && !/-(wal|shm|journal)$/.test(f));
      expect(building).toHaveLength(1);
      onChecking(join(dir, building[0]!));
    },
  }).finally(() => delete process.env.VOX_CUTOVER_PROOF_WORKER_BYTES);
}

beforeAll(async () => {
  dir = tmp("vox-checks-");
  ({ db } = await sampleInto(dir, 10));
  const e = await cli(["export-legacy", backup(), "--db", db]);
  expect(e.exitCode, e.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the import's last phases with the proof worker", () => {
  it("leave WAL once every table is proven, and count the same foreign-key orphans as sqlite3's foreign_key_check", async () => {
    const target = join(dir, "beside.db");
    let header: number[] = [];
    let sides: string[] = [];
    const r = await importBeside(target, (building) => {
      // The worker's connection was closed, so the index builds, FTS rebuild and checks were written
      // once, without WAL. Read from the file's header, not through SQLite: bytes 18 and 19 are 1 in
      // a rollback-journal mode, 2 in WAL.
      const fd = openSync(building, "r");
      const head = Buffer.alloc(2);
      readSync(fd, head, 0, 2, 18);
      closeSync(fd);
      header = [...head];
      sides = readdirSync(dir).filter((f) => f.startsWith(basename(building)) && f !== basename(building));
    });
    expect(header).toEqual([1, 1]);
    expect(sides).toEqual([]);
    expect(r.integrity).toBe("ok");
    const cliCounts = sqlite(target, 'SELECT "table", count(*) FROM pragma_foreign_key_check GROUP BY 1 ORDER BY 1')
      .split("\n")
      .filter(Boolean)
      .map((l) => ({ table: l.split("|")[0]!, count: Number(l.split("|")[1]) }));
    expect(cliCounts.length).toBeGreaterThan(0); // the sample carries orphans
    expect([...r.foreignKeyViolations].sort((a, b) => a.table.localeCompare(b.table))).toEqual(cliCounts);
    expect(sqlite(target, "PRAGMA integrity_check")).toBe("ok");
  });
});
