/** The cutover's report: one typed value the engine fills, rendered as text (cli), JSON, Markdown and Ink. */
import type { ImportEvidence } from "../engine/events.js";
import type { CountedReport, FinalCounts } from "./final.js";
import type { RollbackPlan } from "../rollback/plan.js";

export interface StepReport {
  id: string;
  stage: number;
  kind: string;
  title: string;
  status: "pending" | "done" | "skipped" | "failed" | "reused";
  summary: string;
  /** Problems the step found and carried on past (a resumed run keeps the first attempt's). */
  warnings?: string[];
  durationMs?: number;
}

export interface CutoverReport {
  mode: "dry-run" | "apply";
  outcome: "planned" | "completed" | "nothing-to-do" | "already-done" | "rolled-back";
  runId: string | null;
  planDigest: string | null;
  before: { chain: string };
  after: { chain: string };
  workDir: string | null;
  backup: { path: string | null; verified: boolean; sha256: string | null };
  archive: { path: string | null };
  newPath: string | null;
  tables: {
    name: string;
    target: string | null;
    rowsBefore: number;
    rowsAfter: number;
    quarantined: number;
    reasons?: Record<string, number>;
    partial?: number;
    columns?: { column: string; nonNull: number }[];
  }[];
  quarantined: number;
  /** The dry-run's trial import (rebuild route); `kept`: the folder it is kept in for the apply of its plan (src/engine/kept-trial.ts). */
  trial?: ImportEvidence & { kept?: string };
  /** The old file's own indexes, triggers and views: carried or named with SQL and reason (rebuild route). */
  objects?: ImportEvidence["objects"];
  /** Tables whose large values were read whole, and why (rebuild route). */
  readWhole?: ImportEvidence["readWhole"];
  /** After a finished run: every table of the final file counted (src/report/final.ts); the sidecar's tables (Stage 2). */
  final?: FinalCounts | null;
  sidecar?: CountedReport["sidecar"];
  /** After --apply: the rows legacy_quarantine holds (import, partial values, sequences, sidecar conflicts), per reason. */
  quarantineTable?: { rows: number; byReason: Record<string, number> } | null;
  steps: StepReport[];
  rollbackCommand: string | null;
  /** What `cutover --rollback` would move, remove and keep (a finished run, and the rollback dry-run). */
  rollback?: RollbackPlan;
  resumeCommand: string | null;
  message: string;
  durationMs: number;
}

export function emptyReport(mode: CutoverReport["mode"], chain: string): CutoverReport {
  return {
    mode,
    outcome: "planned",
    runId: null,
    planDigest: null,
    before: { chain },
    after: { chain },
    workDir: null,
    backup: { path: null, verified: false, sha256: null },
    archive: { path: null },
    newPath: null,
    tables: [],
    quarantined: 0,
    steps: [],
    rollbackCommand: null,
    resumeCommand: null,
    message: "",
    durationMs: 0,
  };
}

export function finishReport(r: CutoverReport, started: number): CutoverReport {
  r.durationMs = Math.round(performance.now() - started);
  return r;
}
