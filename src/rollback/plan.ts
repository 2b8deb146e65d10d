/**
 * One typed `RollbackPlan`: what `cutover --rollback` moves, removes and keeps, computed from the
 * run's journal and what is on disk now. The dry-run prints it, the wizard shows it before the
 * operator types the file name, and the executor (./execute.ts) carries out its actions — one
 * description, never three. Pure types and wording here (the wizard's UI thread imports it);
 * ./from-run.ts computes a plan from the journal and the disk.
 */
import { basename } from "node:path";
import type { JournalState } from "../engine/journal.js";

export type SwapPhase = JournalState["swapPhase"];

export type RollbackAction =
  /** The new file at the primary's name gets a second name in the work dir (kept, never deleted). */
  | { kind: "keep-new"; from: string; to: string; checkpoint: boolean }
  /** The archived original is renamed over the primary's name (one step: the name is never empty). */
  | { kind: "restore-original"; from: string; to: string }
  /** The swap had only linked the original into the archive: that second name goes, the primary stays. */
  | { kind: "drop-archive-name"; path: string }
  | { kind: "restore-sidecar"; from: string; to: string }
  /** Our own temporary files beside the database (the unfinished new file among them). */
  | { kind: "remove-temp"; path: string; newFile: boolean }
  /** A backup a killed run left half-written in the work dir. */
  | { kind: "remove-partial"; path: string };

export type RollbackRefusal =
  /** A finished run's database was written since (refused unless --force). */
  | { kind: "changed-since-finish"; change: string }
  /** A finished run's archived original is not there. */
  | { kind: "archive-missing"; archive: string }
  /** An unfinished run whose archive is gone while the primary is not the file the run started from. */
  | { kind: "primary-not-original"; archive: string; detail: string }
  /** An unfinished run stopped inside its swap's undo whose new file was opened by its own name since: its -wal there holds writes a rollback would remove. */
  | { kind: "new-file-written"; wal: string };

export interface RollbackPlan {
  runId: string;
  dbPath: string;
  workDir: string;
  archiveDir: string;
  /** A finished cutover (the original is put back) or an unfinished run (any swap phase). */
  finished: boolean;
  swapPhase: SwapPhase;
  /** In the order the executor carries them out. */
  actions: RollbackAction[];
  /** The verified backup this rollback keeps (null: none had been finished). */
  backupKept: string | null;
  /** Why --apply refuses now (null: it can go ahead). */
  refusal: RollbackRefusal | null;
  /** An unfinished run that never moved the primary, whose name now holds another file (or none, `gone`): how, in words; that file is left as it is. */
  replaced?: { gone: boolean; detail: string };
}

/** The plan in the operator's words, one line per file moved, removed or kept (dry-run and wizard alike). */
export function rollbackLines(p: RollbackPlan): string[] {
  const name = basename(p.dbPath);
  const out: string[] = [];
  const restores = p.actions.some((a) => a.kind === "restore-original");
  if (p.replaced)
    out.push(
      `${p.dbPath} is ${p.replaced.detail}: this run never moved it (its swap had not begun), so it stays as it is; the rollback only closes the run.${p.backupKept && p.replaced.gone ? ` The verified backup ${p.backupKept} can rebuild its rows (vox-cutover import-legacy into a new file).` : ""}`,
    );
  else if (!restores)
    out.push(`${name} is the original and stays where it is (never ${p.actions.some((a) => a.kind === "drop-archive-name") ? "replaced" : "moved"}).`);
  for (const a of p.actions) {
    if (a.kind === "keep-new") out.push(`${a.from} (the new file, with every write made since the swap) → ${a.to} (kept, not deleted)`);
    else if (a.kind === "restore-original") out.push(`${a.from} (the original) → ${a.to}`);
    else if (a.kind === "restore-sidecar") out.push(`${a.from} (the sidecar) → back beside ${name}`);
    else if (a.kind === "remove-temp" && a.newFile) out.push(`Removed: the unfinished new file ${a.path} (built from the backup, which is kept).`);
  }
  const partials = p.actions.filter((a) => a.kind === "remove-partial" || (a.kind === "remove-temp" && !a.newFile)).length;
  const kept = `Kept: ${p.backupKept ? `the backup ${p.backupKept}` : "no backup had been finished, so there is none to keep;"} the journal and the report in ${p.workDir}.`;
  out.push(partials ? `Removed: ${partials} partial file(s) of the run. ${kept}` : kept);
  if (p.refusal?.kind === "changed-since-finish")
    out.push(
      `But the database changed since the cutover finished (${p.refusal.change}): --apply refuses unless --force (the changes would be set aside with the new file).`,
    );
  else if (p.refusal?.kind === "archive-missing") out.push(`But the archived original ${p.refusal.archive} is not there: --apply cannot put it back.`);
  else if (p.refusal?.kind === "primary-not-original")
    out.push(
      `But the archived original ${p.refusal.archive} is gone and ${p.dbPath} is ${p.refusal.detail}: --apply refuses, there is nothing it could put back.`,
    );
  return out;
}
