import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { identify, realPathOf } from "../../safety/identity.js";
import { checkRehearsalFolder } from "../../safety/owned.js";
import { SIDECAR_NAME } from "../../layout.js";
import { CancelToken, withSignals } from "../../util/cancel.js";
import { formatCount } from "../../util/count.js";
import { cloneWithSidecar } from "../../db/clone.js";
import { reportJson, runCutover } from "../../cutover/index.js";
import { contentState, describeContentChange, untouchedSince } from "../../safety/content-version.js";
import { isDatabaseFile, probeFile } from "../../db/probe.js";
import { notADatabase } from "../../db/probe.js";
import { failed, VoxError } from "../../errors.js";
import type { CommandResult, Ctx } from "../run.js";
import { printReport, textRenderer } from "./cutover.js";
import { dbJson } from "../../db/resolve.js";
import { shellQuote } from "../../util/shell.js";

export async function rehearseCommand(ctx: Ctx): Promise<CommandResult> {
  const resolved = ctx.resolve();
  const { opts } = ctx;
  if (resolved.kind !== "file") throw failed({ what: "rehearse clones local database files.", untouched: "Nothing was changed.", next: "Use --db PATH." });
  const probe = probeFile(resolved.path!);
  if (probe.state === "missing")
    throw failed({
      what: `There is no database at ${resolved.path} to rehearse on.`,
      untouched: "Nothing was written.",
      next: "Check --db, or make a sample: vox-cutover sample /tmp/rehearsal/vox.db",
    });
  if (!isDatabaseFile(probe)) throw notADatabase(resolved.path!, probe);
  const made = !opts.workDir;
  // The rehearsal works in a folder of its own, never the database's (its clone would be the database).
  if (opts.workDir) checkRehearsalFolder(resolve(String(opts.workDir)), identify(resolved.path!), [basename(realPathOf(resolved.path!)), SIDECAR_NAME, "run"]);
  const scratch = opts.workDir ? resolve(String(opts.workDir)) : mkdtempSync(join(tmpdir(), "vox-cutover-rehearse-"));
  mkdirSync(scratch, { recursive: true });
  // The scratch folder is the rehearsal's own: removed at the end (also on failure or Ctrl-C) unless --keep or --work-dir.
  const keep = Boolean(opts.keep) || !made;
  const cleanup = () => {
    if (!keep) rmSync(scratch, { recursive: true, force: true });
  };
  try {
    return await rehearseIn(ctx, scratch, keep);
  } catch (e) {
    // The engine's note offers Resume / Roll back on the clone; with the scratch folder removed that
    // cannot work, so the note says what is true instead (with --keep or --work-dir it stays).
    if (keep || !(e instanceof VoxError)) throw e;
    throw new VoxError(e.kind, {
      what: e.what,
      untouched: `The real database ${resolved.path} was only read; the rehearsal's clone and everything it wrote (the scratch folder ${scratch}) were removed.`,
      next: `There is nothing to resume or roll back: ${e.kind === "interrupted" ? "run the rehearsal again when ready" : "fix what is named above and run the rehearsal again"} (--keep keeps its folder to look into).`,
      exitCode: e.exitCode,
      details: e.details,
    });
  } finally {
    cleanup();
  }
}

async function rehearseIn(ctx: Ctx, scratch: string, keep: boolean): Promise<CommandResult> {
  const resolved = ctx.resolve();
  const { out } = ctx;
  const before = contentState(resolved.path!);
  const t0 = performance.now();
  const clone = cloneWithSidecar(resolved.path!, scratch);
  const cloneMs = Math.round(performance.now() - t0);
  out.text(`rehearsal: cloned ${resolved.path} → ${clone.db}${clone.sidecar ? ` (and the sidecar)` : ""} in ${formatCount(cloneMs)} ms`);
  const token = new CancelToken();
  const report = await withSignals(token, () =>
    runCutover({
      resolved: { ...resolved, path: clone.db, display: clone.db, source: "--db", why: "the rehearsal clone" },
      apply: true,
      workDir: join(scratch, "run"),
      command: "rehearse",
      emit: textRenderer(out),
      token,
    }),
  );
  printReport(out, report, keep ? {} : { scratchRemoved: scratch });
  const after = contentState(resolved.path!);
  // Not written to at all, with its size and times put back neither (ctime: safety/content-version.ts untouchedSince).
  const untouched = untouchedSince(before, after);
  out.text("");
  out.text(
    `The real run would do the same ${report.steps.length} steps on ${resolved.path}; here they took ${formatCount(report.durationMs)} ms (${report.steps.map((s) => `${s.id} ${formatCount(s.durationMs ?? 0)} ms`).join(", ")}).`,
  );
  out.text(
    `The original ${resolved.path} was only read${untouched ? " and is unchanged" : ` — but it CHANGED while rehearsing (another writer?): ${describeContentChange(before, after)}`}.`,
  );
  out.text(keep ? `The rehearsal's files are kept in ${scratch}.` : `The rehearsal's scratch folder ${scratch} was removed (--keep keeps it).`);
  out.text(`Next: vox-cutover cutover --db ${shellQuote(resolved.path!)} (dry-run), then --apply.`);
  return {
    ok: true,
    mode: "apply",
    db: resolved,
    data: {
      rehearsal: {
        scratch,
        kept: keep,
        clone: clone.db,
        sidecar: clone.sidecar,
        cloneMs,
        originalUnchanged: untouched,
        cloneDb: dbJson({ ...resolved, path: clone.db }),
      },
      ...reportJson(report),
      durationMs: report.durationMs,
    },
  };
}
