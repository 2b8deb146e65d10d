/** One typed event stream; every driver (plain text, --json, the wizard) renders it. */
export type StepKind = "read" | "write" | "destructive";
export type StepStatus = "pending" | "running" | "done" | "skipped" | "failed";

export type EngineEvent =
  | { type: "plan"; steps: { id: string; stage: number; kind: StepKind; title: string; description: string }[]; digest: string }
  | { type: "step-start"; id: string; title: string }
  | { type: "step-progress"; id: string; done: number; total: number; label?: string }
  | { type: "step-done"; id: string; summary: string; outputs?: Record<string, unknown>; reused?: boolean }
  | { type: "step-skipped"; id: string; reason: string }
  | { type: "step-failed"; id: string; message: string }
  | { type: "note"; text: string };

export type Emit = (e: EngineEvent) => void;

/** What the engine asks a driver that can ask the operator. */
export type DecisionRequest =
  | { kind: "confirm"; step: string; title: string; description: string; expected: string }
  | { kind: "sidecar"; path: string; tables: { name: string; rows: number; present: number; merged: number; conflicts: number; mergeable: boolean }[] }
  | { kind: "telemetry"; suggested: string[] };

export type DecisionAnswer = { ok: boolean } | { merge: boolean } | { files: string[] };

export type Decide = (req: DecisionRequest) => Promise<DecisionAnswer>;
