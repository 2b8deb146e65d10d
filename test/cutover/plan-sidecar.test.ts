/**
 * The cutover's plan digest binds the sidecar it compared: Stage 2 merges and archives that file, so a
 * sidecar written to (or added) after the dry-run is another plan, and `--apply --plan` of the reviewed
 * one refuses (3) with nothing changed, instead of merging and quarantining rows the dry-run never showed.
 */
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { cli, sampleInto, sha256, sqlite, tmp } from "../helpers.js";

describe("cutover --plan and the sidecar", () => {
  it("refuses the reviewed plan when the sidecar changed since the dry-run; the new plan's numbers are the apply's", async () => {
    const { dir, db, orig } = await sampleInto(tmp("vox-plan-sidecar-"));
    const side = join(dir, "vox_training_telemetry.db");
    const dry = await cli(["cutover", "--db", db, "--json"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    // Every sidecar row of local_train_log now differs from the primary's: conflicts the dry-run did not show.
    sqlite(side, "UPDATE local_train_log SET preset = 'written after the dry-run'");
    const sideNow = sha256(side);
    const stale = await cli(["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest, "--json"]);
    expect(stale.exitCode, stale.stderr).toBe(3);
    expect(sha256(db)).toBe(orig);
    expect(sha256(side)).toBe(sideNow);
    expect(existsSync(side)).toBe(true);

    const dry2 = await cli(["cutover", "--db", db, "--json"]);
    expect(dry2.exitCode, dry2.stderr).toBe(0);
    expect(dry2.json.planDigest).not.toBe(dry.json.planDigest);
    const apply = await cli(["cutover", "--db", db, "--apply", "--plan", dry2.json.planDigest, "--json"]);
    expect(apply.exitCode, apply.stderr).toBe(0);
    const ltl = (j: any) => j.sidecar.tables.find((t: any) => t.name === "local_train_log");
    expect({ merged: ltl(apply.json).merged, conflicts: ltl(apply.json).conflicts }).toEqual({
      merged: ltl(dry2.json).merged,
      conflicts: ltl(dry2.json).conflicts,
    });
    expect(apply.json.quarantinedParts).toEqual(dry2.json.quarantinedParts);
    const conflicts = Number(sqlite(db, "SELECT count(*) FROM legacy_quarantine WHERE reason LIKE 'sidecar-conflict%'"));
    expect(conflicts).toBe(dry2.json.quarantinedParts.sidecarConflicts);
  });
});
