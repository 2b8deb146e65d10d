import { formatSeconds } from "../util/duration.js";
import { stepsOf, type Progress, type StepView, type WizardState } from "./state.js";
import { formatCount as human } from "../util/count.js";

function bar(done: number, total: number, width: number): string {
  const w = Math.max(5, width);
  const f = total > 0 ? Math.min(w, Math.round((done / total) * w)) : w;
  return "█".repeat(f) + "░".repeat(w - f);
}

/** The one number format (src/util/count.ts). */
export { formatCount as human } from "../util/count.js";

/** A status is a mark and a word, so it reads without colour. */
type Mark = "pending" | "running" | "done" | "warnings" | "skipped" | "failed";
export const MARK: Record<Mark, { icon: string; word: string; color?: string }> = {
  pending: { icon: "·", word: "to do" },
  running: { icon: "▸", word: "running", color: "cyan" },
  done: { icon: "✓", word: "done", color: "green" },
  warnings: { icon: "!", word: "warnings" },
  skipped: { icon: "–", word: "skipped" },
  failed: { icon: "✗", word: "failed", color: "red" },
};

export function markOf(x: StepView): Mark {
  if (x.status === "done" && x.warnings?.length) return "warnings";
  return x.status as Mark;
}

export const STAGES = ["Preconditions", "Legacy chain", "Sidecar", "Telemetry", "Publication/news"];
const SHORT = ["Pre", "Legacy", "Sidecar", "Telem", "News"];

/** The stage tabs; the current one is marked with brackets and ▸ (readable without colour). */
export function tabs(current: number | "summary", cols: number): { text: string; current: boolean }[] {
  const names = [...STAGES.map((n, i) => `${i} ${n}`), "Summary"];
  const short = [...SHORT.map((n, i) => `${i} ${n}`), "Sum"];
  const digits = names.map((_, i) => (i < 5 ? String(i) : "S"));
  const isCur = (i: number) => (current === "summary" && i === 5) || current === i;
  // the current stage always shows its full name, marked ▸[…]; the others shrink until the line fits
  const build = (pick: string[]) => pick.map((t, i) => ({ text: isCur(i) ? `▸[${names[i]}]` : t, current: isCur(i) }));
  for (const pick of [names, short, digits]) {
    const t = build(pick);
    if (t.map((x) => x.text).join("  ").length <= cols) return t;
  }
  return build(digits);
}

/** Strip engine ids in parentheses from a step title ("Contract parity (ssot-drift)" → "Contract parity"). */
export function plainTitle(title: string): string {
  return title.replace(/\s*\((?:[a-z0-9]+-)*[a-z0-9]+\)$/, "");
}

/** Steps as the operator reads them: a database the wizard made is not "given with --db" (the resolve step worded from the wizard's own data). */
export function displaySteps(s: Pick<WizardState, "run" | "live" | "origin" | "db">): StepView[] {
  const steps = stepsOf(s);
  if (s.origin === "given") return steps;
  const words = s.origin === "sample" ? "a sample the wizard made" : "the rehearsal clone the wizard made";
  return steps.map((x) => (x.id === "resolve" && x.status === "done" ? { ...x, summary: `${s.db} (${words})` } : x));
}

const PHASE: Record<string, [string, string]> = {
  export: ["copying rows to the backup", "writing and hashing the backup's end"],
  "verify-backup": ["re-reading the backup", "comparing with the primary"],
  "build-import": ["copying rows into the new file", "rebuilding indexes and checking integrity"],
};

