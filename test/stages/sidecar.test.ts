import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { cli, fixtureDb, makeBaselineDb, sha256, snapshotDir, sqlite, tmp } from "../helpers.js";

/** A current canonical DB and a sidecar beside it with present, new and conflicting rows. */
function setup(): { dir: string; db: string; side: string } {
  const dir = tmp();
  const db = join(dir, "vox.db");
  makeBaselineDb(db);
  const c = fixtureDb(db);
  c.exec(`INSERT INTO training_runs(run_id, model, status) VALUES ('r1', 'm', 'done'), ('r2', 'm', 'done'), ('r3', 'm', 'done');
          INSERT INTO training_step_metrics(run_id, step, loss, ts_ms) VALUES ('r1', 0, 3.0, 1736933400000);`);
  c.close();
  const side = join(dir, "vox_training_telemetry.db");
  const s = fixtureDb(side);
  s.exec(`CREATE TABLE schema_version(version INTEGER PRIMARY KEY, applied_at TEXT); INSERT INTO schema_version VALUES (1, 'x');
          CREATE TABLE training_runs (run_id TEXT PRIMARY KEY NOT NULL, model TEXT NOT NULL, config_json TEXT, status TEXT NOT NULL DEFAULT 'running', started_at TEXT, finished_at TEXT);
          CREATE TABLE training_step_metrics (run_id TEXT NOT NULL, step INTEGER NOT NULL, loss REAL, learning_rate REAL, steps_per_sec REAL, ts_ms INTEGER NOT NULL, PRIMARY KEY (run_id, step));
          CREATE TABLE old_probe (x);
          INSERT INTO old_probe VALUES (1), (2);
          INSERT INTO training_runs(run_id, model, status) VALUES ('r1', 'm', 'done'), ('r2', 'OTHER', 'done'), ('r4', 'm', 'done'), ('r5', 'm', 'running');
          INSERT INTO training_step_metrics(run_id, step, loss, ts_ms) VALUES ('r1', 0, 3.0, 1736933400000), ('r1', 1, 2.5, 1736933401000), ('r4', 0, 9007199254740993, 1736933402000);`);
  s.close();
  return { dir, db, side };
}

describe("sidecar (Stage 2)", () => {
  it("dry-run counts held, present, missing and conflicting rows, and changes nothing", async () => {
    const { dir, db } = setup();
    const before = snapshotDir(dir);
    const r = await cli(["sidecar", "--db", db, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.mode).toBe("dry-run");
    expect(r.json.sidecar.path).toBe(join(dir, "vox_training_telemetry.db"));
    const t = Object.fromEntries(r.json.tables.map((x: any) => [x.name, x]));
    expect(t.training_runs).toMatchObject({ rows: 4, present: 1, merged: 2, conflicts: 1 });
    expect(t.training_step_metrics).toMatchObject({ rows: 3, present: 1, merged: 2, conflicts: 0 });
    expect(t.old_probe).toMatchObject({ rows: 2, mergeable: false });
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("--apply --merge: verified backup, rows copied in one transaction, conflicts quarantined, archive byte-identical, ledger row; a second run is a no-op", async () => {
    const { dir, db, side } = setup();
    const orig = sha256(side);
    const work = join(dir, "work");
    const r = await cli(["sidecar", "--db", db, "--apply", "--merge", "--work-dir", work, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(side)).toBe(false);
    expect(r.json.archive.path).toBe(join(work, "archive", "vox_training_telemetry.db"));
    expect(sha256(r.json.archive.path)).toBe(orig);
    expect(r.json.backup.verified).toBe(true);
    expect((await cli(["verify-backup", r.json.backup.path, "--db", r.json.archive.path])).exitCode).toBe(0);
    expect(sqlite(db, "SELECT group_concat(run_id) FROM (SELECT run_id FROM training_runs ORDER BY run_id)")).toBe("r1,r2,r3,r4,r5");
    expect(sqlite(db, "SELECT model FROM training_runs WHERE run_id = 'r2'")).toBe("m");
    expect(sqlite(db, "SELECT loss, typeof(loss) FROM training_step_metrics WHERE run_id = 'r4'")).toBe("9.00719925474099e+15|real");
    expect(sqlite(db, "SELECT reason, source_table FROM legacy_quarantine")).toBe("sidecar-conflict|vox_training_telemetry.db:training_runs");
    expect(JSON.parse(sqlite(db, "SELECT row_json FROM legacy_quarantine")).model).toBe("OTHER");
    expect(sqlite(db, "SELECT command FROM cutover_ledger")).toBe("sidecar");
    const again = await cli(["sidecar", "--db", db, "--apply", "--merge", "--json"]);
    expect(again.exitCode).toBe(0);
    expect(again.json.changed).toBe(false);
    expect(again.stdout + again.stderr).toMatch(/archived by run/);
    expect(sqlite(db, "SELECT count(*) FROM cutover_ledger")).toBe("1");
  });

  it("--apply without --merge only archives (never deletes)", async () => {
    const { dir, db, side } = setup();
    const orig = sha256(side);
    const r = await cli(["sidecar", "--db", db, "--apply", "--work-dir", join(dir, "w"), "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(sha256(r.json.archive.path)).toBe(orig);
    expect(sqlite(db, "SELECT count(*) FROM training_runs")).toBe("3");
  });

  it("refuses (exit 3) while the primary is legacy, touching nothing", async () => {
    const dir = tmp();
    await cli(["sample", join(dir, "vox.db"), "--rows", "5"]);
    const before = snapshotDir(dir);
    const r = await cli(["sidecar", "--db", join(dir, "vox.db"), "--apply", "--merge"]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/Stage 1 first|cutover/);
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("a corrupt sidecar: exit 1, untouched", async () => {
    const { dir, db, side } = setup();
    const { writeFileSync } = await import("node:fs");
    writeFileSync(side, "garbage".repeat(200));
    const before = snapshotDir(dir);
    const r = await cli(["sidecar", "--db", db, "--apply"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/not-a-database/);
    expect(snapshotDir(dir)).toEqual(before);
  });
});
