/**
 * The wizard's engine thread starts only the workers it cannot do without (src/ui/worker.ts →
 * engineBesideScreens, issue 18: the wizard's peak RSS): its builds prove their copied tables on
 * their own thread, and whole-file hashes are taken on this thread. The commands keep those workers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
// The proof worker is a built file: the import that starts it runs from dist/, with dist's switch.
import { importBackup } from "../../dist/src/backup/import.js";
import { engineBesideScreens } from "../../dist/src/util/worker.js";
import { HashOfRead } from "../../dist/src/util/file-hash-beside.js";
import { baselineImport } from "../fixtures/baseline-import.js";
import { cli, sampleInto, sqlite, sha3sums, tmp } from "../helpers.js";

let dir: string;
let db: string;
beforeAll(async () => {
  dir = tmp("vox-spare-");
  ({ db } = await sampleInto(dir, 10));
  const e = await cli(["export-legacy", join(dir, "sample.jsonl"), "--db", db]);
  expect(e.exitCode, e.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => engineBesideScreens(false));

/** Imports the sample's backup with the proof worker at any size; whether the build file had a WAL while tables were copied inside SQLite (the proof worker's mode). */
async function build(target: string): Promise<{ wal: boolean; integrity: string }> {
  let wal = false;
  process.env.VOX_CUTOVER_PROOF_WORKER_BYTES = "0";
  try {
    const r = await importBackup({
      backupPath: join(dir, "sample.jsonl"),
      targetPath: target,
      ...baselineImport(),
      source: db,
      onProgress: (p) => {
        if (p.phase !== "copying tables inside SQLite") return;
        wal ||= readdirSync(dir).some((f) => f.startsWith(`.${basename(target)}.`) && f.endsWith("-wal"));
      },
    });
    return { wal, integrity: r.integrity };
  } finally {
    delete process.env.VOX_CUTOVER_PROOF_WORKER_BYTES;
  }
}

describe("engineBesideScreens", () => {
  it("turns the whole-file hash worker off for this thread, and back on", () => {
    process.env.VOX_CUTOVER_HASH_BESIDE_BYTES = "0"; // any size
    try {
      const beside = () => new HashOfRead(join(dir, "sample.jsonl"), true, 0).beside;
      expect(beside()).toBe(true);
      engineBesideScreens(true);
      expect(beside()).toBe(false);
      engineBesideScreens(false);
      expect(beside()).toBe(true);
    } finally {
      delete process.env.VOX_CUTOVER_HASH_BESIDE_BYTES;
    }
  });

  it("proves the build's copied tables on the importing thread (no WAL for a worker to read): the same new file", async () => {
    const withWorker = await build(join(dir, "worker.db"));
    engineBesideScreens(true);
    const alone = await build(join(dir, "alone.db"));
    expect(withWorker).toEqual({ wal: true, integrity: "ok" });
    expect(alone).toEqual({ wal: false, integrity: "ok" });
    // Every table's content alike (the independent reader), but the run's own rows (ledger, applied_at).
    const tables = sqlite(
      join(dir, "worker.db"),
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' AND name NOT IN ('cutover_ledger', 'schema_version', 'legacy_quarantine') ORDER BY 1",
    ).split("\n");
    const sums = (f: string) => sha3sums(f, tables);
    expect(sums(join(dir, "alone.db"))).toEqual(sums(join(dir, "worker.db")));
    expect(existsSync(join(dir, "alone.db-wal"))).toBe(false);
    expect(sqlite(join(dir, "alone.db"), "PRAGMA integrity_check")).toBe("ok");
  });
});
