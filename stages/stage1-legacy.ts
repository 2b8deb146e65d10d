/**
 * Stage 1 — Legacy schema_version chain. Export every row to a backup and prove it; build the new
 * file beside the primary on the baseline and import; check it; make sure the primary did not
 * change; swap (the old file goes to the archive, never deleted); record the ledger row.
 */
import { formatCount, plural } from "../src/util/count.js";
import { splitSequences } from "../src/backup/format.js";
import { chmodSync, chownSync, existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { verifyExport } from "../src/backup/compare.js";
import { exportBackup } from "../src/backup/export.js";
import { importBackup } from "../src/backup/import.js";
import { loadImporters } from "../src/backup/importers.js";
import { buildOutputs, exportOutputs } from "../src/engine/stage1-outputs.js";
import { adoptBackup, adoptBuild } from "./stage1-adopt.js";
import { jsonInt } from "../src/db/classify.js";
import { diagnoseStructure, structureLines } from "../src/diagnose/diagnose.js";
import { allRows, openReadWrite } from "../src/db/local.js";
import { failed, refused } from "../src/errors.js";
import { assertUnchangedSince, contentState, LIVE_WRITE_GATE, sameContent, untouchedSince, type ContentState } from "../src/safety/content-version.js";
import { pausePoint } from "../src/engine/testhooks.js";
import { recordLedger } from "../src/db/ledger.js";
import { settleReadersSideFiles } from "../src/db/files.js";
import { fsyncDir } from "../src/util/fsync.js";
import { inodeOf, sameInode } from "../src/safety/identity.js";
import { assertRecorded, recordFile, type FileRecord } from "../src/safety/runfiles.js";
import { archivedPath, DB_SIDE_SUFFIXES } from "../src/layout.js";
import { defineStep, type RunContext, type Step } from "./types.js";
import { assertStillPlannedFile } from "./stage0-preconditions.js";
import { sidecarBeforeSwap, STAGE1_ONLY } from "./stage2to4.js";
import { finishRenamedSwap, forwardFromUndo, renameArchivedBack, stoppedInUndo } from "./stage1-swap-resume.js";
import { holdPrimary, releaseClosedHandles, type PrimaryHold } from "../src/safety/hold.js";
import { sharedLockNote } from "../src/safety/reader-lock.js";
import { assertNewFileUnheld, describeHolders, holdersAfterRename } from "../src/safety/holders.js";

export const exportStep: Step = defineStep({
  id: "export",
  stage: 1,
  kind: "write",
  title: "Export every row to the backup",
  describe: (c) =>
    c.trial
      ? `adopt the dry-run's backup (${c.trial.record.createdAt}, the primary unchanged since its export): moved to ${c.backupPath}, not exported again`
      : `stream every table of ${c.dbPath} (read-only, one snapshot) to ${c.backupPath}`,
  reuse: "check",
  reusable: (c) => existsSync(c.backupPath),
  async run(c) {
    const adopted = c.trial ? adoptBackup(c, c.trial) : null;
    if (adopted) return adopted;
    const identity = contentState(c.dbPath);
    const held = sharedLockNote(c.dbPath, "the export");
    if (held) c.emit({ type: "note", text: held });
    const r = await exportBackup({
      dbPath: c.dbPath,
      outPath: c.backupPath,
      force: true, // the run's own backup path, inside its own work dir
      chain: c.diagnosis.chain,
      maxVersion: jsonInt(c.diagnosis.classification.maxVersion),
      baseline: { version: c.base.manifest.baselineVersion, digest: c.base.digest },
      onProgress: (p) => {
        c.emit({ type: "step-progress", id: "export", done: p.rowsDone, total: p.totalRows, label: p.table, phase: "copying rows to the backup" });
        c.token.throwIfCancelled("during the export (the partial backup was removed)");
        pausePoint("export-progress");
      },
    });
    return exportOutputs(r, identity);
  },
});

export const verifyStep: Step = defineStep({
  id: "verify-backup",
  stage: 1,
  kind: "read",
  title: "Verify the backup",
  describe: (c) =>
    `re-read ${basename(c.backupPath)}: every hash recomputed and held to the export's record, every table counted in the live primary (count(*)); its hashes are the export's reading while its content version is unchanged since the export and nothing wrote to it (its status-change time), else the primary is re-read and hashed`,
  async run(c) {
    const exp = c.outputs.need("export");
    // Another file at the name (its size and times may match the export's) is named as such, before its rows are compared.
    assertStillPlannedFile(c, true);
    // compare.ts verifyExport: the primary unchanged since the export's snapshot is counted, not re-read;
    // otherwise the backup is re-read here while a worker hashes the live primary on the other core.
    const v = await verifyExport(c.backupPath, c.dbPath, exp, {
      onProgress: (p) =>
        c.emit({ type: "step-progress", id: "verify-backup", done: p.rowsDone, total: p.totalRows, label: p.table, phase: "re-reading the backup" }),
    });
    const { read: r, comparison: cmp } = v;
    if (r.fileSha256 !== exp.sha256) {
      throw refused({
        what: `The backup ${c.backupPath} changed since it was written (sha256 ${r.fileSha256} ≠ ${exp.sha256}).`,
        untouched: "The primary was not changed.",
        next: "Start over (--rollback, then run again).",
      });
    }
    c.token.throwIfCancelled("after reading the backup");
    if (!cmp.ok) {
      throw refused({
        what: `The backup does not equal the primary: ${cmp.firstDifference}. The primary may have been written to since the export.`,
        untouched: "The primary was not changed.",
        next: "Stop the application that writes to it, then --rollback and run the cutover again.",
        details: { gate: LIVE_WRITE_GATE },
      });
    }
    const counted = splitSequences(r.tables);
    const hashes = plural(counted.tables.length, "table hash", "table hashes");
    const seq = counted.sequences ? ` (and ${formatCount(counted.sequences)} sqlite_sequence entries)` : "";
    return {
      summary:
        v.live === "content-version"
          ? `${formatCount(counted.totalRows)} rows${seq}, ${hashes} recomputed equal to the export's; counts equal to the live primary's (count(*)); hashes: the export's reading, the primary unchanged since (content version)`
          : `${formatCount(counted.totalRows)} rows${seq}, ${hashes} equal to the primary's, re-read (${v.reReadBecause})`,
      outputs: { verified: true, sha256: r.fileSha256, rows: r.totalRows, live: v.live },
    };
  },
});

const buildImportStep: Step = defineStep({
  id: "build-import",
  stage: 1,
  kind: "write",
  title: "Build the new file and import",
  describe: (c) =>
    c.trial
      ? `adopt the dry-run's new file (baseline ${c.base.manifest.baselineVersion}, built from that backup and checked): moved to ${basename(c.newPath)} beside the primary, kept only if its sha256 is unchanged since its checks, else built again`
      : `create ${basename(c.newPath)} beside the primary on baseline ${c.base.manifest.baselineVersion}, load the backup (replace semantics, one transaction); misfits go to legacy_quarantine`,
  reuse: "check",
  reusable: (c) => existsSync(c.newPath),
  async run(c) {
    // Temporary files of an attempt that was killed mid-import are this product's own: clear them.
    const dir = dirname(c.newPath);
    for (const f of readdirSync(dir)) if (f.startsWith(`.${basename(c.newPath)}.vox-cutover-building-`)) rmSync(join(dir, f), { force: true });
    // The backup is the file the export made (its whole-file hash is compared again before the import commits).
    const exp = c.outputs.need("export");
    const ver = c.outputs.get("verify-backup");
    assertRecorded("the backup", c.backupPath, exp.file, { inodeOnly: true });
    if (c.trial && exp.adopted === c.trial.record.createdAt) {
      const adopted = await adoptBuild(c, c.trial, ver?.verified === true);
      if (adopted) return adopted;
    }
    const held = sharedLockNote(c.dbPath, "the build (it copies tables from it inside SQLite)");
    if (held) c.emit({ type: "note", text: held });
    const progress = importProgress(c, "build-import", "during the import (its transaction was rolled back; the new file was not created)");
    const r = await importBackup({
      backupPath: c.backupPath,
      targetPath: c.newPath,
      baselineSql: c.base.sql,
      baselineVersion: c.base.manifest.baselineVersion,
      history: c.base.policy.history,
      rules: loadImporters(),
      verifiedSha256: ver?.sha256 ?? exp.sha256,
      // Tables that map one to one are copied from the primary inside SQLite and proven equal to the backup.
      source: c.dbPath,
      into: "target",
      runId: c.runId,
      planDigest: c.planDigest,
      command: `${c.command}:import`,
      onProgress: (p) => {
        progress(p);
        // The rows committed into the private build file, its checks about to run on two connections.
        if (p.phase === "checking foreign keys and integrity") pausePoint("import-checks");
      },
    });
    return buildOutputs(r, c.newPath, ver?.verified === true, exp.readWhole);
  },
});

/** An import's progress as step `id`'s, and a stop request honoured at each report (`during`: what stopping undoes). Also the import route's (stage1-import.ts). */
export function importProgress(c: RunContext, id: string, during: string): NonNullable<Parameters<typeof importBackup>[0]["onProgress"]> {
  return (p) => {
    c.emit({ type: "step-progress", id, done: p.rowsDone, total: p.totalRows, label: p.table || undefined, ...(p.phase ? { phase: p.phase } : {}) });
    c.token.throwIfCancelled(during);
    pausePoint("import-progress");
  };
}

const checksStep: Step = defineStep({
  id: "checks",
  stage: 1,
  kind: "read",
  title: "Check the new file",
  describe: () =>
    "the new file is on the baseline: chain current, every required table; it is the file the import built, unwritten since (integrity_check, foreign_key_check and parity ran inside the import)",
  async run(c) {
    // On resume too: the new file is the one this run built (a replaced one is neither checked nor swapped in).
    assertRecorded("the new file", c.newPath, builtFile(c));
    const d = await diagnoseStructure({ ...c.diagnosis.resolved, path: c.newPath, display: c.newPath }, c.base);
    if (d.chain !== "current" || d.missingTables.length || d.missingColumns.length || (d.structure && !d.structure.equal)) {
      throw failed({
        what: `The new file ${c.newPath} is ${d.chain}${d.missingTables.length ? `, missing ${d.missingTables.join(", ")}` : ""}${d.structure && !d.structure.equal ? `, structure differs from the target: ${structureLines(d.structure).slice(0, 3).join("; ")}` : ""}.`,
        untouched: "The primary was not changed.",
        next: "Roll back (--rollback) and report this.",
      });
    }
    // No second read of the whole file here: the import's integrity_check (a superset of quick_check)
    // ran last inside the transaction that wrote it, and assertRecorded above proves this is that file,
    // unwritten since (inode, size, mtime, header). Objects carried after it are quick_checked there.
    const imp = c.outputs.need("build-import");
    const integrity = imp.integrity;
    const fk = imp.foreignKeyViolations.reduce((n, f) => n + f.count, 0);
    return {
      summary: `chain current, ${formatCount(d.tables.length)} tables, integrity_check ok (in the import${imp.adopted ? ": the dry-run's, its file's sha256 unchanged since" : ""}), ${formatCount(fk)} foreign-key orphan(s) carried over, ${formatCount(imp.quarantined)} row(s) in legacy_quarantine`,
      ...(fk ? { warnings: [`${formatCount(fk)} foreign-key orphan row(s) carried over from the legacy file`] } : {}),
      outputs: { chain: d.chain, integrity, foreignKeyOrphans: fk },
    };
  },
});

export const unchangedStep: Step = defineStep({
  id: "primary-unchanged",
  stage: 1,
  kind: "read",
  title: "Primary unchanged since the export",
  describe: () => "compare the primary's size, modification time, change counter, WAL and status-change time with the moment of the export",
  async run(c) {
    assertStillPlannedFile(c, true); // its size and times may match the export's: the file itself must
    const now = assertUnchangedSince(c.outputs.need("export").identity, c.dbPath, "the new file would miss those writes");
    return { summary: "unchanged", outputs: { identity: now } };
  },
});

/** The record of the new file this run built: the rebuild's import, the fold's copy or the import route's. */
function builtFile(c: RunContext): FileRecord | undefined {
  return c.outputs.get("build-import")?.file ?? c.outputs.get("fold")?.file ?? c.outputs.get("import")?.file;
}

export function archivePath(c: { archiveDir: string; dbPath: string }): string {
  return archivedPath(c.archiveDir, c.dbPath);
}

/**
 * The swap never leaves the primary's name empty: the old file is hard-linked into the archive,
 * then the new file is renamed over the name in one step. Each phase is journaled (fsynced) before
 * the next move, so a resume knows where it stood: intent → primary-archived (the archive is a
 * second name of the old file) → new-in-place.
 *
 * All of it runs under the hold (src/safety/hold.ts: SQLite's own write lock on the primary),
 * after the typed confirmation, and again on every resume: the primary is checked against the
 * export (or the state journaled under an earlier hold), checkpointed (WAL: the -wal truncated, so
 * the archived file alone holds everything), linked, replaced; then, the lock still held, anyone
 * holding the old file is looked for once more: if someone does, the swap is undone (the original
 * renamed back over its name, the new file kept beside it) and the run refuses (3) naming them.
 */
export const swapStep: Step = defineStep({
  id: "swap",
  stage: 1,
  kind: "destructive",
  title: "Swap: archive the old file, put the new one in its place",
  needsConfirmation: true,
  swapBoundary: true,
  confirmation: (c) => {
    if (c.swapPhase !== "none") return null; // the swap had begun: finishing it needs no new consent
    const evidence = c.outputs.get("build-import")?.evidence;
    return { expected: basename(c.dbPath), ...(evidence ? { evidence } : {}) };
  },
  describe: (c) =>
    `hold SQLite's write lock on the primary and, under it, check it is unchanged since the export, checkpoint it, hard-link it into ${archivePath(c)}, rename ${basename(c.newPath)} over ${basename(c.dbPath)} in one step (the name is never empty), check nobody holds the old file`,
  async run(c) {
    const archive = archivePath(c);
    // The new file is the one this run built and checked (a replaced one is never swapped in, resume included).
    const newRecord = builtFile(c);
    // Stopped inside the undo of a swap, the new file has served the name since its rename: it may have been written there (stage1-swap-resume.ts).
    const undoing = stoppedInUndo(c, archive);
    if (existsSync(c.newPath) && !undoing) assertRecorded("the new file", c.newPath, newRecord);
    // Stage 2 runs after the swap: what would stop it (a sidecar that cannot be read, compared or carried into this file, or is held open) stops the run now.
    if (c.swapPhase === "none" && existsSync(c.newPath) && !STAGE1_ONLY.has(c.command))
      sidecarBeforeSwap(c.dbPath, c.newPath, {
        holders: true,
        untouched: `The primary ${c.dbPath} was not changed; the new file ${c.newPath} and the run's folder are kept.`,
      });
    let held: PrimaryHold | null = null;
    return c.token.shield(async () => {
      if (undoing) forwardFromUndo(c);
      const renamed = c.swapPhase !== "none" && existsSync(archive) && !existsSync(c.newPath) && existsSync(c.dbPath) && !sameInode(c.dbPath, archive);
      // Stopped right after the rename: the new file is in place (stage1-swap-resume.ts).
      if (renamed && c.swapPhase !== "new-in-place") finishRenamedSwap(c, archive);
      else if (c.swapPhase !== "new-in-place") {
        if (!existsSync(c.dbPath))
          throw refused({
            what: `There is no file at ${c.dbPath} to swap.`,
            untouched: `The new file ${c.newPath}${existsSync(archive) ? ` and the archive ${archive}` : ""} were left as they are.`,
            next: "Run --rollback.",
          });
        if (existsSync(archive) && !sameInode(c.dbPath, archive)) {
          throw refused({
            what: `The file at ${c.dbPath} is neither the archived original (${archive}) nor the new file.`,
            untouched: `The new file ${c.newPath} and the archive were left as they are.`,
            next: "Run vox-cutover diagnose on both, then --rollback.",
          });
        }
        if (!existsSync(c.newPath)) {
          throw refused({
            what: `The new file ${c.newPath} is gone before the swap finished.`,
            untouched: `The primary ${c.dbPath} is the original${existsSync(archive) ? ` (also archived at ${archive})` : ""}.`,
            next: "Run --rollback, then the cutover again.",
          });
        }
        // Checked again right before anything moves: an application still holding the file would
        // keep writing into the archive.
        c.checkHolders("right before the swap");
        mkdirSync(c.archiveDir, { recursive: true });
        held = await swapHeld(c, archive);
      }
      // What rollback may put back: the archived original as it is now (read through the hold's own
      // descriptor while it is still held: opening and closing the file would drop SQLite's lock).
      return {
        summary: `old file archived at ${archive}; the new file is ${c.dbPath}`,
        outputs: { archive, archiveFile: existsSync(archive) ? recordFile(archive, undefined, held?.fd) : null },
      };
    });
  },
});

/**
 * The swap under the hold. After a swap that stayed, the hold (now on the archived original) is not
 * released here: the run keeps it until its last check before success (`assertArchiveUnheld`,
 * src/safety/hold.ts), so an application that got a descriptor of the old file late still waits.
 */
async function swapHeld(c: RunContext, archive: string): Promise<PrimaryHold | null> {
  const expected = (c.swapPhase !== "none" && c.swapState) || c.outputs.need("export").identity;
  await releaseClosedHandles();
  const hold = holdPrimary(c.dbPath);
  try {
    swapUnder(c, archive, expected, hold);
  } catch (e) {
    hold.release();
    throw e;
  }
  if (c.keepArchiveHeld) {
    c.keepArchiveHeld(hold);
    return hold;
  }
  hold.release();
  return null;
}

function swapUnder(c: RunContext, archive: string, expected: ContentState, hold: PrimaryHold): void {
  // The last check: after the confirmation, on every attempt, with the write lock held.
  assertStillPlannedFile(c, true);
  // Nothing of this run's own has touched the primary since `expected` was taken (the export's state, or the one journaled at
  // the intent, after the archive's link, or after an undo): any write counts, even one whose size and times were put back
  // (its ctime) — unless this run moved its ctime after journaling it: killed between the link and its journal entry (the
  // archive is there at the intent), or inside an undo (the archive renamed back, not yet journaled): content alone then.
  const linked =
    (c.swapPhase === "intent" && existsSync(archive) && sameInode(archive, c.dbPath)) || (c.swapPhase === "primary-archived" && !existsSync(archive));
  assertUnchangedSince(expected, c.dbPath, "the new file would miss those writes", hold.state(), linked ? sameContent : untouchedSince);
  // Nobody may hold the new file either (src/safety/holders.ts), checked before anything moves and again before its settle and rename.
  assertNewFileUnheld(c.newPath, `Nothing was moved: ${c.dbPath} is the original, with every row; the new file is kept at ${c.newPath}.`);
  hold.checkpoint();
  const state = hold.state();
  c.journalSwap("intent", state);
  if (!existsSync(archive)) linkSync(c.dbPath, archive);
  pausePoint("swap-linked");
  fsyncDir(c.archiveDir);
  c.journalSwap("primary-archived", hold.state()); // after the link (it moved the ctime): what a resume from here compares with
  pausePoint("swap-archived");
  const isBuilt = () =>
    assertRecorded("the new file", c.newPath, builtFile(c), {
      untouched: `Nothing was moved by this step: ${c.dbPath} is still the original (also linked into the archive ${archive}).`,
    });
  isBuilt();
  assertNewFileUnheld(
    c.newPath,
    `Nothing was renamed: ${c.dbPath} is still the original (also linked into the archive ${archive}); the new file is kept at ${c.newPath}.`,
  );
  // This run's own file, held by nobody: the empty -wal and the -shm its checks' read-only look left go
  // (src/db/files.ts), and it is checked again as it will be renamed (the settle writes nothing to it).
  settleReadersSideFiles(c.newPath);
  isBuilt();
  // The new file takes the primary's permission bits and owner, then its name (one rename).
  sameModeAs(c.newPath, c.run);
  // The new file is locked for this run before it takes the name: whoever looks at the name meets this run's lock.
  c.lock?.cover(c.newPath);
  // The old file's (empty) -wal and its -shm go beside the archive right before the rename: a
  // stale wal-index left at the name would be trusted by the new file's first readers and writers.
  for (const sfx of DB_SIDE_SUFFIXES) if (existsSync(c.dbPath + sfx)) renameSync(c.dbPath + sfx, archive + sfx);
  renameSync(c.newPath, c.dbPath);
  hold.swapped();
  fsyncDir(dirname(c.dbPath));
  pausePoint("swap-renamed");
  const late = holdersAfterRename(archive, inodeOf(archive)); // the whole settle after its first scan: a holder found here is undone cleanly
  if (late.length) {
    // Someone opened the old file inside the window: put it back before the lock is released.
    linkSync(c.dbPath, c.newPath);
    pausePoint("swap-undo-linked");
    renameArchivedBack(c, archive);
    hold.swapped(false);
    // The original's state now (the link and the renames moved its ctime, not its content), read through the hold: what a resume compares with.
    c.journalSwap("intent", hold.state());
    throw refused({
      what: `${describeHolders(late)}: it opened the database during the swap and holds the original file.`,
      untouched: `The swap was undone before the write lock was released: ${c.dbPath} is the original again, with every row it holds; the new file is kept at ${c.newPath}.`,
      next: "Stop that application, then run the cutover with --resume --apply (or undo the run with --rollback --apply).",
      details: { holders: late },
    });
  }
  c.journalSwap("new-in-place");
}

function sameModeAs(path: string, run: { mode: number | null; uid: number | null; gid: number | null }): void {
  if (run.mode === null) return;
  try {
    chmodSync(path, run.mode);
    if (run.uid !== null && run.gid !== null && process.getuid?.() === 0) chownSync(path, run.uid, run.gid);
  } catch {
    /* where the system does not allow it */
  }
}

export const ledgerStep: Step = defineStep({
  id: "ledger",
  stage: 1,
  kind: "write",
  title: "Ledger row",
  describe: () => "record the run in cutover_ledger (run id, mode, backup hash, counts, tool version)",
  async run(c) {
    const exp = c.outputs.get("export");
    const imp = c.outputs.get("build-import") ?? c.outputs.get("import");
    const db = openReadWrite(c.dbPath);
    try {
      const exists = allRows(db, "SELECT id FROM cutover_ledger WHERE run_id = ? AND command = ?", [c.runId, c.command]);
      if (!exists.length) {
        recordLedger(db, {
          runId: c.runId,
          command: c.command,
          planDigest: c.planDigest,
          backupSha256: exp?.sha256 ?? null,
          counts: { chainBefore: c.run.chainBefore, rows: exp?.rows ?? null, loaded: imp?.loaded ?? null, quarantined: imp?.quarantined ?? null },
        });
      }
    } finally {
      db.close();
    }
    return { summary: `cutover_ledger row for run ${c.runId}`, outputs: { runId: c.runId } };
  },
});

export const stage1Legacy: Step[] = [exportStep, verifyStep, buildImportStep, checksStep, unchangedStep, swapStep, ledgerStep];
