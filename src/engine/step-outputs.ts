/**
 * Typed step outputs: every step that records outputs has its valibot schema here. The engine checks
 * a step's outputs through it before they are journaled (a step cannot record another shape), and
 * every reader gets them back checked and typed (types inferred, never written twice, never cast).
 * A recorded output that does not match reads as absent — the reader then does without it.
 */
import * as v from "valibot";
import { FileIdentitySchema, FileRecordSchema, FileSettingsSchema, FileSummarySchema, FoldCopyTableSchema, LockHolderSchema } from "../validate/schemas.js";
import { failed } from "../errors.js";

const str = v.string();
const num = v.number();
const bool = v.boolean();
const counts = v.record(str, num);
const opt = <T extends v.GenericSchema>(s: T) => v.optional(s);

const ObjectsSchema = v.object({
  carried: v.array(v.object({ type: str, name: str, table: str })),
  notCarried: v.array(v.object({ type: str, name: str, table: str, sql: str, reason: str })),
});

const ReadWholeSchema = v.array(v.object({ table: str, values: num, reason: str }));

/** What an import does, per table and in total: the evidence a swap rests on (the trial's and the real import's). */
export const ImportEvidenceSchema = v.object({
  tables: v.array(
    v.object({
      name: str,
      /** Where its rows go; null when the whole table goes to legacy_quarantine. */
      target: v.nullable(str),
      rowsIn: num,
      loaded: num,
      /** Rows quarantined whole (not loaded). */
      quarantined: num,
      /** Whole-row quarantine per reason ("constraint", "datatype-mismatch", "unknown-table", …). */
      reasons: counts,
      /** Loaded rows some of whose values went to legacy_quarantine. */
      partial: num,
      /** Columns the target lacks: their values go to legacy_quarantine; nonNull = rows holding a value. */
      columns: v.array(v.object({ column: str, nonNull: num })),
    }),
  ),
  rowsIn: num,
  loaded: num,
  quarantined: num,
  partial: num,
  columnsToQuarantine: v.array(v.object({ table: str, column: str, nonNull: num })),
  /** foreign_key_check orphans (they were orphans in the legacy file too; reported, not quarantined). */
  orphans: v.array(v.object({ table: str, count: num })),
  /** sqlite_sequence entries, counted apart from table rows everywhere. */
  sequences: v.object({ entries: num, restored: num, quarantined: num }),
  /** The old file's own indexes, triggers and views: carried into the new file, or named with their SQL and why not (they stay in the archive). */
  objects: opt(ObjectsSchema),
  /** Tables whose values above the big-value size the export read whole, and why (memory grew with them; bytes exact). */
  readWhole: opt(ReadWholeSchema),
  backupVerified: bool,
});

/** An apply-time gate of Stage 0: in a dry-run, a gate that would refuse says so (what, and what to do). */
const GateSchema = v.variant("wouldRefuse", [
  v.object({ wouldRefuse: v.literal(false) }),
  v.object({ wouldRefuse: v.literal(true), what: str, next: v.nullable(str) }),
]);

const ImportedTableSchema = v.looseObject({
  name: str,
  target: v.nullable(str),
  rows: num,
  loaded: num,
  quarantined: num,
  reasons: opt(counts),
  partial: opt(num),
  columns: opt(counts),
});

export const StepOutputSchemas = {
  // Stage 0
  resolve: v.object({ path: str, source: str }),
  "ssot-drift": v.object({ digest: str }),
  disk: v.object({ free: num, required: num }),
  /** Taken (tookOver: the stale lock replaced, or null); the dry-run's look records nothing. */
  lock: v.object({ tookOver: opt(v.nullable(LockHolderSchema)) }),
  folders: GateSchema,
  holders: GateSchema,
  integrity: v.object({ integrity: str }),
  diagnose: v.object({ chain: str, maxVersion: v.nullable(str) }),
  structure: v.object({
    origin: str,
    originKind: opt(str),
    equal: v.nullable(bool),
    fingerprint: opt(str),
    targetFingerprint: opt(str),
    differences: opt(num),
  }),
  // Stage 1
  export: v.object({
    path: str,
    sha256: str,
    rows: num,
    bytes: num,
    identity: FileIdentitySchema,
    tables: v.array(v.looseObject({ name: str, rows: num })),
    /** The sqlite_sequence section as written (null: none); absent in a journal from before it was recorded. */
    sequenceTable: opt(v.nullable(v.object({ rows: num, sha256: str }))),
    file: FileRecordSchema,
    /** Tables whose big values the export read whole (a WITHOUT ROWID table its pages could not serve), and why. */
    readWhole: opt(ReadWholeSchema),
    /** The backup is the dry-run's kept trial's, made at this time (src/engine/kept-trial.ts). */
    adopted: opt(str),
  }),
  "verify-backup": v.object({
    verified: bool,
    sha256: str,
    rows: num,
    /** How the live primary was proven (compare.ts verifyExport); absent in a journal from before it was recorded. */
    live: opt(v.picklist(["content-version", "re-read"])),
  }),
  "build-import": v.object({
    path: str,
    loaded: num,
    quarantined: num,
    integrity: str,
    foreignKeyViolations: v.array(v.looseObject({ table: str, count: num })),
    ftsRebuilt: v.array(str),
    tables: v.array(ImportedTableSchema),
    sequences: v.unknown(),
    evidence: ImportEvidenceSchema,
    file: FileRecordSchema,
    /** The new file is the dry-run's kept trial's build, made at this time (src/engine/kept-trial.ts). */
    adopted: opt(str),
  }),
  checks: v.object({ chain: str, integrity: str, foreignKeyOrphans: num }),
  "primary-unchanged": v.object({ identity: FileIdentitySchema }),
  fold: v.object({
    path: str,
    from: v.nullable(str),
    to: num,
    integrity: str,
    tables: v.array(FoldCopyTableSchema),
    added: num,
    settings: FileSettingsSchema,
    file: FileRecordSchema,
  }),
  /** The import route's copy (stages/stage1-import.ts); `report` is import-legacy's JSON of the import (src/backup/import-json.ts). */
  import: v.object({ path: str, loaded: num, quarantined: num, report: v.record(str, v.unknown()), file: FileRecordSchema }),
  baseline: v.object({ to: num }),
  swap: v.object({ archive: str, archiveFile: v.nullable(FileRecordSchema) }),
  ledger: v.object({ runId: str }),
  // Stages 2–4
  sidecar: v.variant("exists", [
    v.object({ exists: v.literal(false), archive: v.nullable(str) }),
    v.object({
      exists: v.literal(true),
      path: str,
      merge: bool,
      archive: str,
      merged: num,
      conflicts: num,
      backup: str,
      backupSha256: str,
      tables: v.array(v.object({ name: str, rows: num, present: num, merged: num, conflicts: num })),
    }),
  ]),
  "telemetry-check": v.union([
    v.object({ skipped: v.literal(true) }),
    /** stamps: per file read (absolute path), its device:inode:size:mtime when read; a resume reuses the result while they hold. */
    v.object({ violations: num, files: v.array(FileSummarySchema), notRegular: v.array(str), stamps: opt(v.record(str, str)) }),
  ]),
  /** Empty when the file has no publication tables. */
  news: v.object({ mismatches: opt(num), missingDigest: opt(num), copied: opt(num) }),
} as const;

