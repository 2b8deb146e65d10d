/**
 * Stage 1 for the other chains: `behind` is folded in place after the same verified backup;
 * `missing`/`empty` get the baseline; `current` has nothing to do; `ahead` is refused.
 */
import { applyMigration, planMigration } from "../src/db/migrate.js";
import { assertUnchangedSince, type ContentState } from "../src/safety/content-version.js";
import { exportStep, ledgerStep, verifyStep } from "./stage1-legacy.js";
import type { Step } from "./types.js";
import { basename } from "node:path";

export const foldStep: Step = {
  id: "fold",
  stage: 1,
  kind: "destructive",
  title: "Fold in place",
  needsConfirmation: true,
  swapBoundary: true,
  confirmation: (c) => ({ expected: basename(c.dbPath) }),
  describe: (c) => {
    const plan = planMigration(c.diagnosis, c.base);
    return `in one transaction on the primary: ${plan.steps.filter((s) => s.id !== "backup").map((s) => s.id).join(", ")}`;
  },
  async run(c) {
    const plan = planMigration(c.diagnosis, c.base);
    const exp = c.outputs.get("export")!;
    c.checkHolders("right before the fold");
    await c.token.shield(() =>
      applyMigration(plan, {
        path: c.dbPath,
        workDir: c.workDir,
        targetFacts: c.base.facts,
        backup: async () => {
          // Holding the write lock: the primary must still be exactly what the backup holds.
          assertUnchangedSince(exp.identity as ContentState, c.dbPath, "the backup would not hold those writes");
          return { path: c.backupPath, sha256: String(exp.sha256) };
        },
      }),
    );
    return { summary: `folded to baseline ${plan.toVersion}`, outputs: { from: plan.fromVersion?.toString() ?? null, to: plan.toVersion } };
  },
};

export const baselineStep: Step = {
  id: "baseline",
  stage: 1,
  kind: "write",
  title: "Apply the baseline",
  describe: (c) => `${c.diagnosis.chain === "missing" ? "create the file and " : ""}apply baseline ${c.base.manifest.baselineVersion}`,
  async run(c) {
    const plan = planMigration(c.diagnosis, c.base);
    await applyMigration(plan, { path: c.dbPath, workDir: c.workDir, targetFacts: c.base.facts });
    return { summary: `baseline ${plan.toVersion} applied`, outputs: { to: plan.toVersion } };
  },
};

export const stage1Behind: Step[] = [exportStep, verifyStep, foldStep, ledgerStep];
export const stage1Baseline: Step[] = [baselineStep, ledgerStep];
