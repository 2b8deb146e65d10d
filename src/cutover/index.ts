export { runCutover, reuseOnResume } from "./run.js";
export type { CutoverReport } from "../report/cutover-report.js";
export { reportJson } from "../report/render.js";
