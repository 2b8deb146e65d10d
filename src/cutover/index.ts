export { runCutover, reuseOnResume } from "./run.js";
export type { CutoverOptions } from "./plan.js";
export type { CutoverReport, StepReport } from "../report/cutover-report.js";
export { reportJson } from "../report/render.js";
