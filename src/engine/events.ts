/** One typed event stream; every driver (plain text, --json, the wizard) renders it. */
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

/** What an import does, per table and in total: the evidence a swap rests on. */
export interface ImportEvidence {
  tables: {
    name: string;
    /** Where its rows go; null when the whole table goes to legacy_quarantine. */
    target: string | null;
    rowsIn: number;
    loaded: number;
    /** Rows quarantined whole (not loaded). */
    quarantined: number;
    /** Whole-row quarantine per reason ("constraint", "datatype-mismatch", "unknown-table", …). */
    reasons: Record<string, number>;
    /** Loaded rows some of whose values went to legacy_quarantine. */
    partial: number;
    /** Columns the target lacks: their values go to legacy_quarantine; nonNull = rows holding a value. */
    columns: { column: string; nonNull: number }[];
  }[];
  rowsIn: number;
  loaded: number;
  quarantined: number;
  partial: number;
  columnsToQuarantine: { table: string; column: string; nonNull: number }[];
  /** foreign_key_check orphans (they were orphans in the legacy file too; reported, not quarantined). */
  orphans: { table: string; count: number }[];
  /** sqlite_sequence entries, counted apart from table rows everywhere. */
  sequences: { entries: number; restored: number; quarantined: number };
  /** The old file's own indexes, triggers and views: carried into the new file, or named with their SQL and why not (they stay in the archive). */
  objects?: { carried: { type: string; name: string; table: string }[]; notCarried: { type: string; name: string; table: string; sql: string; reason: string }[] };
  backupVerified: boolean;
}

export type Emit = (e: EngineEvent) => void;

/** What the engine asks a driver that can ask the operator. */
export type DecisionRequest =
  | { kind: "confirm"; step: string; title: string; description: string; expected: string; evidence?: ImportEvidence }
  | { kind: "sidecar"; path: string; tables: { name: string; rows: number; present: number; merged: number; conflicts: number; mergeable: boolean }[] }
  | { kind: "telemetry"; suggested: string[] };

export type DecisionAnswer = { ok: boolean } | { merge: boolean } | { files: string[] };

export type Decide = (req: DecisionRequest) => Promise<DecisionAnswer>;
