/**
 * The cutover dry-run's trial import: the same export and import the apply makes, into a scratch
 * folder that is removed afterwards, so a row that cannot load shows in the plan, not first at
 * --apply. The primary is only read (one snapshot).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportBackup } from "../backup/export.js";
import { importBackup, type ImportReport } from "../backup/import.js";
import { loadImporters } from "../backup/importers.js";
import { jsonInt } from "../db/classify.js";
import type { BaselineContext, Diagnosis } from "../db/diagnose.js";
import type { Emit, ImportEvidence } from "./events.js";
import type { CancelToken } from "./cancel.js";

/** The evidence a swap rests on, from an import report (trial or real). */
export function importEvidence(r: Pick<ImportReport, "tables" | "loaded" | "quarantined" | "foreignKeyViolations" | "sequences"> & Partial<Pick<ImportReport, "objects">>, backupVerified: boolean): ImportEvidence {
  const tables = r.tables
    .filter((t) => t.source !== "sqlite_sequence")
    .map((t) => ({
      name: t.source,
      target: t.target || null,
      rowsIn: t.rows,
      loaded: t.loaded,
      quarantined: t.quarantined,
      reasons: t.reasons,
      partial: t.partial ?? 0,
      columns: Object.entries(t.columns ?? {}).map(([column, nonNull]) => ({ column, nonNull })),
    }));
  return {
    tables,
    rowsIn: tables.reduce((n, t) => n + t.rowsIn, 0),
    loaded: r.loaded,
    quarantined: r.quarantined,
    partial: tables.reduce((n, t) => n + t.partial, 0),
    columnsToQuarantine: tables.flatMap((t) => t.columns.map((c) => ({ table: t.name, column: c.column, nonNull: c.nonNull }))),
    orphans: r.foreignKeyViolations,
    sequences: r.sequences,
    ...(r.objects ? { objects: { carried: r.objects.carried.map(({ type, name, table }) => ({ type, name, table })), notCarried: r.objects.notCarried } } : {}),
    backupVerified,
  };
}

export async function trialImport(dbPath: string, d: Diagnosis, base: BaselineContext, emit: Emit, token?: CancelToken): Promise<ImportEvidence> {
  const stop = () => token?.throwIfCancelled("during the dry-run's trial import (its scratch folder was removed; nothing was written)");
  const dir = mkdtempSync(join(tmpdir(), "vox-cutover-trial-"));
  try {
    const backupPath = join(dir, "trial-backup.jsonl");
    const exp = await exportBackup({
      dbPath,
      outPath: backupPath,
      chain: d.chain,
      maxVersion: jsonInt(d.classification.maxVersion),
      baseline: { version: base.manifest.baselineVersion, digest: base.digest },
      onProgress: (p) => {
        emit({ type: "step-progress", id: "trial-import", done: p.rowsDone, total: p.totalRows * 2, label: `export ${p.table}` });
        stop();
      },
    });
    const total = exp.totalRows;
    const r = await importBackup({
      backupPath,
      targetPath: join(dir, "trial.db"),
      baselineSql: base.sql,
      baselineVersion: base.manifest.baselineVersion,
      history: base.policy.history,
      rules: loadImporters(),
      into: "scratch",
      onProgress: (p) => {
        emit({ type: "step-progress", id: "trial-import", done: total + p.rowsDone, total: total * 2, label: `import ${p.table}` });
        stop();
      },
    });
    return importEvidence(r, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
