/**
 * A cut-over file cut over again with the sidecar put back from the first run's archive: Stage 2
 * adds no conflict row twice (insertUnlessHeld), and its step summary and warning say so instead of
 * claiming the conflicts were put in legacy_quarantine now. Judged with sqlite3's count(*).
 */
import { describe, expect, it } from "vitest";
import { copyFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { cli, sqlite, tmp } from "../helpers.js";

describe("cutover again, sidecar put back: Stage 2's words", () => {
  it("name the conflicts held already and store none twice", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    expect((await cli(["sample", db, "--rows", "12"])).exitCode).toBe(0);
    const first = await cli(["cutover", "--db", db, "--apply", "--json"]);
    expect(first.exitCode, first.stderr).toBe(0);
    const held = Number(sqlite(db, "SELECT count(*) FROM legacy_quarantine WHERE reason = 'sidecar-conflict'"));
    expect(held).toBeGreaterThan(0);
    const runs = join(dir, "vox-cutover-runs");
    copyFileSync(join(runs, readdirSync(runs).sort()[0]!, "archive", "vox_training_telemetry.db"), join(dir, "vox_training_telemetry.db"));
    sqlite(db, "INSERT INTO schema_version(version, applied_at) VALUES (23, '2026-12-01')"); // legacy again
    const r = await cli(["cutover", "--db", db, "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(Number(sqlite(db, "SELECT count(*) FROM legacy_quarantine WHERE reason = 'sidecar-conflict'"))).toBe(held);
    const step = (r.json.steps as { id: string; summary: string; warnings?: string[] }[]).find((s) => s.id === "sidecar")!;
    expect(step.summary).toContain(`${held} conflict(s) quarantined (${held} of them there already from an earlier merge, not stored twice)`);
    expect(step.warnings).toEqual([
      `${held} sidecar conflict(s) put in legacy_quarantine (${held} of them there already from an earlier merge, not stored twice)`,
    ]);
  }, 120_000);
});
