import { randomUUID } from "node:crypto";
import { dirname, resolve } from "node:path";
import { diagnoseChain, loadBaselineContext, type BaselineContext, type Diagnosis } from "../../diagnose/diagnose.js";
import { acquireLock } from "../../safety/lock.js";
import { sharedLockNote } from "../../safety/reader-lock.js";
import { jsonInt } from "../../db/classify.js";
import { exportBackup } from "../../backup/export.js";
import { withWorkersAhead } from "../../backup/export-workers.js";
import { failed, VoxError } from "../../errors.js";
import { interruptedNothingLeft } from "../../util/cancel.js";
import { pausePoint } from "../../engine/testhooks.js";
import { formatCount, plural } from "../../util/count.js";
import { ProgressLine } from "../progress.js";
import { checkOwnedPath, identify } from "../../safety/guard.js";
import type { CommandResult, Ctx } from "../run.js";
import { shellQuote } from "../../util/shell.js";

export async function exportLegacyCommand(ctx: Ctx, outArg: unknown): Promise<CommandResult> {
  const resolved = ctx.resolve();
  if (resolved.kind !== "file") {
    throw failed({
      what: "export-legacy reads local database files only in this release.",
      untouched: "The remote database was not read.",
      next: "Copy the database to this machine (or run the tool where the file is) and use --db PATH.",
    });
  }
  // The export's workers load while the file is diagnosed (they open nothing until the export's setup).
  return withWorkersAhead(resolved.path!, true, () => diagnoseAndExport(ctx, resolved, outArg));
}

async function diagnoseAndExport(ctx: Ctx, resolved: ReturnType<Ctx["resolve"]>, outArg: unknown): Promise<CommandResult> {
  const { opts } = ctx;
  const base = loadBaselineContext();
  // The header records the chain (and its highest version): rows and structure are not asked here —
  // the export counts every table in its own snapshot.
  const d = await diagnoseChain(resolved, base);
  if (d.error) throw d.error;
  if (d.chain === "missing") {
    throw failed({ what: `There is no database at ${resolved.path}.`, untouched: "Nothing was written.", next: "Check --db / VOX_DB_PATH." });
  }
  // OUT is the operator's: never the database, its sidecar, or a file inside another run's work dir (--force consents to replacing any other file).
  checkOwnedPath({ flag: "OUT", path: String(outArg), ours: Boolean(opts.force), forceFlag: "--force" }, identify(resolved.path!), "");
  // One writer per OUT: two exports to one (new) path cannot both proceed (the name's lock, src/safety/lock.ts).
  const lock = acquireLock(
    String(outArg),
    { command: "export-legacy", runId: randomUUID(), workDir: dirname(resolve(String(outArg))) },
    { noun: `the backup path ${String(outArg)}` },
  );
  try {
    pausePoint("export-locked");
    return await exportTo(ctx, resolved, d, base, String(outArg));
  } finally {
    lock.release();
  }
}

async function exportTo(ctx: Ctx, resolved: ReturnType<Ctx["resolve"]>, d: Diagnosis, base: BaselineContext, outArg: string): Promise<CommandResult> {
  const { out, opts } = ctx;
  const held = sharedLockNote(resolved.path!, "the export");
  if (held) out.note(held);
  const progress = new ProgressLine(out, "export");
  const token = ctx.token;
  const r = await exportBackup({
    dbPath: resolved.path!,
    outPath: String(outArg),
    force: Boolean(opts.force),
    chain: d.chain,
    maxVersion: jsonInt(d.classification.maxVersion),
    baseline: { version: base.manifest.baselineVersion, digest: base.digest },
    onProgress: (p) => {
      progress.update(p.rowsDone, p.totalRows, p.table);
      token.throwIfCancelled("during the export");
      pausePoint("export-progress");
    },
  })
    .catch((e: unknown) => {
      // exportBackup removed its hidden partial file on the way out; OUT was never written.
      if (e instanceof VoxError && e.kind === "interrupted")
        throw interruptedNothingLeft(
          e,
          "during export-legacy",
          `The database was only read; ${String(outArg)} was not written and the partial file beside it was removed.`,
        );
      throw e;
    })
    .finally(() => progress.end());
  out.text(`backup: ${r.path}`);
  out.text(
    `  ${plural(r.tables.length, "table")}, ${formatCount(r.totalRows)} rows, ${formatCount(r.sequences)} sqlite_sequence entries, ${formatCount(r.bytes)} bytes, sha256 ${r.sha256}`,
  );
  const w = Math.max(5, ...r.tables.map((t) => t.name.length));
  for (const t of r.tables) out.text(`  ${t.name.padEnd(w)} ${formatCount(t.rows).padStart(11)}  ${t.sha256}`);
  for (const x of r.readWhole) out.note(`${x.table}: ${plural(x.values, "large value")} read whole — ${x.reason}`);
  out.text(`next: vox-cutover verify-backup ${shellQuote(r.path)} --db ${shellQuote(resolved.path!)}`);
  return {
    ok: true,
    mode: "apply",
    db: resolved,
    data: {
      backup: { path: r.path, sha256: r.sha256, bytes: r.bytes, format: "vox-cutover-backup", version: 1 },
      chain: d.chain,
      tables: r.tables,
      totalRows: r.totalRows,
      sequences: r.sequences,
      ...(r.readWhole.length ? { readWhole: r.readWhole } : {}),
    },
  };
}
