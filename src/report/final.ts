/**
 * One set of numbers from one source: after a cutover finishes (Stages 1–4), every table of the
 * FINAL file is counted once (`SELECT count(*)`, the same number `sqlite3` gives), and the report,
 * the summary line of every command and the wizard's summary all read these counts. Before that
 * (a dry-run, a failed run), the numbers are the import's and are labelled "after Stage 1".
 * The counting itself is in final-counts.ts: this module is words only, and the wizard's summary
 * screen imports it without loading the database driver.
 */
import { formatCount, plural } from "../util/count.js";

export interface FinalCounts {
  /** Every table the file carries rows for (sqlite_sequence apart), with its count(*). */
  tables: { name: string; rows: number }[];
  /** Rows of vox's tables: every table above except legacy_quarantine and cutover_ledger. */
  voxRows: number;
  quarantineRows: number;
  ledgerRows: number;
  sequences: number;
}

export interface SidecarTableCount {
  name: string;
  rows: number;
  present: number;
  merged: number;
  conflicts: number;
}

/** The shape of the report these helpers read and fill (the engine's CutoverReport satisfies it). */
export interface CountedReport {
  outcome: string;
  mode: string;
  tables: { name: string; target: string | null; rowsBefore: number; rowsAfter: number; quarantined: number }[];
  quarantined: number;
  final?: FinalCounts | null;
  sidecar?: { path: string | null; merged: boolean; tables: SidecarTableCount[] } | null;
  /** After --apply: what legacy_quarantine holds, per reason key (src/db/ledger.ts). */
  quarantineTable?: { rows: number; byReason: Record<string, number> } | null;
}

/** Whose numbers these are, in words: the final file's, or the import's before Stages 2–4. */
function countsAre(r: CountedReport): string {
  return r.final
    ? "in the final file (after Stages 2–4; sqlite3 count(*))"
    : r.mode === "dry-run"
      ? "after Stage 1 (the trial import)"
      : "after Stage 1 (the import)";
}

/** The stage a legacy_quarantine reason key comes from: Stage 2's (the sidecar's conflicts, and its other rows: values in columns the new file lacks, rows it could not carry), else Stage 1's import. */
const SIDECAR_REASON = "sidecar-conflict";
const SIDECAR_KEY = /^sidecar-/;

/**
 * The one quarantine number: the rows legacy_quarantine holds in the final file after --apply, and
 * in a dry-run what it will hold then (foreseen: cutover/dry-sidecar.ts) — the import's (whole rows,
 * values without a column, sequences, the rows the file held already), Stage 2's sidecar conflicts
 * and its other rows, each part named; before (a failed run), the import's whole rows. The text
 * summary, report.md, report.json and the wizard all print this one value.
 */
export function quarantineParts(r: CountedReport): { total: number; parts: { import: number; sidecarConflicts: number; sidecarOther: number } } {
  const q = r.quarantineTable;
  if (!q) return { total: r.quarantined, parts: { import: r.quarantined, sidecarConflicts: 0, sidecarOther: 0 } };
  const sidecarConflicts = q.byReason[SIDECAR_REASON] ?? 0;
  const sidecarOther = Object.entries(q.byReason).reduce((n, [k, c]) => n + (SIDECAR_KEY.test(k) && k !== SIDECAR_REASON ? c : 0), 0);
  return { total: q.rows, parts: { import: q.rows - sidecarConflicts - sidecarOther, sidecarConflicts, sidecarOther } };
}

/** `28 (21 from the import, 7 sidecar conflicts)` (`, 3 more from the sidecar` when it put other rows there): the parts in words. */
export function quarantinePartsWords(parts: ReturnType<typeof quarantineParts>["parts"]): string {
  const other = parts.sidecarOther ? `, ${formatCount(parts.sidecarOther)} more from the sidecar` : "";
  return `${formatCount(parts.import)} from the import, ${formatCount(parts.sidecarConflicts)} sidecar conflict${parts.sidecarConflicts === 1 ? "" : "s"}${other}`;
}

function quarantineWords(r: CountedReport): string {
  const { total, parts } = quarantineParts(r);
  if (!r.quarantineTable || !total) return formatCount(total);
  return `${formatCount(total)} (${quarantinePartsWords(parts)})`;
}

/** The one rows sentence of the CLI summary, the wizard's summary and report.md. */
export function rowsSentence(r: CountedReport): string {
  const before = r.tables.reduce((n, t) => n + t.rowsBefore, 0);
  if (r.final) {
    return `${formatCount(before)} rows in the old file → ${formatCount(r.final.voxRows)} rows ${countsAre(r)}, ${r.quarantineTable ? quarantineWords(r) : formatCount(r.final.quarantineRows)} in legacy_quarantine`;
  }
  const after = r.tables.reduce((n, t) => n + t.rowsAfter, 0);
  return `${formatCount(before)} rows in the old file → ${formatCount(after)} loaded ${countsAre(r)}, ${formatCount(r.quarantined)} to legacy_quarantine`;
}

