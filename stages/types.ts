import type { BaselineContext, Diagnosis } from "../src/db/diagnose.js";
import type { CancelToken } from "../src/engine/cancel.js";
import type { Decide, Emit, StepKind } from "../src/engine/events.js";
import type { Lock } from "../src/engine/lock.js";

/** Paths of one run; all derived before anything is written. */
export interface RunPaths {
  dbPath: string;
  workDir: string;
  backupPath: string;
  /** The new database, built beside the primary (same filesystem, never over it). */
  newPath: string;
  archiveDir: string;
}

export interface RunOptions {
  /** Stage 2: copy the rows the canonical file lacks before archiving the sidecar. */
  sidecarMerge: boolean;
  /** Stage 3: JSONL files to check (none: the step is skipped). */
  telemetry: string[];
}

export interface PlanContext extends RunPaths {
  base: BaselineContext;
  diagnosis: Diagnosis;
  options: RunOptions;
}

export interface RunContext extends PlanContext {
  runId: string;
  planDigest: string;
  command: string;
  /** Outputs of finished steps (this run, or recorded in the journal of the run being resumed). */
  outputs: Map<string, Record<string, unknown>>;
  emit: Emit;
  token: CancelToken;
  breakLock: boolean;
  lock?: Lock;
  /** Resuming a run whose swap had begun: the swap step finishes it. */
  swapPhase: "none" | "intent" | "primary-archived" | "new-in-place";
  /** Writes a swap phase to the journal (fsynced) before the next move. */
  journalSwap(phase: "intent" | "primary-archived" | "new-in-place"): void;
  /** Present when a driver can ask the operator (the wizard). */
  decide?: Decide;
}

export interface StepResult {
  summary: string;
  outputs: Record<string, unknown>;
}

/** One step of the runbook: reading `plan` tells the operator's story; `run` does it. */
export interface Step {
  id: string;
  stage: 0 | 1 | 2 | 3 | 4;
  kind: StepKind;
  title: string;
  describe(ctx: PlanContext): string;
  run(ctx: RunContext): Promise<StepResult>;
  /** Asks the driver for the step's choices (the wizard), before its confirmation and run. */
  prepare?(ctx: RunContext): Promise<void>;
  /** The dry-run version of a Stage 0 step that would write (the lock): look, do not touch. */
  check?(ctx: RunContext): Promise<StepResult>;
  /** On resume: whether the recorded outputs still hold, so the step need not run again. */
  reusable?(ctx: RunContext, outputs: Record<string, unknown>): boolean;
}
