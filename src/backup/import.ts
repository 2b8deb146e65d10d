import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { failed, refused } from "../errors.js";
import { readCatalogSync } from "../db/catalog.js";
import { writeTransactionInto } from "../db/files.js";
import { allRows, inWalMode, mainFile, textEncoding, type LibsqlDatabase } from "../db/local.js";
import { quoteIdent, RowInserter, type SqlValue } from "../db/value.js";
import { quarantineByReason, recordLedger, type QuarantineTable } from "../db/ledger.js";
import { wouldConvert } from "./affinity.js";
import type { BackupHeader, Trailer } from "./format.js";
import type { ImporterRule } from "./importers.js";
import { linesAtMost, peekHeader, peekTrailer, readBackup, type BackupVisitor } from "./read.js";
import { assertProvenAgainst, attachSource, NativeLoader } from "./native-load.js";
import { copyAhead, proofBesideFor, provenBeside, ProofBeside, type ProvedBy } from "./native-proof.js";
import { applyHeaderSettings, parseFileSettings, type FileSettings } from "../db/file-settings.js";
import { base64Blob, readReference, type ReferenceScan, type ReferenceVisitor } from "./reference.js";
import { backupTable, LineHasher } from "./tables.js";
import { BigValue } from "./big-value.js";
import { streamAbove } from "./long-line.js";
import { BigInserter, bigLooksNumeric } from "./big-insert.js";
import { dropStage, ReadWholeTally } from "./big-write.js";
import { base64TextBlob } from "./reference-long.js";
import { QuarantineWriter } from "./quarantine-writer.js";
import { duplicateTextVersion, versionDecision } from "./version-rows.js";
import { carryObjects, type ObjectsCarried } from "../db/objects.js";
import { APPEND_ONLY, dropDerived, insertRow, planTables, QUARANTINE, ROWID, seedRows, SPECIAL, type Plan, type TableImport } from "./import-plan.js";
import { clearPlan, HeldRows } from "./held-rows.js";
import { checkNewFile, checkParity, committedChecks } from "./import-parity.js";
import { HashOfRead } from "../util/file-hash-beside.js";
import { envInteger } from "../util/env.js";
import { restoreSequences, type SequenceRow } from "./sequence-rows.js";

export interface ImportReport {
  runId: string;
  tables: TableImport[];
  /** Rows of the backup's tables, `sqlite_sequence` entries not included (see `sequences`). */
  totalRows: number;
  loaded: number;
  quarantined: number;
  /** Loaded rows with some values in quarantine (counted apart from `quarantined`). */
  partial: number;
  foreignKeyViolations: { table: string; count: number }[];
  /** Tables whose foreign keys SQLite cannot check (e.g. "foreign key mismatch": the parent column is not unique). */
  foreignKeyUncheckable: { table: string; error: string }[];
  integrity: string;
  ftsRebuilt: string[];
  /** The source's own indexes, triggers and views: carried into the new file, or named with SQL and reason. */
  objects: ObjectsCarried;
  /** Tables whose big values the export read whole, and why (big-write.ts). */
  readWhole: { table: string; values: number; reason: string }[];
  /** `sqlite_sequence` entries, counted apart from rows: carried for tables that load, the others quarantined. */
  sequences: { entries: number; restored: number; quarantined: number };
  sequencesRestored: number;
  /** Baseline seed rows kept (re-inserted where no legacy row took their key). */
  seeded: number;
  backupSha256: string;
  /** With countQuarantine: what legacy_quarantine holds once the import is done (a dry-run's prediction of the apply's). */
  quarantineTable?: QuarantineTable;
}

