import { CancelToken, withSignals } from "../../util/cancel.js";
import { reportJson, reviewedPlanLine, runCutover, type CutoverReport } from "../../cutover/index.js";
import type { EngineEvent, ImportEvidence } from "../../engine/events.js";
import { resolve } from "node:path";
import { resolveWorkDir } from "../../engine/workdir.js";
import { ProgressLine } from "../progress.js";
import { readWholeSentence, reportProblems, rowsSentence, sidecarLines } from "../../report/final.js";
import { formatCount } from "../../util/count.js";
import type { Output } from "../output.js";
import type { CommandResult, Ctx } from "../run.js";

/** Plain-text renderer of the engine's events (`digest: false`: a command with a plan digest of its own, migrate or import-legacy). */
export function textRenderer(out: Output, o: { digest?: boolean } = {}): (e: EngineEvent) => void {
  let progress: ProgressLine | null = null;
  let stage = -1;
  const STAGES = [
    "Stage 0 — Preconditions",
    "Stage 1 — Legacy chain",
    "Stage 2 — Telemetry sidecar",
    "Stage 3 — Telemetry consumers",
    "Stage 4 — Publication/news",
  ];
  return (e) => {
    switch (e.type) {
      case "plan":
        if (o.digest !== false) out.text(`plan digest: ${e.digest}`);
        for (const s of e.steps) {
          if (s.stage !== stage) {
            stage = s.stage;
            out.text(STAGES[s.stage] ?? `Stage ${s.stage}`);
          }
          out.text(`  [${s.kind}] ${s.id}: ${s.description}`);
        }
        stage = -1;
        break;
      case "step-start":
        out.note(`… ${e.title}`);
        progress?.end();
        progress = new ProgressLine(out, e.id, e.title);
        break;
      case "step-progress":
        progress?.update(e.done, e.total, e.label);
        break;
      case "step-done":
        progress?.end();
        out.text(`${e.skipped ? "-" : e.warnings?.length ? "!" : "✓"} ${e.id}: ${e.summary}`);
        for (const w of e.warnings ?? []) out.text(`  ! ${w}`);
        break;
      case "step-failed":
        progress?.end();
        out.text(`✗ ${e.id}: ${e.message}`);
        break;
      case "note":
        out.note(e.text);
        break;
      case "trial":
        for (const l of evidenceLines(e.evidence)) out.text(l);
        break;
    }
  };
}

/** What an import does, per table: rows in, loaded, quarantined with reasons, columns kept in quarantine, orphans. */
function evidenceLines(ev: ImportEvidence): string[] {
  const c = formatCount;
  const lines = [
    `import: ${c(ev.rowsIn)} rows → ${c(ev.loaded)} load, ${c(ev.quarantined)} to legacy_quarantine whole${ev.partial ? `, ${c(ev.partial)} load with some values kept in legacy_quarantine` : ""}; sqlite_sequence: ${c(ev.sequences.entries)} entries (${c(ev.sequences.restored)} carried${ev.sequences.quarantined ? `, ${c(ev.sequences.quarantined)} quarantined` : ""})`,
  ];
  for (const t of ev.tables.filter((x) => x.quarantined || x.partial)) {
    const reasons = Object.entries(t.reasons)
      .map(([k, n]) => `${c(n)} ${k}`)
      .join(", ");
    const cols = t.columns.map((x) => `${x.column} (${c(x.nonNull)} non-null)`).join(", ");
    lines.push(
      `  ${t.name}${t.target && t.target !== t.name ? ` → ${t.target}` : t.target ? "" : " (no place in the target)"}: ${c(t.rowsIn)} rows, ${c(t.loaded)} load, ${c(t.quarantined)} quarantined${reasons ? ` (${reasons})` : ""}${cols ? `; values of ${cols} go to legacy_quarantine` : ""}`,
    );
  }
  lines.push(...objectLines(ev.objects));
  for (const w of ev.readWhole ?? []) lines.push(`  ${readWholeSentence(w)}`);
  if (ev.orphans.length)
    lines.push(`  foreign-key orphans (already orphans in the old file; reported, kept): ${ev.orphans.map((o) => `${o.table} ${c(o.count)}`).join(", ")}`);
  return lines;
}

