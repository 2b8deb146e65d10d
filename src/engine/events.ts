/** One typed event stream; every driver (plain text, --json, the wizard) renders it. */
import type * as v from "valibot";
import type { ImportEvidenceSchema } from "./step-outputs.js";
export type StepKind = "read" | "write" | "destructive";
export type StepStatus = "pending" | "running" | "done" | "skipped" | "failed";

export type EngineEvent =
  | { type: "plan"; steps: { id: string; stage: number; kind: StepKind; title: string; description: string }[]; digest: string }
  | { type: "step-start"; id: string; title: string }
  | { type: "step-progress"; id: string; done: number; total: number; label?: string; phase?: string }
  /** `skipped`: the step had nothing to do; `warnings`: problems it found and carried on past (the engine decides both). */
  | { type: "step-done"; id: string; summary: string; outputs?: Record<string, unknown>; reused?: boolean; skipped?: boolean; warnings?: string[] }
  | { type: "step-failed"; id: string; message: string }
  | { type: "note"; text: string }
  /** The dry-run's trial import (same export and import as --apply, into a scratch folder): what the import will do. */
  | { type: "trial"; evidence: ImportEvidence };

/** What an import does, per table and in total: the evidence a swap rests on (its schema: src/engine/step-outputs.ts). */
export type ImportEvidence = v.InferOutput<typeof ImportEvidenceSchema>;

export type Emit = (e: EngineEvent) => void;

/** What the engine asks a driver that can ask the operator. */
export type DecisionRequest =
  | { kind: "confirm"; step: string; title: string; description: string; expected: string; evidence?: ImportEvidence }
  | { kind: "sidecar"; path: string; tables: { name: string; rows: number; present: number; merged: number; conflicts: number; mergeable: boolean }[] }
  | { kind: "telemetry"; suggested: string[] };

export type DecisionAnswer = { ok: boolean } | { merge: boolean } | { files: string[] };

export type Decide = (req: DecisionRequest) => Promise<DecisionAnswer>;