/** Stage 2 in one line per sidecar table. */
/** `head`: the first word of the first line (the wizard capitalises it as a line of its own). */
export function sidecarLines(r: CountedReport, head = "sidecar"): string[] {
  if (!r.sidecar || !r.sidecar.tables.length) return [];
  const t = r.sidecar.tables;
  const sum = (k: "rows" | "merged" | "conflicts") => t.reduce((n, x) => n + x[k], 0);
  return [
    `${head}: ${plural(t.length, "table")} (${formatCount(t.filter((x) => x.rows > 0).length)} with rows, listed), ${formatCount(sum("rows"))} rows, ${formatCount(sum("merged"))} merged into the new file, ${formatCount(sum("conflicts"))} conflicting (to legacy_quarantine); the file itself is archived`,
    ...t
      .filter((x) => x.rows > 0)
      .map(
        (x) =>
          `  ${x.name}: ${formatCount(x.rows)} rows, ${formatCount(x.present)} already present, ${formatCount(x.merged)} merged, ${formatCount(x.conflicts)} conflicting`,
      ),
  ];
}

/** report.md's table sections: the legacy tables, the final file, the sidecar. */
export function countsMarkdown(r: CountedReport): string[] {
  const lines: string[] = [];
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  lines.push("", `- rows: ${rowsSentence(r)}`);
  if (r.tables.length) {
    lines.push(
      "",
      "## Tables",
      "",
      `Rows after: ${countsAre(r)}.`,
      "",
      "| table | → target | rows before | rows after | quarantined |",
      "|---|---|---:|---:|---:|",
    );
    for (const t of r.tables)
      lines.push(
        `| ${esc(t.name)} | ${esc(t.target ?? "(quarantine)")} | ${formatCount(t.rowsBefore)} | ${formatCount(t.rowsAfter)} | ${formatCount(t.quarantined)} |`,
      );
  }
  if (r.final) {
    lines.push(
      "",
      "## The final file",
      "",
      `${plural(r.final.tables.length, "table")}: ${formatCount(r.final.voxRows)} rows in vox's tables, ${formatCount(r.final.quarantineRows)} in legacy_quarantine, ${formatCount(r.final.ledgerRows)} in cutover_ledger, ${plural(r.final.sequences, "sqlite_sequence entry", "sqlite_sequence entries")}.`,
      "",
      "| table | rows |",
      "|---|---:|",
    );
    for (const t of r.final.tables) lines.push(`| ${esc(t.name)} | ${formatCount(t.rows)} |`);
  }
  if (r.sidecar?.tables.length) {
    lines.push(
      "",
      "## The sidecar (Stage 2)",
      "",
      `${r.sidecar.path ?? ""}`.trim(),
      "",
      "| table | rows | already present | merged | conflicting |",
      "|---|---:|---:|---:|---:|",
    );
    for (const t of r.sidecar.tables)
      lines.push(`| ${esc(t.name)} | ${formatCount(t.rows)} | ${formatCount(t.present)} | ${formatCount(t.merged)} | ${formatCount(t.conflicts)} |`);
  }
  return lines;
}

/** A problem of a run: a step that failed, or one thing a finished step carried on past. */
interface ReportProblem {
  step: string;
  title: string;
  text: string;
  failed: boolean;
}

/** The run's problems, from the report's steps: what the wizard's headline counts and report.md and the text summary list. */
export function reportProblems(r: { steps: { id: string; title: string; status: string; summary: string; warnings?: string[] }[] }): ReportProblem[] {
  const out: ReportProblem[] = [];
  for (const s of r.steps) {
    if (s.status === "failed") out.push({ step: s.id, title: s.title, text: s.summary, failed: true });
    for (const w of s.warnings ?? []) out.push({ step: s.id, title: s.title, text: w, failed: false });
  }
  return out;
}

/** legacy_quarantine in one sentence: the rows the table holds, by reason (after --apply), else the import's count. */
export function quarantineSentence(r: CountedReport & { quarantineTable?: { rows: number; byReason: Record<string, number> } | null }): string {
  const q = r.quarantineTable;
  if (!q) return `${formatCount(r.quarantined)} row(s) to legacy_quarantine`;
  const reasons = Object.entries(q.byReason).map(([k, n]) => `${formatCount(n)} ${k}`);
  return `legacy_quarantine holds ${formatCount(q.rows)} row(s)${reasons.length ? `: ${reasons.join(", ")}` : ""}`;
}

/** The heading of the tables whose large values the export read whole (issue 17), in report.md and the wizard. */
export const READ_WHOLE_HEADING = "Large values read whole";

/** One such table, in the words of report.md, the dry-run's text and the wizard's evidence. */
export function readWholeSentence(w: { table: string; values: number; reason: string }): string {
  return `${w.table}: ${plural(w.values, "large value")} read whole — ${w.reason}`;
}
