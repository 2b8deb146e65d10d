/**
 * The cutover dry-run's quarantine number when the sidecar is put back from its archive (docs: a merge run
 * again): the rows an earlier merge put in legacy_quarantine are not added again by the apply (heldAlready),
 * so the dry-run does not count them either, and Stage 2's words say they were there already. Judged
 * against the apply and sqlite3's count(*).
 */
import { describe, expect, it } from "vitest";
import { copyFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { cli, sampleInto, sqlite, tmp } from "../helpers.js";

describe("cutover dry-run: a sidecar merged before, put back from its archive", () => {
  it("predicts what the apply reports and what legacy_quarantine holds", async () => {
    const { dir, db } = await sampleInto(tmp(), 12);
    const first = await cli(["cutover", "--db", db, "--apply", "--json"]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.json.quarantineTable.byReason["sidecar-conflict"]).toBeGreaterThan(0);
    const runs = join(dir, "vox-cutover-runs");
    copyFileSync(join(runs, readdirSync(runs)[0]!, "archive", "vox_training_telemetry.db"), join(dir, "vox_training_telemetry.db"));
    sqlite(db, "DELETE FROM schema_version WHERE version = 66"); // behind (baseline 60): a fold, then Stage 2 again
    const dry = await cli(["cutover", "--db", db, "--json"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const r = await cli(["cutover", "--db", db, "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(Number(sqlite(db, "SELECT count(*) FROM legacy_quarantine"))).toBe(first.json.quarantineTable.rows);
    expect(r.json.quarantineTable).toEqual(first.json.quarantineTable);
    expect(dry.json.quarantineTable).toEqual(r.json.quarantineTable);
    expect([dry.json.quarantined, dry.json.quarantinedParts]).toEqual([r.json.quarantined, r.json.quarantinedParts]);
    // Stage 2's words say the conflicts were there already, not put in legacy_quarantine now (as the sidecar command says).
    const held = first.json.quarantineTable.byReason["sidecar-conflict"];
    const step = (r.json.steps as { id: string; summary: string; warnings?: string[] }[]).find((s) => s.id === "sidecar")!;
    expect(step.summary).toContain(`${held} conflict(s) quarantined (${held} of them there already from an earlier merge, not stored twice)`);
    expect(step.warnings).toEqual([
      `${held} sidecar conflict(s) put in legacy_quarantine (${held} of them there already from an earlier merge, not stored twice)`,
    ]);
  }, 120_000);
});
