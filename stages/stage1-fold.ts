/**
 * Stage 1 for the other chains. Every change is a swap: `behind` (and a `current` file whose
 * structure drifted, an `empty` file holding tables) is folded in a copy beside the file after the
 * same verified backup (src/migrate/fold-copy.ts), then swapped in by the rebuild's own swap step (the
 * original archived, a rollback a rename). An `empty` file without tables gets the baseline (no
 * row to lose); `current` has nothing to do; `ahead` is refused.
 */
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { applyMigration, planMigration } from "../src/migrate/migrate.js";
import { buildFoldedCopy } from "../src/migrate/fold-copy.js";
import { assertRecorded, recordFile, recordMismatch } from "../src/safety/runfiles.js";
import { exportStep, ledgerStep, swapStep, unchangedStep, verifyStep } from "./stage1-legacy.js";
import { formatCount } from "../src/util/count.js";
import { defineStep, type Step } from "./types.js";
import { assertStillPlannedFile } from "./stage0-preconditions.js";
import { pausePoint } from "../src/engine/testhooks.js";

const foldStep: Step = defineStep({
  id: "fold",
  stage: 1,
  kind: "write",
  title: "Fold a copy beside the file",
  describe: (c) => {
    const plan = planMigration(c.diagnosis, c.base);
    return `copy ${basename(c.dbPath)} to ${basename(c.newPath)} beside it (VACUUM INTO, one read transaction: page size, auto-vacuum, encoding, journal mode, user_version and application_id kept; the primary is not written), check the copy equals the verified backup, fold the copy in one transaction (${plan.steps
      .filter((s) => s.sql.length > 0)
      .map((s) => s.id)
      .join(", ")}), check it (integrity_check, structure equals the target, every backed-up table's rows and values kept)`;
  },
  reuse: "check",
  reusable: (c, o) => existsSync(c.newPath) && recordMismatch(c.newPath, o.file) === null,
  async run(c) {
    const plan = planMigration(c.diagnosis, c.base);
    const exp = c.outputs.need("export");
    // The backup is the file the export made (and verified).
    assertRecorded("the backup", c.backupPath, exp.file, { inodeOnly: true });
    const r = await c.token.shield(() =>
      buildFoldedCopy({
        dbPath: c.dbPath,
        newPath: c.newPath,
        workDir: c.workDir,
        backupPath: c.backupPath,
        backupSha256: c.outputs.get("verify-backup")?.sha256 ?? exp.sha256,
        plan,
        targetFacts: c.base.facts,
        onPhase: (phase) => c.emit({ type: "step-progress", id: "fold", done: 0, total: 0, phase }),
        afterCopy: () => pausePoint("fold-copied"),
      }),
    );
    const kept = r.tables.filter((t) => t.unchanged).length;
    return {
      summary: `${basename(c.newPath)} folded to baseline ${plan.toVersion}: integrity ok, ${formatCount(kept)} of ${formatCount(r.tables.length)} backed-up tables unchanged, ${formatCount(r.added)} row(s) added by the fold (seed and version rows), settings kept (page size ${r.settings.pageSize}, ${r.settings.journalMode})`,
      outputs: {
        path: r.path,
        from: plan.fromVersion?.toString() ?? null,
        to: plan.toVersion,
        integrity: r.integrity,
        tables: r.tables,
        added: r.added,
        settings: r.settings,
        file: recordFile(r.path),
      },
    };
  },
});

const baselineStep: Step = defineStep({
  id: "baseline",
  stage: 1,
  kind: "write",
  title: "Apply the baseline",
  describe: (c) => `${c.diagnosis.chain === "missing" ? "create the file and " : ""}apply baseline ${c.base.manifest.baselineVersion}`,
  async run(c) {
    assertStillPlannedFile(c, true); // then, under the write transaction, that it holds no table (applyMigration)
    const plan = planMigration(c.diagnosis, c.base);
    await applyMigration(plan, { path: c.dbPath, workDir: c.workDir, targetFacts: c.base.facts });
    return { summary: `baseline ${plan.toVersion} applied`, outputs: { to: plan.toVersion } };
  },
});

export const stage1Behind: Step[] = [exportStep, verifyStep, foldStep, unchangedStep, swapStep, ledgerStep];
export const stage1Baseline: Step[] = [baselineStep, ledgerStep];
