/**
 * The dry-run of a command whose apply runs through the cutover engine (`migrate` on a file that
 * holds rows, `import-legacy` into a database that exists): the engine's own dry-run of that route —
 * Stage 0's checks run read-only, each later step described — so the dry-run shows the gates and
 * steps its apply will meet. The plan and its digest stay the command's own.
 */
import type { Emit } from "../engine/events.js";
import type { ResolvedDb } from "../db/resolve.js";
import type { RunOptions } from "../../stages/index.js";
import type { CutoverReport } from "../report/cutover-report.js";
import { runCutover } from "./run.js";
import { refusingGates } from "../report/render.js";

interface SwapDryRun {
  report: CutoverReport;
  /** The Stage 0 gates that would refuse the apply now (each step's warnings say why). */
  refusing: string[];
}

export async function swapDryRun(o: {
  resolved: ResolvedDb;
  command: string;
  workDir?: string;
  backupPath?: string;
  options?: Partial<RunOptions>;
  emit: Emit;
}): Promise<SwapDryRun> {
  const report = await runCutover({ ...o, apply: false });
  return { report, refusing: refusingGates(report) };
}
