/**
 * Schemas at the edges: what comes from disk (journal, lock, run marker, backup header) is checked
 * with valibot before the program relies on it, never cast. A file that does not match is reported
 * as what it is (a foreign or damaged file), not a crash.
 */
import * as v from "valibot";

const str = v.string();
const opt = <T extends v.GenericSchema>(s: T) => v.optional(s);

const RouteSchema = v.picklist(["rebuild", "fold", "import", "baseline", "none"]);

const DbIdentitySchema = v.object({
  /** The path as resolved (may be a symbolic link). */
  path: str,
  /** Symbolic links resolved. */
  real: str,
  dev: opt(v.nullable(str)),
  ino: opt(v.nullable(str)),
  /** The birth time in ns where the filesystem keeps one (safety/identity.ts bornOf). */
  born: opt(v.nullable(str)),
});

/** A database's content state (size, mtime, change counter, WAL): what a write changes. */
export const FileIdentitySchema = v.object({
  size: v.number(),
  mtimeNs: str,
  changeCounter: v.nullable(v.number()),
  walSize: v.nullable(v.number()),
  walMtimeNs: v.nullable(str),
  walSha256: opt(v.nullable(str)),
  /** The file's status-change time (absent in journals of older versions): src/safety/content-version.ts untouchedSince. */
  ctimeNs: opt(str),
});

/** The typed run state a cutover keeps in its journal (run-start), read back on resume and rollback. */
/** What a run file was when the run made it. */
export const FileRecordSchema = v.object({
  dev: str,
  ino: str,
  size: v.number(),
  mtimeNs: str,
  /** sha256 of the first 100 bytes (a SQLite file's header: change counter, page count, schema cookie). */
  fingerprint: str,
  /** The whole file's sha256, where the run computed it anyway (the backup). */
  sha256: opt(str),
});

export const RunStartSchema = v.looseObject({
  e: v.literal("run-start"),
  ts: opt(str),
  runId: str,
  command: str,
  db: str,
  chain: str,
  route: opt(RouteSchema),
  planDigest: str,
  workDir: str,
  backupPath: str,
  newPath: str,
  archiveDir: str,
  toolVersion: str,
  options: opt(
    v.object({
      sidecarMerge: v.boolean(),
      telemetry: v.array(str),
      importFrom: opt(v.object({ path: str, acceptUnverified: v.boolean(), sha: str })),
    }),
  ),
  identity: opt(DbIdentitySchema),
  /** The diagnosis the run started from (never recomputed from the new file on resume). */
  chainBefore: opt(str),
  maxVersionBefore: opt(v.nullable(str)),
});

export const JournalEntrySchema = v.variant("e", [
  RunStartSchema,
  v.looseObject({ e: v.literal("step-start"), step: str }),
  v.looseObject({ e: v.literal("step-done"), step: str, outputs: v.record(str, v.unknown()) }),
  v.looseObject({ e: v.literal("step-failed"), step: str, message: str, gate: opt(str) }),
  v.looseObject({ e: v.literal("swap"), phase: v.picklist(["intent", "primary-archived", "new-in-place"]), state: opt(v.nullable(FileIdentitySchema)) }),
  v.looseObject({ e: v.literal("interrupted"), step: v.nullable(str), signal: str }),
  v.looseObject({
    e: v.literal("run-done"),
    outcome: v.picklist(["completed", "nothing-to-do"]),
    finalIdentity: opt(v.nullable(FileIdentitySchema)),
    finalInode: opt(v.nullable(v.object({ dev: str, ino: str }))),
  }),
  v.looseObject({ e: v.literal("rollback-start") }),
  v.looseObject({ e: v.literal("rollback-done"), restored: v.boolean() }),
]);

/** A journal line as written: an entry and its time. */
export const StampedEntrySchema = v.intersect([JournalEntrySchema, v.object({ ts: str })]);

export const LockHolderSchema = v.object({
  pid: v.pipe(v.number(), v.integer()),
  host: str,
  startedAt: str,
  command: str,
  runId: str,
  workDir: str,
  /** The database the lock is for (real path and dev/ino). */
  db: opt(str),
  dev: opt(v.nullable(str)),
  ino: opt(v.nullable(str)),
  /** The holder's process as Linux knows it (boot id, start in clock ticks since boot): another process later given its pid is not it. */
  proc: opt(v.object({ boot: str, start: str })),
});

export const RunMarkerSchema = v.object({
  format: v.literal("vox-cutover-run"),
  runId: str,
  command: str,
  db: str,
  dev: v.nullable(str),
  ino: v.nullable(str),
  createdAt: str,
});

/** `vox-cutover-runs/<run id>.work-dir.json`: where a run with a work dir of the operator's choosing keeps its files. */
export const WorkDirPointerSchema = v.object({
  format: v.literal("vox-cutover-work-dir"),
  runId: str,
  db: str,
  workDir: str,
});

/** The first line of a vox-cutover backup (what the importer relies on before it reads rows). */
export const BackupHeaderSchema = v.looseObject({
  k: v.literal("header"),
  format: v.literal("vox-cutover-backup"),
  version: v.number(),
  tables: v.array(
    v.looseObject({
      name: str,
      sql: str,
      columns: v.array(str),
      rowidColumn: v.nullable(str),
      rowidAlias: v.nullable(str),
      withoutRowid: v.boolean(),
      primaryKey: v.array(str),
      types: v.array(str),
      rows: v.union([v.number(), str]),
    }),
  ),
});

