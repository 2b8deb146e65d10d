/** Messages between the wizard (main thread) and the engine worker. The UI never opens a database. */
import type { CutoverReport } from "../engine/cutover.js";
import type { DecisionAnswer, DecisionRequest, EngineEvent } from "../engine/events.js";

export interface Inspection {
  resolved: { display: string; why: string; source: string; kind: "file" | "remote"; path?: string; warnings: string[] };
  exists: boolean;
  chain: string | null;
  explanation: string;
  unfinished: { workDir: string; lastStep: string | null; swapPhase: string; runId: string } | null;
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
  cancelled?: boolean;
}

export type RunOutcome = { ok: true; report: CutoverReport } | { ok: false; error: RunError };

export type ToWorker =
  | { type: "inspect"; id: number; db?: string }
  | { type: "sample"; id: number }
  | { type: "clone"; id: number; db: string }
  | { type: "run"; id: number; job: RunJob }
  | { type: "answer"; id: number; answer: DecisionAnswer }
  | { type: "cancel" };

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
  cancel(): void;
  close(): void;
}