/** The progress lines: the phase, then rows, a smoothed rate, an ETA only while rows are still being copied. */
function progressLines(id: string, p: Progress, now: number, width: number): string[] {
  const [copying, finishing] = PHASE[id] ?? ["working", "finishing"];
  const silent = now - p.at;
  const nearEnd = p.total > 0 && p.total - p.done <= Math.max(16_384, p.total * 0.01);
  if (p.done >= p.total || (nearEnd && silent > 1500)) {
    return [
      `${p.phase ?? finishing}…`,
      `${human(p.done)}/${human(p.total)} rows copied; this part has no row count (${formatSeconds(Math.max(0, now - p.at) / 1000)} so far)`,
    ];
  }
  const pct = p.total ? Math.floor((p.done / p.total) * 100) : 100;
  const rate = p.rate === undefined ? "measuring the rate" : `${human(Math.round(p.rate))} rows/s`;
  const etaS = p.rate ? (p.total - p.done) / p.rate : undefined;
  const eta = etaS === undefined ? "" : ` · ETA ${formatSeconds(etaS)}`;
  const stale = silent > 3000 ? ` · last report ${formatSeconds(silent / 1000)} ago` : "";
  return [
    `${p.phase ?? copying}${p.label ? ` — ${p.label}` : ""}`,
    `${bar(p.done, p.total, Math.min(20, width - 44))} ${pct}% ${human(p.done)}/${human(p.total)} rows · ${rate}${eta}${stale}`,
  ];
}

/** The lines under a running step that change with the clock: its progress, or how long it has worked. */
export function runningLines(x: Pick<StepView, "id" | "status" | "progress" | "startedAt">, now: number, width: number): string[] {
  if (x.status !== "running") return [];
  if (x.progress) return progressLines(x.id, x.progress, now, width);
  if (x.startedAt) return [`working (${Math.max(0, Math.round((now - x.startedAt) / 1000))} s)`];
  return [];
}

export function expandHome(p: string, home = process.env.HOME ?? ""): string {
  if (p === "~") return home;
  if (p.startsWith("~/")) return home + p.slice(1);
  return p;
}

export { escapeControls } from "../util/escape.js";

/**
 * Lines `text` takes in a box `cols` wide with Ink's wrap="wrap" (wrap-ansi with trim off and hard
 * breaks, followed step by step): words move whole to the next line; a word longer than the line
 * breaks, starting where that takes fewer lines. Screens size themselves from it, so a small
 * terminal never scrolls the header (which database) away.
 */
export function wrappedHeight(text: string, cols: number): number {
  const width = Math.max(1, cols);
  let lines = 0;
  for (const para of text.split("\n")) {
    let n = 1;
    let len = 0;
    for (const [i, word] of para.split(" ").entries()) {
      const w = [...word].length;
      if (i > 0) {
        if (len >= width) [n, len] = [n + 1, 0];
        len += 1; // the space stays at the end of a row (trim off)
      }
      if (w > width) {
        const thisLine = 1 + Math.floor((w - (width - len) - 1) / width);
        if (Math.floor((w - 1) / width) < thisLine) [n, len] = [n + 1, 0];
        n += Math.floor((len + w - 1) / width);
        len = ((len + w - 1) % width) + 1;
        continue;
      }
      if (len + w > width && len > 0 && w > 0) [n, len] = [n + 1, 0];
      len += w;
    }
    lines += n;
  }
  return lines;
}

/** Lines that give way on a small terminal: those with the highest `drop` first (0: never). */
export function fitLines<T extends { text: string; drop: number }>(lines: T[], room: number, cols: number): T[] {
  const height = (xs: T[]) => xs.reduce((n, x) => n + wrappedHeight(x.text, cols), 0);
  let shown = lines;
  for (let level = Math.max(0, ...lines.map((x) => x.drop)); level > 0 && height(shown) > room; level--) shown = lines.filter((x) => x.drop < level);
  return shown;
}

/**
 * `text` broken at spaces into lines of at most `cols` (a word longer than that is split): the
 * wizard's exit note on a narrow terminal keeps its words whole instead of the terminal cutting them.
 */
export function wrapWords(text: string, cols: number): string {
  if (cols < 20) return text;
  const len = (s: string) => [...s].length;
  const out: string[] = [];
  for (const para of text.split("\n")) {
    let line = "";
    for (const word of para.split(" ")) {
      if (line && len(line) + 1 + len(word) <= cols) {
        line += ` ${word}`;
        continue;
      }
      if (line) out.push(line);
      let w = [...word];
      for (; w.length > cols; w = w.slice(cols)) out.push(w.slice(0, cols).join(""));
      line = w.join("");
    }
    out.push(line);
  }
  return out.join("\n");
}
