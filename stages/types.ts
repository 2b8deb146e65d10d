import type { BaselineContext, Diagnosis } from "../src/diagnose/diagnose.js";
import type { CancelToken } from "../src/util/cancel.js";
import type { Decide, Emit, StepKind } from "../src/engine/events.js";
import type { Lock } from "../src/safety/lock.js";
import type { RunStartEntry } from "../src/engine/journal.js";
import { parseOutput, type StepOutput, type StepOutputs, type StepWithOutputs } from "../src/engine/step-outputs.js";

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
  /** import-legacy into an existing database (the import route): the backup to load, and the hash its plan names it by. */
  importFrom?: { path: string; acceptUnverified: boolean; sha: string };
}

export interface PlanContext extends RunPaths {
  base: BaselineContext;
  diagnosis: Diagnosis;
  options: RunOptions;
  /** The dry-run's kept trial this apply adopts (its export and build: src/engine/kept-trial.ts); null: it makes them itself. */
  trial?: import("../src/engine/kept-trial.js").KeptTrial | null;
}

/** What a run started from, kept in the journal (run-start): resume reads it, never the file now at the path. */
export interface RunStart {
  /** The chain the run started from. */
  chainBefore: string;
  maxVersionBefore: string | null;
  /** The database's identity at the start (real path, device/inode). */
  identity: NonNullable<RunStartEntry["identity"]>;
  /** The primary's permission bits and owner at the start: the new file takes them. */
  mode: number | null;
  uid: number | null;
  gid: number | null;
}

export interface RunContext extends PlanContext {
  runId: string;
  run: RunStart;
  planDigest: string;
  command: string;
  /** Outputs of finished steps (this run, or recorded in the journal of the run being resumed), read typed. */
  outputs: StepOutputs;
  emit: Emit;
  token: CancelToken;
  breakLock: boolean;
  lock?: Lock;
  /** The dry-run's integrity_check of the primary, running beside its trial import (stage0-preconditions.ts). */
  integrityBeside?: import("../src/db/integrity.js").IntegrityBeside | null;
  /** This run was begun by an earlier attempt (--resume): its journal is in the work dir. */
  resuming: boolean;
  /** Resuming a run whose swap had begun: the swap step finishes it. */
  swapPhase: "none" | "intent" | "primary-archived" | "new-in-place";
  /** The primary's content state recorded (under the hold) with the last swap phase: a resume checks the primary against it. */
  swapState: import("../src/safety/content-version.js").ContentState | null;
  /** Writes a swap phase (and the primary's content state then) to the journal (fsynced) before the next move. */
  journalSwap(phase: "intent" | "primary-archived" | "new-in-place", state?: import("../src/safety/content-version.js").ContentState | null): void;
  /** Present when a driver can ask the operator (the wizard). */
  decide?: Decide;
  /** Refuses (exit 3) when another process holds the primary open; `where` goes into the message. */
  checkHolders(where: string): void;
  /** The swap hands over its hold (now on the archived original): the run releases it after its last check (docs/safety.md). */
  keepArchiveHeld?(hold: import("../src/safety/hold.js").PrimaryHold): void;
}

/** A step's result; `outputs` is checked through the step's schema (src/engine/step-outputs.ts) before it is journaled. */
export interface StepResult<O = unknown> {
  summary: string;
  outputs: O;
  /** The step had nothing to do (no sidecar, no telemetry files named): drivers show it as skipped. */
  skipped?: boolean;
  /** Problems the step found and carried on past (conflicts, violations, mismatches, orphans), in words. */
  warnings?: string[];
}

/** One step of the runbook: reading `plan` tells the operator's story; `run` does it. */
/**
 * What the engine may do with a step, as data:
 * - `needsConfirmation`: a driver that can ask (the wizard) gets a typed confirmation first
 *   (`confirmation(ctx)` says what to type and the evidence; null = nothing to confirm this time);
 * - `swapBoundary`: the step that replaces or changes the primary; once it began, every step
 *   before it is reused on resume (its inputs are gone);
 * - `reuse`: on resume, `always` (recorded outputs hold), `never` (the lock: taken anew), or
 *   `check` (`reusable(ctx, outputs)` decides).
 */
interface StepCapabilities {
  needsConfirmation?: boolean;
  swapBoundary?: boolean;
  reuse?: "always" | "never" | "check";
}

export interface Confirmation {
  expected: string;
  evidence?: import("../src/engine/events.js").ImportEvidence;
}

export interface Step extends StepCapabilities {
  id: string;
  stage: 0 | 1 | 2 | 3 | 4;
  kind: StepKind;
  title: string;
  /** With needsConfirmation: what the operator must type (null: nothing to confirm now). */
  confirmation?(ctx: RunContext): Confirmation | null;
  describe(ctx: PlanContext): string;
  run(ctx: RunContext): Promise<StepResult>;
  /** Asks the driver for the step's choices (the wizard), before its confirmation and run. */
  prepare?(ctx: RunContext): Promise<void>;
  /** The dry-run version of a Stage 0 step that would write (the lock): look, do not touch. */
  check?(ctx: RunContext): Promise<StepResult>;
  /** On resume: whether the recorded outputs still hold, so the step need not run again. */
  reusable?(ctx: RunContext, outputs: Record<string, unknown>): boolean;
}

/** A step whose outputs are typed by its schema: `run` must return them, `reusable` reads them checked. */
interface TypedStep<K extends StepWithOutputs> extends Omit<Step, "id" | "run" | "check" | "reusable"> {
  id: K;
  run(ctx: RunContext): Promise<StepResult<StepOutput<K>>>;
  check?(ctx: RunContext): Promise<StepResult<StepOutput<K>>>;
  reusable?(ctx: RunContext, outputs: StepOutput<K>): boolean;
}

/** Defines a step with typed outputs (checked at compile time here, and through the schema when recorded). */
export function defineStep<K extends StepWithOutputs>(step: TypedStep<K>): Step {
  const { reusable, ...rest } = step;
  if (!reusable) return rest;
  return {
    ...rest,
    reusable: (ctx, raw) => {
      const o = parseOutput(step.id, raw);
      return o !== undefined && reusable(ctx, o);
    },
  };
}
