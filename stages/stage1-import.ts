/**
 * Stage 1 of `import-legacy` into a database that already exists. Every change is a swap: replace
 * semantics clear every table the import loads, so the import is made in a copy beside the file,
 * never in it. A verified backup of the database first (as every route takes), then the copy (VACUUM
 * INTO, proven equal to that backup: src/migrate/fold-copy.ts), the operator's backup loaded into it
 * in one transaction (src/backup/import.ts: checked, misfits to legacy_quarantine), and the rebuild's
 * own swap: the original archived in the work dir, a rollback a rename, `cutover --resume/--rollback`
 * as for any run. (Into a path where nothing is yet, import-legacy creates the file: no row to lose.)
 */
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { importBackup } from "../src/backup/import.js";
import { importJson } from "../src/backup/import-json.js";
import { readImportInput } from "../src/backup/import-input.js";
import { loadImporters } from "../src/backup/importers.js";
import { removeOwnDatabaseFiles } from "../src/db/files.js";
import { faultAfterRows, pausePoint } from "../src/engine/testhooks.js";
import { failed, refused } from "../src/errors.js";
import { copyProvenEqual, finishCopy } from "../src/migrate/fold-copy.js";
import { assertRecorded, recordFile, recordMismatch } from "../src/safety/runfiles.js";
import { fileKind } from "../src/safety/owned.js";
import { formatCount } from "../src/util/count.js";
import { exportStep, importProgress, ledgerStep, swapStep, unchangedStep, verifyStep } from "./stage1-legacy.js";
import { defineStep, type RunContext, type Step } from "./types.js";

function importFrom(c: RunContext): NonNullable<RunContext["options"]["importFrom"]> {
  const from = c.options.importFrom;
  if (!from)
    throw failed({
      what: "This run's journal names no backup to import.",
      untouched: "Nothing was changed by this step.",
      next: "Roll the run back (vox-cutover cutover --rollback --apply) and run import-legacy again.",
    });
  return from;
}

const importStep: Step = defineStep({
  id: "import",
  stage: 1,
  kind: "write",
  title: "Import into a copy beside the file",
  describe: (c) =>
    `copy ${basename(c.dbPath)} to ${basename(c.newPath)} beside it (VACUUM INTO, one read transaction; the primary is not written), check the copy equals the verified backup, load ${c.options.importFrom?.path ?? "the backup"} into the copy with replace semantics in one transaction (every table it loads cleared, then loaded; misfits to legacy_quarantine; integrity_check, foreign_key_check, parity)`,
  reuse: "check",
  reusable: (c, o) => existsSync(c.newPath) && recordMismatch(c.newPath, o.file) === null,
  async run(c) {
    const from = importFrom(c);
    const exp = c.outputs.need("export");
    // The database's backup is the file the export made (and verified).
    assertRecorded("the backup", c.backupPath, exp.file, { inodeOnly: true });
    // The file to import is read again (on a resume too): it must still be there, a regular file, and the one the plan named.
    if (fileKind(from.path) !== "file")
      throw refused({
        what: `The backup to import, ${from.path}, is ${fileKind(from.path) === "missing" ? "gone" : "no longer a regular file"}.`,
        untouched: "The database was not changed: nothing was imported.",
        next: "Put that file back and resume, or roll this run back (vox-cutover cutover --rollback --apply).",
      });
    const input = readImportInput(from.path, from.acceptUnverified, (text) => c.emit({ type: "note", text }));
    if (input.claimedSha !== from.sha)
      throw refused({
        what: `The backup to import, ${from.path}, is not the file the plan named (${from.sha}; now ${input.claimedSha}).`,
        untouched: "The database was not changed: nothing was imported.",
        next: "Roll this run back (vox-cutover cutover --rollback --apply), review the new plan (import-legacy without --apply) and apply it.",
      });
    const { building, settings } = await copyProvenEqual({
      dbPath: c.dbPath,
      newPath: c.newPath,
      backupPath: c.backupPath,
      backupSha256: c.outputs.get("verify-backup")?.sha256 ?? exp.sha256,
      onPhase: (phase) => c.emit({ type: "step-progress", id: "import", done: 0, total: 0, phase }),
      afterCopy: () => pausePoint("import-copied"),
    });
    try {
      const r = await importBackup({
        backupPath: from.path,
        reference: input.reference,
        targetPath: building,
        into: "target",
        baselineSql: c.base.sql,
        baselineVersion: c.base.manifest.baselineVersion,
        history: c.base.policy.history,
        rules: loadImporters(),
        source: input.source,
        runId: c.runId,
        planDigest: c.planDigest,
        command: c.command,
        failAfterRows: faultAfterRows(),
        onProgress: importProgress(c, "import", "during the import into the copy (its transaction was rolled back; the copy was removed)"),
      });
      finishCopy(building, c.newPath, settings);
      return {
        summary: `${basename(c.newPath)}: ${formatCount(r.loaded)} of ${formatCount(r.totalRows)} rows loaded, ${formatCount(r.quarantined)} to legacy_quarantine whole; integrity_check ${r.integrity}`,
        outputs: { path: c.newPath, loaded: r.loaded, quarantined: r.quarantined, report: importJson(r), file: recordFile(c.newPath) },
      };
    } catch (e) {
      removeOwnDatabaseFiles(building);
      throw e;
    }
  },
});

export const stage1Import: Step[] = [exportStep, verifyStep, importStep, unchangedStep, swapStep, ledgerStep];