interface ImportOptions {
  backupPath: string;
  /** A file in vox's own export-legacy format, already scanned (`scanReference`): read from it instead of `backupPath` (unverifiable; its sha256 is the scan's). */
  reference?: ReferenceScan;
  /** The target database; for a dry-run, the trial import goes to a temporary file instead. */
  targetPath: string;
  baselineSql: string;
  baselineVersion: number;
  history: number[];
  rules: Map<string, ImporterRule>;
  /**
   * The sha256 the backup was verified with by an earlier step (the cutover's verify-backup): a
   * different file is refused. Either way the load checks every hash as it reads, and nothing
   * commits unless the whole file verified.
   */
  verifiedSha256?: string;
  /** Where the rows go: the real target (apply) or a scratch file (dry-run); `countQuarantine`: the report's quarantineTable. */
  into: "target" | "scratch";
  countQuarantine?: boolean;
  runId?: string;
  planDigest?: string;
  command?: string;
  /** Progress: rows copied so far; `phase` names what the import does now ("copying rows", then "rebuilding indexes", "checking"). */
  onProgress?: (p: { rowsDone: number; totalRows: number; table: string; phase?: string }) => void;
  /** Test hooks: which thread proved a table copied natively ("beside": the proof worker; "taken": this thread instead of waiting; "here": this thread, the worker unable), and who answered the tickets (each once). */
  onProof?: (table: string, by: ProvedBy) => void;
  onProofsAnswered?: (a: { tickets: number; worker: number; taken: number }) => void;
  /** Test hook: the verified backup's whole-file hash was taken apart from its read, by a worker or (none could) by this thread after it; null: not held (refused). */
  onFileHash?: (by: "worker" | "here" | null) => void;
  /** Test hook: throw after this many loaded rows (failure injection). */
  failAfterRows?: number;
  /** A new file's settings; default: the backup header's (the source file's), none for a reference file. */
  settings?: FileSettings | null;
  /**
   * The database the backup was made from, read-only: tables whose columns map one to one are copied
   * from it inside SQLite and proven equal to the backup by their canonical hashes (native-load.ts);
   * the others, and any table not proven, load row by row from the backup. Absent: all row by row.
   */
  source?: string;
  /** A new file: its rows are committed before its checks, and this hears its path then (written after only to carry objects or turn to WAL). */
  onCommitted?: (path: string) => void;
}

const INDEX_PHASE = "rebuilding indexes"; // then FTS, statistics, checks: one thread
/**
 * Loads a backup into a baseline database in one transaction with replace semantics, verifying it in the
 * same single pass: a failure anywhere, a file that does not verify too, rolls everything back (a new file is built under a temporary name).
 */
export async function importBackup(opts: ImportOptions): Promise<ImportReport> {
  const runId = opts.runId ?? randomUUID();
  const mode = opts.into === "scratch" ? "scratch" : existsSync(opts.targetPath) ? "existing" : "create";
  // A new file is private until renamed into place (a failure deletes it): no rollback journal or fsync per commit; one fsync before the rename.
  const settings =
    mode === "existing" ? null : opts.settings !== undefined ? opts.settings : opts.reference ? null : parseFileSettings(peekHeader(opts.backupPath)?.settings);
  const seen: { header?: BackupHeader } = {};
  // The operator's own indexes, views and triggers: after the rows (a trigger never fires during the
  // load), each in a savepoint of a journaled transaction (one that does not compile is undone).
  const then = (db: LibsqlDatabase, r: ImportReport) => {
    r.objects = carryObjects(db, seen.header?.objects ?? []);
    if (r.objects.carried.length && mode !== "scratch") {
      const ic = allRows(db, "PRAGMA quick_check")
        .map((x) => String(Object.values(x)[0]))
        .join("; ");
      if (ic !== "ok")
        throw failed({
          what: `quick_check after carrying your own indexes, triggers and views: ${ic.slice(0, 300)}.`,
          untouched: "The import was rolled back.",
          next: "Report this with the backup file.",
        });
    }
  };
  // The native path needs the backup's claimed hashes (checked as the file is read: assertProvenAgainst) and the source attached. A big value is written through sqlite_dbpage, refused beside a read-only attached file: a line above streamAbove() (1 MB) loads row by row.
  const trailer = opts.source !== undefined && !opts.reference && linesAtMost(opts.backupPath, streamAbove()) ? peekTrailer(opts.backupPath) : null;
  const native: { trailer: typeof trailer; why: string | null } = { trailer, why: trailer ? null : "no source or no trailer" };
  const before = trailer ? (db: LibsqlDatabase) => void (native.why = attachSource(db, opts.source!, opts.targetPath)) : undefined;
  // A private new file of a large source: the copied tables are committed and proven by a worker beside the load.
  const beside = trailer !== null && mode !== "existing" && proofBesideFor(opts.source!, opts.targetPath);
  return writeTransactionInto<ImportReport>(
    {
      path: opts.targetPath,
      mode,
      tag: mode === "scratch" ? "dryrun" : "building",
      fast: true,
      readersBeside: beside,
      foreignKeysOff: true,
      settings,
      then,
      before,
    },
    async (db) => {
      const proofs = beside && native.why === null ? new ProofBeside(mainFile(db), db) : null;
      // The backup this run verified: its whole-file hash on the other core while this thread reads it (from 512 MB; test hook
      // VOX_CUTOVER_IMPORT_HASH_BESIDE_BYTES): at 1 GB the build ~0.4 s shorter; at 150 MB ~0.07 s longer (the worker's start, and the proofs' core).
      const besideFrom = envInteger("VOX_CUTOVER_IMPORT_HASH_BESIDE_BYTES", 512 << 20);
      const fileHash = opts.verifiedSha256 !== undefined && !opts.reference ? new HashOfRead(opts.backupPath, true, besideFrom) : null;
      try {
        const r = load(db, { ...opts, settings }, runId, mode !== "existing", seen, native.why === null ? native.trailer : null, proofs, fileHash);
        if (fileHash?.beside) {
          const h = await fileHash.sha256();
          opts.onFileHash?.(h?.by ?? null);
          if (h?.sha256 !== opts.verifiedSha256) throw changedSinceVerified();
        }
        return r;
      } finally {
        fileHash?.stop();
        await proofs?.close(opts.onProofsAnswered);
      }
    },
  );
}