/** contracts/db/baseline-version-policy.yaml. */
export const PolicySchema = v.looseObject({
  repository_baseline_integer: v.pipe(v.number(), v.integer()),
  repository_baseline_digest_hex: v.pipe(str, v.regex(/^0x[0-9a-f]{64}$/)),
  baseline_history: opt(v.array(v.pipe(v.number(), v.integer()))),
  digest_source: opt(str),
});

/** schema/manifest.yaml. */
export const ManifestSchema = v.looseObject({
  baseline_version: v.pipe(v.number(), v.integer(), v.minValue(1)),
  fragments: v.pipe(v.array(v.looseObject({ domain: str, file: str })), v.minLength(1)),
  fold_steps: opt(v.nullable(v.array(v.looseObject({ id: str, below: v.number(), description: opt(str), sql: str })))),
});

/** What the wizard's main thread sends the engine worker. */
export const ToWorkerSchema = v.variant("type", [
  v.object({ type: v.literal("inspect"), id: v.number(), db: opt(str) }),
  v.object({ type: v.literal("sample"), id: v.number() }),
  v.object({ type: v.literal("clone"), id: v.number(), db: str }),
  v.object({
    type: v.literal("run"),
    id: v.number(),
    job: v.looseObject({
      db: str,
      apply: v.boolean(),
      resume: opt(v.boolean()),
      rollback: opt(v.boolean()),
      backupPath: opt(str),
      workDir: opt(str),
      command: v.picklist(["wizard", "rehearse"]),
    }),
  }),
  v.object({ type: v.literal("answer"), id: v.number(), answer: v.looseObject({}) }),
  v.object({ type: v.literal("cancel") }),
  v.object({ type: v.literal("use-target"), id: v.number(), kind: v.picklist(["vox", "bundled"]) }),
  v.object({ type: v.literal("forget-trials"), id: v.number() }),
]);

/** What the engine worker sends back: results, failures, events and decision requests for one call id. */
export const FromWorkerSchema = v.variant("type", [
  v.object({ type: v.literal("result"), id: v.number(), value: v.unknown() }),
  v.object({
    type: v.literal("failure"),
    id: v.number(),
    error: v.looseObject({ kind: str, message: str, exitCode: v.number(), untouched: v.optional(str), next: v.optional(str) }),
  }),
  v.object({ type: v.literal("event"), id: v.number(), event: v.looseObject({ type: str }) }),
  v.object({
    type: v.literal("request"),
    id: v.number(),
    requestId: v.number(),
    request: v.looseObject({ kind: v.picklist(["confirm", "sidecar", "telemetry"]) }),
  }),
]);

/** `--plan`: the 16 hex digits a dry-run prints. */
export const PlanDigestSchema = v.pipe(str, v.regex(/^[0-9a-f]{16}$/));

export type RunMarker = v.InferOutput<typeof RunMarkerSchema>;

export function check<T extends v.GenericSchema>(schema: T, data: unknown): v.InferOutput<T> | null {
  const r = v.safeParse(schema, data);
  return r.success ? r.output : null;
}

/** The first issue, in words (for an error message). */
export function problem<T extends v.GenericSchema>(schema: T, data: unknown): string | null {
  const r = v.safeParse(schema, data);
  if (r.success) return null;
  const i = r.issues[0];
  const path = i.path?.map((p) => String(p.key)).join(".") ?? "";
  return `${path ? `${path}: ` : ""}${i.message}`;
}

/** The first issue as a field path and message (for a contract file's "field X: expected …" error). */
export function firstIssue<T extends v.GenericSchema>(schema: T, data: unknown): { field: string; top: string; message: string } | null {
  const r = v.safeParse(schema, data);
  if (r.success) return null;
  const i = r.issues[0];
  const keys = i.path?.map((p) => String(p.key)) ?? [];
  const field = keys.map((k, n) => (/^\d+$/.test(k) && n > 0 ? `[${k}]` : (n ? "." : "") + k)).join("");
  return { field: field || "(top level)", top: keys[0] ?? "", message: i.message };
}

// Step outputs' parts, here rather than beside the code that makes them: the wizard's main thread
// checks step outputs (src/engine/step-outputs.ts) and must not load libsql, the fold or YAML for it.

/** PRAGMA auto_vacuum's values by number, and the text encodings SQLite knows. */
export const AUTO_VACUUM = ["none", "full", "incremental"] as const;
export const ENCODINGS = ["UTF-8", "UTF-16le", "UTF-16be"] as const;

export const FileSettingsSchema = v.object({
  pageSize: v.pipe(v.number(), v.integer(), v.minValue(512), v.maxValue(65536)),
  autoVacuum: v.picklist(AUTO_VACUUM),
  encoding: v.picklist(ENCODINGS),
  /** "wal" is kept; every other mode is a connection's choice, the file is left in rollback-journal ("delete") mode. */
  journalMode: v.string(),
  userVersion: v.pipe(v.number(), v.integer()),
  applicationId: v.pipe(v.number(), v.integer()),
});

/** A backed-up table in the folded copy; `unchanged`: every backed-up value is unchanged (hash over the backed-up columns equal). */
export const FoldCopyTableSchema = v.object({ name: v.string(), rowsBefore: v.number(), rowsAfter: v.number(), unchanged: v.boolean() });

/** One file's counts; `error` is set when the file could not be read (it counts as a violation). */
export const FileSummarySchema = v.object({ file: v.string(), lines: v.number(), violations: v.number(), warnings: v.number(), error: v.optional(v.string()) });
