import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { countsMarkdown, quarantineParts, quarantinePartsWords, quarantineSentence, READ_WHOLE_HEADING, readWholeSentence, reportProblems } from "./final.js";
import { formatCount } from "../util/count.js";
import type { CutoverReport } from "./cutover-report.js";

/** `28: 21 from the import, 7 sidecar conflicts (legacy_quarantine holds 28 row(s): …)`. */
function quarantineMd(r: CutoverReport): string {
  const { total, parts } = quarantineParts(r);
  if (!r.quarantineTable) return `${formatCount(total)} (${quarantineSentence(r)}, the import's whole rows)`;
  return `${formatCount(total)}: ${quarantinePartsWords(parts)} (${quarantineSentence(r)})`;
}

function reportMarkdown(r: CutoverReport, error?: unknown): string {
  const lines = [
    `# vox-cutover report`,
    "",
    `- outcome: **${error ? "failed" : r.outcome}**${error ? ` — ${error instanceof Error ? error.message : String(error)}` : ""}`,
    `- run: ${r.runId ?? "-"} · plan digest: ${r.planDigest ?? "-"}`,
    `- chain: ${r.before.chain} → ${r.after.chain}`,
    `- backup: ${r.backup.path ?? "-"} (verified: ${r.backup.verified ? "yes" : "no"}${r.backup.sha256 ? `, sha256 ${r.backup.sha256}` : ""})`,
    `- archive (the old primary): ${r.archive.path ?? "-"}`,
    `- quarantined rows: ${quarantineMd(r)}`,
    `- roll back: \`${r.rollbackCommand ?? "-"}\``,
    `- time: ${formatCount(r.durationMs)} ms`,
    "",
    "## Steps",
    "",
    "| stage | step | kind | status | summary |",
    "|---|---|---|---|---|",
    ...r.steps.map((s) => `| ${s.stage} | ${s.id} | ${s.kind} | ${s.status} | ${s.summary.replace(/\|/g, "\\|")} |`),
  ];
  // The problems the summary counts ("Done with N problems"), a resumed run's earlier ones included.
  const problems = reportProblems(r);
  if (problems.length)
    lines.push(
      "",
      `## Problems (steps that ${problems.some((p) => p.failed) ? "failed or " : ""}finished with warnings)`,
      "",
      ...problems.map((p) => `- ${p.step}: ${p.failed ? "failed — " : ""}${p.text}`),
    );
  lines.push(...countsMarkdown(r));
  if (r.objects && (r.objects.carried.length || r.objects.notCarried.length)) {
    lines.push(
      "",
      "## Indexes, triggers and views the target does not define",
      "",
      `${r.objects.carried.length} carried into the new file, ${r.objects.notCarried.length} not carried (they stay in the archive).`,
      "",
    );
    for (const x of r.objects.carried) lines.push(`- carried: ${x.type} \`${x.name}\` on ${x.table}`);
    for (const x of r.objects.notCarried)
      lines.push(`- **not carried**: ${x.type} \`${x.name}\` on ${x.table} — ${x.reason}`, "", "  ```sql", `  ${x.sql}`, "  ```");
  }
  if (r.readWhole?.length) {
    lines.push("", `## ${READ_WHOLE_HEADING}`, "");
    for (const w of r.readWhole) lines.push(`- ${readWholeSentence(w)}`);
  }
  return lines.join("\n") + "\n";
}

/** The Stage 0 steps whose warnings would refuse the apply (stages/stage0-gates.ts: a dry-run turns each refusal into a warning). */
export function refusingGates(report: Pick<CutoverReport, "steps">): string[] {
  return report.steps.filter((s) => s.stage === 0 && s.warnings?.length).map((s) => s.id);
}

export function reportJson(r: CutoverReport): Record<string, unknown> {
  return {
    outcome: r.outcome,
    runId: r.runId,
    planDigest: r.planDigest,
    before: r.before,
    after: r.after,
    workDir: r.workDir,
    backup: r.backup,
    archive: r.archive,
    tables: r.tables,
    // The one quarantine number (src/report/final.ts) and its named parts, as report.md and the screens give them.
    quarantined: quarantineParts(r).total,
    quarantinedParts: quarantineParts(r).parts,
    ...(r.final ? { final: r.final } : {}),
    ...(r.sidecar ? { sidecar: r.sidecar } : {}),
    ...(r.trial ? { trial: r.trial } : {}),
    ...(r.objects ? { objects: r.objects } : {}),
    ...(r.readWhole ? { readWhole: r.readWhole } : {}),
    ...(r.quarantineTable ? { quarantineTable: r.quarantineTable } : {}),
    steps: r.steps,
    ...(r.mode === "dry-run" ? { refusedBy: refusingGates(r) } : {}),
    rollbackCommand: r.rollbackCommand,
    message: r.message,
  };
}

export function writeReports(r: CutoverReport, workDir: string, error?: unknown): void {
  if (!existsSync(workDir)) return;
  writeFileSync(
    join(workDir, "report.json"),
    JSON.stringify({ ...reportJson(r), durationMs: r.durationMs, error: error ? String(error instanceof Error ? error.message : error) : undefined }, null, 2) +
      "\n",
  );
  writeFileSync(join(workDir, "report.md"), reportMarkdown(r, error));
}
