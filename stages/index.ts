/**
 * The runbook as data. Stage 0 (preconditions) always runs; Stage 1 depends on the chain.
 * Stages 2–4 (sidecar, telemetry consumers, publication/news) are their own commands for now.
 */
import type { Chain } from "../src/db/classify.js";
import { stage0 } from "./stage0-preconditions.js";
import { stage1Baseline, stage1Behind } from "./stage1-fold.js";
import { stage1Legacy } from "./stage1-legacy.js";
import type { Step } from "./types.js";

export function stepsFor(chain: Chain): Step[] {
  switch (chain) {
    case "legacy":
      return [...stage0, ...stage1Legacy];
    case "behind":
      return [...stage0, ...stage1Behind];
    case "empty":
      return [...stage0, ...stage1Baseline];
    default:
      return [];
  }
}

export type { Step, RunContext, PlanContext, RunPaths, StepResult } from "./types.js";
