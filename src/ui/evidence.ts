/**
 * What a destructive decision rests on, from the run's state (the verified backup and the import's
 * evidence, reduced from the engine's events: src/engine/run-state.ts) or sent with the request. A part
 * that is missing is undefined and the screen says "not available"; nothing is guessed.
 */
import type { ImportEvidence } from "../engine/events.js";
import type { RunState } from "../engine/run-state.js";
import { ImportEvidenceSchema } from "../engine/step-outputs.js";
import { check } from "../validate/schemas.js";

export interface TableEvidence {
  name: string;
  target?: string | null;
  rowsIn: number;
  loaded: number;
  quarantined: number;
  reasons: Record<string, number>;
}

export interface Evidence {
  tables?: TableEvidence[];
  columnsToQuarantine?: ImportEvidence["columnsToQuarantine"];
  orphans?: ImportEvidence["orphans"];
  /** The old file's own indexes, triggers and views: how many carried, and each one not carried with its SQL and reason. */
  objects?: ImportEvidence["objects"];
  /** Tables whose large values the export read whole, and why (issue 17). */
  readWhole?: ImportEvidence["readWhole"];
  backupVerified?: { verified: boolean; rows?: number; sha256?: string; path?: string };
}

/** The evidence of a confirmation: the request's (the import the swap rests on), else the run's; the backup from the run. */
export function evidenceFrom(run: RunState, sent?: unknown, backupPath?: string): Evidence {
  // The request crossed a thread: its evidence is checked through the schema (another shape is not shown).
  const ev = (sent !== undefined ? check(ImportEvidenceSchema, sent) : null) ?? run.importEvidence;
  const out: Evidence = {};
  if (ev) {
    out.tables = ev.tables.map((t) => ({ name: t.name, target: t.target, rowsIn: t.rowsIn, loaded: t.loaded, quarantined: t.quarantined, reasons: t.reasons }));
    out.columnsToQuarantine = ev.columnsToQuarantine;
    out.orphans = ev.orphans;
    if (ev.objects) out.objects = ev.objects;
    if (ev.readWhole?.length) out.readWhole = ev.readWhole;
  }
  const b = run.backup;
  const verifiedHere = run.outputs["verify-backup"] !== undefined;
  if (b && verifiedHere)
    out.backupVerified = { verified: b.verified || ev?.backupVerified === true, rows: b.rows, sha256: b.sha256, path: backupPath ?? b.path };
  else if (ev) out.backupVerified = { verified: ev.backupVerified, path: backupPath ?? b?.path };
  return out;
}

export function reasonsText(r: Record<string, number>): string {
  return Object.entries(r)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
}
