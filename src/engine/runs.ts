import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { runsRoot } from "../layout.js";
import { realPathOf } from "../safety/identity.js";
import { journalPathProblem } from "../safety/runfiles.js";
import { journalState, readJournal, JOURNAL_NAME, type JournalState } from "./journal.js";

export interface RunOnDisk {
  workDir: string;
  state: JournalState;
  /** Set when the journal's paths are not the ones its folder implies (edited by hand, or not this run's): nothing is done from it. */
  problem?: string;
}

/** Runs recorded in `vox-cutover-runs/` beside the database (and the given work dir), newest first. */
function findRuns(dbPath: string, workDir?: string): RunOnDisk[] {
  const dirs = new Set<string>();
  if (workDir) dirs.add(workDir);
  const real = realPathOf(dbPath);
  const root = runsRoot(real);
  if (existsSync(root)) {
    for (const e of readdirSync(root)) {
      const d = join(root, e);
      try {
        if (statSync(d).isDirectory()) dirs.add(d);
      } catch {
        /* vanished */
      }
    }
  }
  const runs: RunOnDisk[] = [];
  for (const d of dirs) {
    const j = join(d, JOURNAL_NAME);
    if (!existsSync(j)) continue;
    const state = journalState(readJournal(j));
    if (state.start && (state.start.db === real || state.start.db === dbPath)) {
      const problem = journalPathProblem(state.start, d, real);
      runs.push({ workDir: d, state, ...(problem ? { problem } : {}) });
    }
  }
  // Newest first: by the time the journal began (the folder names of two runs in one second differ only by a suffix).
  const t = (r: RunOnDisk) => r.state.firstTs ?? r.state.start!.workDir;
  return runs.sort((a, b) => (t(b) > t(a) ? 1 : t(b) < t(a) ? -1 : b.workDir > a.workDir ? 1 : -1));
}

/** The last run that finished a cutover (swap done) and was not rolled back: `cutover --rollback` after success. */
export function finishedRun(dbPath: string, workDir?: string): RunOnDisk | undefined {
  return findRuns(dbPath, workDir).find((r) => r.state.finished && !r.state.rolledBack && r.state.swapPhase === "new-in-place");
}

/** The run that neither finished nor was rolled back, if any. */
export function unfinishedRun(dbPath: string, workDir?: string): RunOnDisk | undefined {
  return findRuns(dbPath, workDir).find((r) => !r.state.finished && !r.state.rolledBack);
}
