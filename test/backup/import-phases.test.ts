/** The import says what it is doing: rows, then rebuilding indexes, then checking (the wizard shows it instead of a stuck "99 %"). */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { importBackup } from "../../src/backup/import.js";
import { loadBaselineContext } from "../../src/diagnose/diagnose.js";
import { cli, makeVoxDb, sqlite, tmp } from "../helpers.js";

describe("import progress phases", () => {
  it("reports copying rows, then rebuilding indexes, then checking, in that order, with the row count complete", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    const rows = Array.from({ length: 20_000 }, (_, i) => `('u${i}', 'User ${i}')`).join(",");
    makeVoxDb(db, "60", [59, 60, 100], `INSERT INTO users (id, display_name) VALUES ${rows};`);
    const base = loadBaselineContext();
    const backup = join(dir, "b.jsonl");
    // The export runs in its own process (its writer is a worker thread built to dist/).
    const e = await cli(["export-legacy", backup, "--db", db]);
    expect(e.exitCode, e.stderr).toBe(0);
    const seen: { phase?: string; done: number; total: number }[] = [];
    await importBackup({
      backupPath: backup,
      targetPath: join(dir, "new.db"),
      baselineSql: base.sql,
      baselineVersion: 66,
      history: base.policy.history,
      rules: new Map(),
      into: "target",
      onProgress: (p) => seen.push({ phase: p.phase, done: p.rowsDone, total: p.totalRows }),
    });
    const phases = seen.map((s) => s.phase).filter((p, i, a) => p !== a[i - 1]);
    expect(phases).toEqual(["copying rows into the new file", "rebuilding indexes", "checking foreign keys and integrity"]);
    const last = seen.at(-1)!;
    expect(last.done).toBe(last.total);
    expect(sqlite(join(dir, "new.db"), "SELECT count(*) FROM users")).toBe("20000");
  });
});
