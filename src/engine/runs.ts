import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { journalState, readJournal, JOURNAL_NAME, type JournalState } from "./journal.js";

export interface RunOnDisk {
  workDir: string;
  state: JournalState;
}

/** Runs recorded in `vox-cutover-runs/` beside the database (and the given work dir), newest first. */
export function findRuns(dbPath: string, workDir?: string): RunOnDisk[] {
  const dirs = new Set<string>();
  if (workDir) dirs.add(workDir);
  const root = join(dirname(dbPath), "vox-cutover-runs");
  if (existsSync(root)) {
    for (const e of readdirSync(root)) {
      const d = join(root, e);
      if (statSync(d).isDirectory()) dirs.add(d);
    }
  }
  const runs: RunOnDisk[] = [];
  for (const d of dirs) {
    const j = join(d, JOURNAL_NAME);
    if (!existsSync(j)) continue;
    const state = journalState(readJournal(j));
    if (state.start && state.start.db === dbPath) runs.push({ workDir: d, state });
  }
  return runs.sort((a, b) => (b.state.start!.workDir > a.state.start!.workDir ? 1 : -1));
}

/** The run that neither finished nor was rolled back, if any. */
export function unfinishedRun(dbPath: string, workDir?: string): RunOnDisk | undefined {
  return findRuns(dbPath, workDir).find((r) => !r.state.finished && !r.state.rolledBack);
}