/** The old file's own indexes, triggers and views: what is carried, and each one that is not with its SQL and reason. */
export function objectLines(o: ImportEvidence["objects"]): string[] {
  if (!o || (!o.carried.length && !o.notCarried.length)) return [];
  const lines = [
    `  indexes, triggers and views the target does not define (yours, or an older vox's): ${o.carried.length} carried into the new file${o.carried.length ? ` (${o.carried.map((x) => `${x.type} ${x.name}`).join(", ")})` : ""}, ${o.notCarried.length} not carried (kept in the archive)`,
  ];
  for (const x of o.notCarried) lines.push(`    not carried: ${x.type} ${x.name} on ${x.table} — ${x.reason}`, `      ${x.sql.replace(/\s+/g, " ")}`);
  return lines;
}

export function printReport(out: Output, r: CutoverReport, opts: { scratchRemoved?: string } = {}): void {
  if (r.outcome === "completed" && opts.scratchRemoved) {
    // A rehearsal whose scratch folder is gone: no path into it, only what happened.
    out.text("");
    out.text(`chain: ${r.before.chain} → ${r.after.chain} (on the clone)`);
    out.text(`rows: ${rowsSentence(r)}`);
    for (const l of sidecarLines(r)) out.text(l);
    out.text(`backup, archive, report.md and report.json were in ${opts.scratchRemoved}, removed with it (--keep keeps them)`);
    return;
  } else if (r.outcome === "completed") {
    out.text("");
    out.text(`chain: ${r.before.chain} → ${r.after.chain}`);
    out.text(`backup:  ${r.backup.path} (verified, sha256 ${r.backup.sha256})`);
    if (r.archive.path) out.text(`archive: ${r.archive.path} (the old primary, never deleted)`);
    out.text(`rows: ${rowsSentence(r)}`);
    for (const l of sidecarLines(r)) out.text(l);
    const problems = reportProblems(r).length;
    if (problems) out.text(`problems: ${problems} (listed above and in report.md)`);
    out.text(`report: ${r.workDir}/report.md and report.json`);
    out.text(`roll back: ${r.rollbackCommand}`);
  }
  if (r.message) out.text(r.message);
}

export async function cutoverCommand(ctx: Ctx): Promise<CommandResult> {
  const resolved = ctx.resolve();
  const { out, opts } = ctx;
  const token = new CancelToken();
  const report = await withSignals(token, () =>
    runCutover({
      resolved,
      apply: Boolean(opts.apply),
      plan: opts.plan as string | undefined,
      workDir: opts.workDir ? resolveWorkDir(opts.workDir, resolved.path) : undefined,
      backupPath: opts.backup !== undefined ? resolve(String(opts.backup)) : undefined,
      resume: Boolean(opts.resume),
      rollback: Boolean(opts.rollback),
      force: Boolean(opts.force),
      breakLock: Boolean(opts.breakLock),
      command: "cutover",
      emit: textRenderer(out),
      token,
      options: { sidecarMerge: opts.sidecarMerge !== false, telemetry: ((opts.telemetry as string[] | undefined) ?? []).map((f) => resolve(f)) },
    }),
  );
  printReport(out, report);
  const reviewed = report.mode === "dry-run" ? reviewedPlanLine(opts.plan, report.planDigest) : null;
  if (reviewed) out.text(reviewed);
  return {
    ok: true,
    mode: report.mode,
    db: resolved,
    data: { ...reportJson(report), ...(reviewed ? { reviewedPlan: { digest: opts.plan, same: opts.plan === report.planDigest } } : {}) },
  };
}
