import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { runsRoot, WORK_DIR_POINTER } from "../layout.js";
import { pointedWorkDir, readableJournal, runOwners } from "./run-pointers.js";

export { pointToWorkDir } from "./run-pointers.js"; // the pointer a --work-dir run leaves beside the database
import { realPathOf } from "../safety/identity.js";
import { journalPathProblem } from "../safety/runfiles.js";
import { journalState, readJournal, JOURNAL_NAME, type JournalState } from "./journal.js";

export interface RunOnDisk {
  workDir: string;
  state: JournalState;
  /** Set when the journal's paths are not the ones its folder implies (edited by hand, or not this run's): nothing is done from it. */
  problem?: string;
}

/** Runs recorded in `vox-cutover-runs/` beside the database (its folders, and the work dirs its pointers name) and the given work dir, newest first. */
function findRuns(dbPath: string, workDir?: string): RunOnDisk[] {
  /** Each folder to look in → the owners its journal must have (null: beside the database, or given: any). */
  const dirs = new Map<string, Set<number> | null>();
  if (workDir) dirs.set(workDir, null);
  const real = realPathOf(dbPath);
  const root = runsRoot(real);
  if (existsSync(root) && statSync(root).isDirectory()) {
    const owners = runOwners(real);
    for (const e of readdirSync(root)) {
      const d = join(root, e);
      try {
        if (e.endsWith(WORK_DIR_POINTER)) {
          const pointed = pointedWorkDir(e, real, owners); // a run's pointer (engine/run-pointers.ts), checked
          if (pointed && !dirs.has(pointed)) dirs.set(pointed, owners);
        } else if (statSync(d).isDirectory()) dirs.set(d, null); // followed: a linked runs folder's runs are found (helper-106)
      } catch {
        /* vanished */
      }
    }
  }
  const runs: RunOnDisk[] = [];
  for (const [d, owners] of dirs) {
    const j = join(d, JOURNAL_NAME);
    if (!readableJournal(j, owners)) continue; // absent, or a FIFO that would block the read
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

/** What an operator calls a run, by the command that began it: import-legacy and migrate run the cutover engine too (resumed and rolled back with `cutover`). */
export function runKind(command: string | undefined): string {
  return command === "import-legacy" ? "import-legacy run" : command === "migrate" ? "migrate run" : "cutover";
}

/** The last run that finished a cutover (swap done) and was not rolled back: `cutover --rollback` after success. */
export function finishedRun(dbPath: string, workDir?: string): RunOnDisk | undefined {
  return findRuns(dbPath, workDir).find((r) => r.state.finished && !r.state.rolledBack && r.state.swapPhase === "new-in-place");
}

/** The run that neither finished nor was rolled back, if any. */
export function unfinishedRun(dbPath: string, workDir?: string): RunOnDisk | undefined {
  return findRuns(dbPath, workDir).find((r) => !r.state.finished && !r.state.rolledBack);
}
