/** The runbook's front door (re-exports only): which route a diagnosis calls for and its steps (./runbook.ts), the step types (./types.ts). */
export { routeFor, stepsFor, type Route } from "./runbook.js";
export type { Step, RunContext, RunPaths, RunOptions } from "./types.js";
