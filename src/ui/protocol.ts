/** Messages between the wizard (main thread) and the engine worker. The UI never opens a database. */
import type { CutoverReport } from "../cutover/index.js";
import type { RollbackPlan } from "../rollback/plan.js";
import type { DecisionAnswer, DecisionRequest, EngineEvent } from "../engine/events.js";

/** An unfinished run as the reopen screen tells it: stages and files, not step ids. */
export interface UnfinishedRun {
  workDir: string;
  lastStep: string | null;
  swapPhase: string;
  runId: string;
  /** Title and stage of the last step that started (from the runbook), when known. */
  lastStepTitle?: string;
  lastStepStage?: number;
  /** When the last step that ran had finished: the step the run stopped before (the next one in the runbook). */
  nextStepTitle?: string;
  nextStepStage?: number;
  /** The last recorded failure, if the run stopped on one. */
  failed?: { step: string; title?: string; message: string } | null;
  /** Stopped by Ctrl-C / q / a declined confirmation (the step named, or null between steps). */
  interrupted?: boolean;
  /** Whether Resume can succeed; when false, `whyNot` says why (e.g. the primary changed since the export). */
  resumable?: boolean;
  whyNot?: string;
  backupPath?: string;
  backupExists?: boolean;
  archiveDir?: string;
  newPath?: string;
  newExists?: boolean;
  /** The database file at the primary's name now, and the archived original, if there. */
  primaryExists?: boolean;
  archivedPrimary?: string | null;
  startedAt?: string;
  /** "cutover", "import-legacy run" or "migrate run" (engine/runs.ts runKind). */
  kind?: string;
  /** What Roll back would move, remove and keep (the engine's plan; the screen only words it). */
  rollback?: RollbackPlan;
}

/** The target of the run (bundled vox baseline or the operator's vox) and, when `vox` is on PATH, how the two compare. */
export interface TargetInfo {
  kind: "bundled" | "file" | "vox";
  origin: string;
  version: number;
  /** The operator's vox, when one is on PATH (null: none; error: it could not make a template). */
  vox: { version: number; voxVersion: string | null; agrees: boolean; differences: number; bundledVersion: number } | { error: string } | null;
}

export interface Inspection {
  resolved: { display: string; why: string; source: string; kind: "file" | "remote"; path?: string; warnings: string[] };
  exists: boolean;
  chain: string | null;
  /** Which rule decided the chain (one line). */
  reason: string;
  /** The chain in words (without the CLI's class name), or why the file could not be read. */
  explanation: string;
  unfinished: UnfinishedRun | null;
  target?: TargetInfo;
}

export interface RunJob {
  db: string;
  apply: boolean;
  resume?: boolean;
  rollback?: boolean;
  backupPath?: string;
  workDir?: string;
  command: "wizard" | "rehearse";
}

export interface RunError {
  kind: string;
  message: string;
  exitCode: number;
  /** The engine's own parts of the message (a VoxError's): what was left untouched, what to do next. */
  untouched?: string;
  next?: string;
  cancelled?: boolean;
}

export type RunOutcome = { ok: true; report: CutoverReport } | { ok: false; error: RunError };

export type ToWorker =
  | { type: "inspect"; id: number; db?: string }
  | { type: "sample"; id: number }
  | { type: "clone"; id: number; db: string }
  | { type: "run"; id: number; job: RunJob }
  | { type: "answer"; id: number; answer: DecisionAnswer }
  | { type: "cancel" }
  | { type: "use-target"; id: number; kind: "vox" | "bundled" }
  /** The wizard closes: the trials its dry-runs kept go (only its own apply could adopt them). */
  | { type: "forget-trials"; id: number };

export type FromWorker =
  | { type: "result"; id: number; value: unknown }
  | { type: "failure"; id: number; error: RunError }
  | { type: "event"; id: number; event: EngineEvent }
  | { type: "request"; id: number; requestId: number; request: DecisionRequest };

export interface EngineClient {
  inspect(db?: string): Promise<Inspection>;
  makeSample(): Promise<{ db: string; dir: string }>;
  clone(db: string): Promise<{ db: string; scratch: string }>;
  run(job: RunJob, on: { event(e: EngineEvent): void; request(r: DecisionRequest): Promise<DecisionAnswer> }): Promise<RunOutcome>;
  /** Switches the target of the next runs: the operator's vox (when on PATH) or the bundled baseline. */
  setTarget(kind: "vox" | "bundled"): Promise<void>;
  /** Asks the engine to stop at its next safe point (reaches a worker busy in a synchronous step too). */
  cancel(): void;
  /** Stops what runs at its next safe point, waits for it (at most graceMs), ends the worker, removes the wizard's scratch. */
  close(graceMs?: number): Promise<void> | void;
}

/**
 * Optional fields the wizard reads when the engine sends them (and does without when it does not).
 * They are the engine additions the wizard asks for; see docs/wizard.md.
 */
export interface EngineEventExtras {
  /** step-progress: what the step is doing now ("copying rows", "rebuilding indexes", "checking"). */
  phase?: string;
  /** confirm requests: the file the step acts on. */
  target?: string;
}
