export { runCutover } from "./run.js";
export { reuseOnResume } from "./steps.js";
export type { CutoverReport } from "../report/cutover-report.js";
export { reportJson } from "../report/render.js";
export { swapDryRun } from "./swap-dry-run.js";
export { dryRunLine, reviewedPlanLine } from "./plan.js";
