import { resolve } from "node:path";
import { EXIT, usage } from "../../errors.js";
import { redactText } from "../../util/redact.js";
import { checkTelemetry, type Finding } from "../../telemetry/check.js";
import type { CommandResult, Ctx } from "../run.js";

/** Findings listed in the report (and `--json`); in text mode every further one is still printed. */
const LIST_LIMIT = 10_000;

export async function telemetryCheckCommand(ctx: Ctx, files: unknown): Promise<CommandResult> {
  const list = ((files as string[] | undefined) ?? []).map((f) => resolve(f));
  if (!list.length)
    throw usage({ what: "telemetry-check needs at least one FILE.", untouched: "Nothing was read.", next: "vox-cutover telemetry-check telemetry.jsonl" });
  const { out } = ctx;
  let shown = 0;
  const line = (kind: "violation" | "warning", f: Finding) => `${f.file}:${f.line}: ${kind === "warning" ? "warning: " : ""}${f.message}`;
  const r = checkTelemetry(list, undefined, {
    limit: LIST_LIMIT,
    onFinding: (kind, f) => {
      if (shown++ < LIST_LIMIT) out.text(line(kind, f));
      else if (!out.json) process.stdout.write(redactText(line(kind, f)) + "\n");
    },
  });
  const events = Object.entries(r.counts);
  out.text(`events: ${events.map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`);
  for (const f of r.files) out.text(`${f.file}: ${f.error ? f.error : `${f.lines} line(s)`}, ${f.violations} violation(s), ${f.warnings} warning(s)`);
  if (r.totals.violations > r.violations.length || r.totals.warnings > r.warnings.length) {
    out.text(`(--json lists the first ${LIST_LIMIT} violations and warnings; totals: ${r.totals.violations} violation(s), ${r.totals.warnings} warning(s))`);
  }
  const ok = r.totals.violations === 0;
  out.text(
    ok
      ? "telemetry-check: ok (files were only read)"
      : `telemetry-check: ${r.totals.violations} violation(s) of the envelope contract (contracts/telemetry/envelope.v1.yaml); the files were only read. Fix the writer or the lines named above.`,
  );
  return {
    ok,
    exitCode: ok ? EXIT.ok : EXIT.failed,
    mode: "read",
    data: { files: r.files, violations: r.violations, warnings: r.warnings, counts: r.counts, totals: r.totals },
  };
}