export type StepWithOutputs = keyof typeof StepOutputSchemas;
export type StepOutput<K extends StepWithOutputs> = v.InferOutput<(typeof StepOutputSchemas)[K]>;
/** Every step's outputs, each present once the step recorded them. */
export type StepOutputMap = { [K in StepWithOutputs]?: StepOutput<K> };

export function hasOutputSchema(id: string): id is StepWithOutputs {
  return Object.hasOwn(StepOutputSchemas, id);
}

/** `raw` checked as step `id`'s outputs (undefined: another shape). */
export function parseOutput<K extends StepWithOutputs>(id: K, raw: unknown): StepOutput<K> | undefined {
  const r = v.safeParse(StepOutputSchemas[id], raw);
  return r.success ? r.output : undefined;
}

/** `raw` checked through step `id`'s schema (a step without one: any object), or why it is not, in words. */
function checkedOutput(id: string, raw: unknown): Record<string, unknown> | string {
  if (!hasOutputSchema(id)) return typeof raw === "object" && raw !== null && !Array.isArray(raw) ? { ...raw } : "not an object";
  const r = v.safeParse(StepOutputSchemas[id], raw);
  if (r.success) return r.output;
  const i = r.issues[0];
  const path = i.path?.map((p) => String(p.key)).join(".") ?? "";
  return `${path ? `${path}: ` : ""}${i.message}`;
}

/** The recorded outputs of step `id`, checked (undefined: the step did not run, or recorded something else). */
export function outputOf<K extends StepWithOutputs>(outputs: ReadonlyMap<string, Record<string, unknown>>, id: K): StepOutput<K> | undefined {
  const raw = outputs.get(id);
  return raw === undefined ? undefined : parseOutput(id, raw);
}

/**
 * The outputs of a run's finished steps (this attempt's, and those recorded in the journal of the run
 * being resumed), read typed by step id. What goes in is checked through the step's schema first.
 */
export class StepOutputs {
  readonly #raw: Map<string, Record<string, unknown>>;
  constructor(entries: Iterable<readonly [string, Record<string, unknown>]> = []) {
    this.#raw = new Map(entries);
  }

  /** Step `id`'s outputs, checked (undefined: it did not run, or recorded another shape). */
  get<K extends StepWithOutputs>(id: K): StepOutput<K> | undefined {
    return outputOf(this.#raw, id);
  }

  /** Step `id`'s outputs, which a later step cannot do without (a journal without them cannot be carried on). */
  need<K extends StepWithOutputs>(id: K): StepOutput<K> {
    const o = this.get(id);
    if (o === undefined) {
      throw failed({
        what: `The outputs of step ${id} are missing from this run's journal, or are not what this version records.`,
        untouched: "This step changed nothing.",
        next: "Undo the run (cutover --rollback --apply), then run the cutover again.",
      });
    }
    return o;
  }

  /** What was recorded for step `id`, unchecked (the engine's reuse decision and the summary shown for it). */
  recorded(id: string): Record<string, unknown> | undefined {
    return this.#raw.get(id);
  }

  /**
   * Records step `id`'s outputs, checked through its schema (a step recording another shape is a
   * defect: it is refused before the journal takes it). Returns what the journal keeps: the outputs,
   * the summary, and the step's warnings and "skipped" (a resumed run re-emits them for a reused step).
   */
  record(id: string, outputs: unknown, summary: string, said: { warnings?: string[]; skipped?: boolean } = {}): Record<string, unknown> {
    const checked = checkedOutput(id, outputs);
    if (typeof checked === "string")
      throw failed({
        what: `Step ${id} produced outputs of another shape than its schema (${checked}): a defect of vox-cutover.`,
        untouched: "The journal does not record the step as done; the primary was not changed by it.",
        next: "Report this; undo the run with cutover --rollback --apply.",
      });
    const kept = { ...checked, summary, ...(said.warnings?.length ? { warnings: said.warnings } : {}), ...(said.skipped ? { skipped: true } : {}) };
    this.#raw.set(id, kept);
    return kept;
  }
}
