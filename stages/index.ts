/**
 * The runbook as data. Stage 0 (preconditions) always runs; Stage 1 depends on the chain;
 * Stages 2–4 (sidecar, telemetry consumers, publication/news) follow once the file is on the baseline.
 */
import type { Chain } from "../src/db/classify.js";
import { stage0 } from "./stage0-preconditions.js";
import { stage1Baseline, stage1Behind } from "./stage1-fold.js";
import { stage1Legacy } from "./stage1-legacy.js";
import { stages2to4 } from "./stage2to4.js";
import type { Step } from "./types.js";

export function stepsFor(chain: Chain): Step[] {
  switch (chain) {
    case "legacy":
      return [...stage0, ...stage1Legacy, ...stages2to4];
    case "behind":
      return [...stage0, ...stage1Behind, ...stages2to4];
    case "empty":
      return [...stage0, ...stage1Baseline, ...stages2to4];
    default:
      return [];
  }
}

export type { Step, RunContext, PlanContext, RunPaths, StepResult, RunOptions } from "./types.js";