const changedSinceVerified = () =>
  refused({ what: "The backup changed between verification and import.", untouched: "The import was rolled back.", next: "Take and verify a new backup." });

function load(
  db: LibsqlDatabase,
  opts: ImportOptions,
  runId: string,
  fresh: boolean,
  seen: { header?: BackupHeader },
  trailer: Trailer | null,
  proofs: ProofBeside | null,
  fileHash: HashOfRead | null,
): ImportReport {
  const B = BigInt(opts.baselineVersion);
  const hist = new Set(opts.history.map((h) => BigInt(h)));
  // The target must be on the baseline: apply the (idempotent) baseline DDL inside the transaction.
  const versionsBefore = allRows(db, "SELECT name FROM sqlite_master WHERE name = 'schema_version'").length
    ? allRows(db, "SELECT version FROM schema_version").map((r) => r.version)
    : [];
  if (versionsBefore.some((v) => v !== B && !(typeof v === "bigint" && hist.has(v)))) {
    throw refused({
      what: `The target ${opts.targetPath} is not on baseline ${opts.baselineVersion} (schema_version holds ${versionsBefore.map(String).join(", ")}).`,
      untouched: "The target was not changed.",
      next: "Import into a new file (a path that does not exist yet) or a database on the current baseline.",
    });
  }
  db.exec(opts.baselineSql);
  db.exec(`INSERT OR IGNORE INTO schema_version(version, applied_at) VALUES (${opts.baselineVersion}, strftime('%Y-%m-%dT%H:%M:%fZ','now'))`);
  const catalog = readCatalogSync(db);
  const encoding = textEncoding(db);
  let plans = new Map<string, Plan>();
  let totalRows = 0;
  let seeds: ReturnType<typeof seedRows> = [];
  let native: NativeLoader | null = null;
  /** Tables copied natively before the backup is read, each sent to the proof worker: its ticket. */
  const tickets = new Map<string, number>();
  // Planned from the header, the first line: mapping, then replace semantics (clear what is loaded).
  const onHeader = (header: BackupHeader) => {
    seen.header = header;
    totalRows = header.tables.filter((t) => !SPECIAL.has(t.name)).reduce((n, t) => n + Number(t.rows), 0);
    plans = planTables(header, catalog, opts.rules);
    const toClear = clearPlan(db, plans, held); // what loads, but never the product's own records (held-rows.ts)
    // Replace semantics clears every table that loads; the baseline's seed rows are put back after
    // the load with INSERT OR IGNORE, so a legacy row with the same key replaces its seed row.
    seeds = seedRows(opts.baselineSql, toClear);
    // Indexes are built once after the load and FTS indexes rebuilt once (not row by row via triggers).
    derived = dropDerived(db, toClear);
    const clearedCounts = new Map<string, number>();
    for (const t of toClear) {
      clearedCounts.set(t, Number(allRows(db, `SELECT count(*) AS n FROM ${quoteIdent(t)}`)[0]!.n));
      db.exec(`DELETE FROM ${quoteIdent(t)}`);
    }
    for (const p of plans.values()) if (p.target) p.report.cleared = clearedCounts.get(p.target.name) ?? 0;
    if (trailer) {
      const targets = [...plans.values()].flatMap((p) => (p.target ? [p.target.name] : []));
      native = new NativeLoader(db, trailer, new Set(targets.filter((t, i) => targets.indexOf(t) !== i)));
      if (proofs)
        copyAhead(db, native, proofs, plans, tickets, (table) => opts.onProgress?.({ rowsDone: 0, totalRows, table, phase: "copying tables inside SQLite" }));
    }
    fileHash?.start(); // the copies ahead done: the rest of the read leaves the other core free
  };
  let derived: string[] = [];
  const held = new Map<string, number>(); // an append-only table's rows before the load (parity counts them)
  const sameRow = new HeldRows(db, encoding);
  const now = new Date().toISOString();
  // legacy_quarantine is append-only and idempotent (quarantine-writer.ts).
  const q = new QuarantineWriter(db, runId, now);
  let partialTotal = 0;
  const sequences: SequenceRow[] = [];
  /** schema_version numbers loaded, and the TEXT rows among them (their values as in the backup). */
  const versionsLoaded = new Set<bigint>();
  const textVersions = new Map<bigint, SqlValue[]>();
  let rowsDone = 0;
  let loadedTotal = 0;
  const readWhole = new ReadWholeTally();
  const injected = () => {
    if (opts.failAfterRows !== undefined && loadedTotal >= opts.failAfterRows) throw new Error(`injected failure after ${loadedTotal} rows`);
  };
  const visitor: ReferenceVisitor = {
    // Every table hash, count, rowid order and the whole-file hash are checked as the rows load, and
    // every value is held to verify-backup's canonical checks (a hash alone is plain SHA-256: whoever
    // edits a value can recompute it). Only a file this run verified already (verifiedSha256, its
    // whole-file hash compared below before the commit) skips the re-encoding.
    trusted: opts.verifiedSha256 !== undefined,
    wholeFileHashBeside: fileHash?.beside,
    bigValues: true,
    onHeader,
    onTable(bt) {
      const p = plans.get(bt.name)!;
      if (!p.target) return;
      const ticket = tickets.get(bt.name);
      const n = ticket !== undefined ? provenBeside(native!, proofs!, p, ticket, opts.onProof) : proofs ? null : (native?.load(p) ?? null);
      p.report.loadedBy = n === null ? "rows" : "native";
      if (n !== null) {
        // Loaded inside SQLite and proven equal to the backup: its rows are only hashed as the file is read.
        // Proven by its hash (a widened table's on the backup's columns: import-plan.ts planned "count" for the row path).
        p.native = true;
        p.report.parity = "hash";
        p.report.loaded = n;
        loadedTotal += n;
        rowsDone += n;
        injected();
        opts.onProgress?.({ rowsDone, totalRows, table: bt.name, phase: "copying rows into the new file" });
        return;
      }
      const idx = p.map.map((m, i) => (m === null ? -1 : i)).filter((i) => i >= 0);
      p.insertIdx = idx;
      const rowidName = backupTable(p.target, 0n).rowidColumn;
      if (idx.some((i) => p.map[i] === ROWID) && !rowidName)
        throw failed({
          what: `Table ${p.target.name} shadows rowid, _rowid_ and oid with columns: its rowids cannot be set.`,
          untouched: "The import was rolled back.",
          next: "Rename one of those columns in the baseline.",
        });
      const names = idx.map((i) => (p.map[i] === ROWID ? rowidName! : quoteIdent(p.map[i]!)));
      p.insertNames = names;
      // Every value keeps its bytes and storage class (placeOf: TEXT that is not UTF-8 is bound as its bytes and cast back to TEXT; in a UTF-16 file, text SQLite would convert is bound as its UTF-16 bytes).
      p.insert = new RowInserter(db, `INSERT INTO ${quoteIdent(p.target.name)} (${names.join(", ")})`, names.length, encoding);
      p.bigInsert = new BigInserter(
        db,
        p.target.name,
        idx.map((i) => (p.map[i] === ROWID ? rowidName! : p.map[i]!)),
        `INSERT INTO ${quoteIdent(p.target.name)} (${names.join(", ")})`,
      );
      p.hash ??= new LineHasher();
    },
    hashOnly: (bt) => plans.get(bt.name)?.native === true,
    onRow(bt, values0, line, issue) {
      // A row holding a big value comes without its line.
      if (line === null) readWhole.see(bt, values0);
      let values = values0;
      const p = plans.get(bt.name)!;
      if (p.native) return; // a long line of a table loaded natively
      if (p.report.mapping === "special") {
        if (bt.name === "sqlite_sequence") {
          const seq = values[bt.columns.indexOf("seq")];
          sequences.push({ name: String(values[bt.columns.indexOf("name")]), seq: typeof seq === "bigint" ? seq : 0n, values });
        }
        return;
      }
      rowsDone++;
      if (issue) return q.whole(p, values, issue.reason, issue.raw);
      if (p.wholeReason || !p.target) return q.whole(p, values, p.wholeReason ?? "unknown-table");
      let version: bigint | null = null;
      let textRow: SqlValue[] | null = null;
      if (p.target.name === "schema_version") {
        // A TEXT '66' loads as 66 (what the INTEGER column makes of it) unless the file also holds 66 as an INTEGER.
        const vi = p.bt.columns.indexOf("version");
        const d = versionDecision(values[vi] ?? null, B, hist);
        if ("quarantine" in d) return q.whole(p, values, d.quarantine);
        if (d.fromText) {
          if (versionsLoaded.has(d.load)) return q.whole(p, values, duplicateTextVersion(values[vi] as string, d.load, B));
          textRow = values;
          values = [...values];
          values[vi] = d.load;
        } else if (textVersions.has(d.load)) {
          // The INTEGER row wins: the TEXT one loaded before it moves to quarantine.
          const tv = textVersions.get(d.load)!;
          textVersions.delete(d.load);
          db.prepare("DELETE FROM schema_version WHERE version = ?").run(d.load);
          p.report.loaded--;
          loadedTotal--;
          q.whole(p, tv, duplicateTextVersion(tv[vi] as string, d.load, B));
        }
        version = d.load;
      }
      // vox's export writes a BLOB as "base64:…": a BLOB only where the target column is declared BLOB.
      for (const i of p.blobIdx) {
        const v = values[i];
        if (typeof v === "string") values[i] = base64Blob(v) ?? v;
        else if (v instanceof BigValue) values[i] = (base64TextBlob(v) ?? v) as unknown as SqlValue; // in slices, never whole
      }
      for (const c of p.checks) {
        const v = values[c.idx]!;
        if (v instanceof BigValue ? c.aff !== "TEXT" && c.aff !== "BLOB" && bigLooksNumeric(v) : wouldConvert(v, c.aff)) {
          return q.whole(p, values, `type-change: ${p.bt.columns[c.idx]} would change storage class in ${p.target.name}.${c.col} (${c.aff} affinity)`);
        }
      }
      const args = p.insertIdx.map((i) => values[i]!);
      let reason = insertRow(p, args, db);
      // The backup's own quarantine row keeps its id: a row this import put there before it, on that id, moves (makeRoom).
      if (reason?.startsWith(`constraint: UNIQUE constraint failed: ${QUARANTINE}.id`) && q.makeRoom(p, values)) reason = insertRow(p, args, db);
      if (reason !== null) {
        // An append-only table's row it holds already (the same backup imported again, a backup of this file): not added twice.
        if (APPEND_ONLY.has(p.target.name) && reason.startsWith("constraint") && sameRow.held(p, args, values)) {
          p.report.present++;
          return;
        }
        return q.whole(p, values, reason);
      }
      p.report.loaded++;
      loadedTotal++;
      if (version !== null) versionsLoaded.add(version);
      if (version !== null && textRow) textVersions.set(version, textRow);
      // A row holding a large value comes without its line (bigValues): its line is re-encoded in pieces.
      if (p.sameShape) {
        if (line === null) p.hash!.row(values0);
        else p.hash!.line(line);
      }
      const a = q.values(p, values, p.unknownCols, "unknown-columns");
      const b = q.values(p, values, p.unlistedCols, "unlisted-key");
      if (a || b) {
        p.report.partial++;
        partialTotal++;
      }
      injected();
      if ((rowsDone & 0x3fff) === 0) opts.onProgress?.({ rowsDone, totalRows, table: bt.name, phase: "copying rows into the new file" });
    },
  };
  const result = opts.reference ? readReference(opts.reference, visitor) : readBackup(opts.backupPath, visitor as BackupVisitor);
  if (trailer) assertProvenAgainst(trailer, result.tables);
  // Beside: the trailer's claim here, the bytes' hash once the load is done (importBackup).
  if (opts.verifiedSha256 !== undefined && result.fileSha256 !== opts.verifiedSha256) throw changedSinceVerified();
  dropStage(db); // the private table big values went through, if any (big-write.ts)
  proofs?.finish(db);
  opts.onProgress?.({ rowsDone: totalRows, totalRows, table: "", phase: INDEX_PHASE });
  for (const sql of derived) db.exec(sql);
  // The backup's own baseline/history rows were loaded as they were; a legacy backup has none.
  db.exec(`INSERT OR IGNORE INTO schema_version(version, applied_at) VALUES (${opts.baselineVersion}, strftime('%Y-%m-%dT%H:%M:%fZ','now'))`);
  // sqlite_sequence: the backup's values for the tables that load into an AUTOINCREMENT table, the others quarantined.
  const autoinc = new Set(catalog.filter((t) => t.autoincrement).map((t) => t.name));
  const { restored: sequencesRestored, quarantined: sequencesQuarantined } = restoreSequences(db, sequences, plans, autoinc, q, { runId, now });
  // Parity: every backed-up row is in the new file or in legacy_quarantine.
  const reports = [...plans.values()].map((p) => p.report);
  const byTarget = checkParity(db, plans, catalog, held);
  // The baseline's seed rows, where no legacy row took their key (any UNIQUE key: OR IGNORE).
  let seededTotal = 0;
  for (const s of seeds) {
    const st = db.prepare(
      `INSERT OR IGNORE INTO ${quoteIdent(s.table)} (${s.columns.map(quoteIdent).join(", ")}) VALUES (${s.columns.map(() => "?").join(", ")})`,
    );
    let n = 0;
    for (const r of s.rows) n += Number((st.run(r as unknown[]) as { changes: number | bigint }).changes);
    seededTotal += n;
    const ps = byTarget.get(s.table) ?? [];
    if (ps[0]) ps[0].report.seeded += n;
  }
  const ftsRebuilt: string[] = []; // FTS indexes, rebuilt from their content tables
  for (const t of catalog.filter((x) => x.virtual && /fts5/i.test(x.sql))) {
    db.exec(`INSERT INTO ${quoteIdent(t.name)}(${quoteIdent(t.name)}) VALUES ('rebuild')`);
    ftsRebuilt.push(t.name);
  }
  // Planner statistics for the new file (not the attached source): ~1000 rows an index, as SQLite advises (lang_analyze.html; 1 GB: 584 → 18 ms).
  if (fresh) db.exec("PRAGMA analysis_limit=1000; ANALYZE main; PRAGMA analysis_limit=0");
  const sequenceCounts = { entries: sequences.length, restored: sequencesRestored, quarantined: sequencesQuarantined };
  const counts = { rows: totalRows, loaded: loadedTotal, quarantined: q.quarantined, present: reports.reduce((n, r) => n + r.present, 0) }; // rows = the three
  recordLedger(db, {
    runId,
    command: opts.command ?? "import-legacy",
    planDigest: opts.planDigest ?? null,
    backupSha256: result.fileSha256,
    counts: { ...counts, partial: partialTotal, sequences: sequenceCounts, seeded: seededTotal },
  });
  // The checks come last (the cutover relies on their integrity_check having seen every row committed); a large source's on two connections.
  if (fresh && opts.onCommitted && opts.settings) applyHeaderSettings(db, opts.settings); // before the commit: not written after the checks
  const beside = proofs?.checksBeside(db, opts.source!) ?? (fresh && opts.onCommitted ? committedChecks(db) : undefined);
  if (opts.onCommitted && beside && !inWalMode(db)) opts.onCommitted(mainFile(db));
  opts.onProgress?.({ rowsDone: totalRows, totalRows, table: "", phase: "checking foreign keys and integrity" });
  const { foreignKeyViolations, foreignKeyUncheckable, integrity } = checkNewFile(db, catalog, beside, byTarget);
  return {
    runId,
    tables: reports,
    totalRows,
    loaded: loadedTotal,
    quarantined: q.quarantined,
    partial: partialTotal,
    foreignKeyViolations,
    foreignKeyUncheckable,
    integrity,
    ftsRebuilt,
    objects: { carried: [], notCarried: [] }, // filled once the rows are committed (importBackup's `then`)
    readWhole: readWhole.list(),
    sequences: sequenceCounts,
    sequencesRestored,
    seeded: seededTotal,
    backupSha256: result.fileSha256,
    ...(opts.countQuarantine ? { quarantineTable: quarantineByReason(db) } : {}),
  };
}
