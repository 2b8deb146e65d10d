import { resolve } from "node:path";
import { EXIT, usage } from "../../errors.js";
import { checkTelemetry } from "../../stages2to4/telemetry.js";
import type { CommandResult, Ctx } from "../run.js";

export async function telemetryCheckCommand(ctx: Ctx, files: unknown): Promise<CommandResult> {
  const list = (files as string[]).map((f) => resolve(f));
  if (!list.length) throw usage({ what: "telemetry-check needs at least one FILE.", untouched: "Nothing was read.", next: "vox-cutover telemetry-check telemetry.jsonl" });
  const r = checkTelemetry(list);
  const { out } = ctx;
  for (const v of r.violations) out.text(`${v.file}:${v.line}: ${v.message}`);
  for (const w of r.warnings) out.text(`${w.file}:${w.line}: warning: ${w.message}`);
  out.text(`events: ${Object.entries(r.counts).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`);
  for (const f of r.files) out.text(`${f.file}: ${f.lines} lines, ${f.violations} violation(s), ${f.warnings} warning(s)`);
  const ok = r.files.every((f) => f.violations === 0);
  out.text(ok ? "telemetry-check: ok" : "telemetry-check: VIOLATIONS (files were only read)");
  return { ok, exitCode: ok ? EXIT.ok : EXIT.failed, mode: "read", data: { files: r.files, violations: r.violations, warnings: r.warnings, counts: r.counts } };
}
