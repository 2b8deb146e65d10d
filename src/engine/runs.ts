import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { runsRoot, WORK_DIR_POINTER, workDirPointer } from "../layout.js";
import { check, WorkDirPointerSchema } from "../validate/schemas.js";
import { fsyncDir, fsyncFile } from "../util/fsync.js";
import { realPathOf } from "../safety/identity.js";
import { journalPathProblem } from "../safety/runfiles.js";
import { journalState, readJournal, JOURNAL_NAME, type JournalState } from "./journal.js";

export interface RunOnDisk {
  workDir: string;
  state: JournalState;
  /** Set when the journal's paths are not the ones its folder implies (edited by hand, or not this run's): nothing is done from it. */
  problem?: string;
}

/**
 * A run whose work dir is of the operator's choosing (`--work-dir`) leaves a pointer to it in
 * `vox-cutover-runs/` beside the database before its journal begins, so that diagnose, the wizard
 * and every writing command find it unfinished — and resume or roll it back — without being told
 * where it is. A default work dir lies there already. The pointer is only a hint: the run is taken
 * from the folder's journal, which must name this database (findRuns).
 */
export function pointToWorkDir(dbPath: string, workDir: string, runId: string): void {
  const root = runsRoot(dbPath);
  if (dirname(workDir) === root) return;
  mkdirSync(root, { recursive: true });
  const fd = openSync(workDirPointer(dbPath, runId), "wx");
  try {
    writeSync(fd, JSON.stringify({ format: "vox-cutover-work-dir", runId, db: dbPath, workDir }, null, 2) + "\n");
    fsyncFile(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDir(root);
}

/** The work dir a pointer names, if it is one and names this database. */
function pointedWorkDir(path: string, real: string): string | null {
  try {
    const p = check(WorkDirPointerSchema, JSON.parse(readFileSync(path, "utf8")));
    return p && p.db === real ? p.workDir : null;
  } catch {
    return null; // unreadable or not JSON: not a pointer of this tool's
  }
}

/** Runs recorded in `vox-cutover-runs/` beside the database (its folders, and the work dirs its pointers name) and the given work dir, newest first. */
function findRuns(dbPath: string, workDir?: string): RunOnDisk[] {
  const dirs = new Set<string>();
  if (workDir) dirs.add(workDir);
  const real = realPathOf(dbPath);
  const root = runsRoot(real);
  if (existsSync(root)) {
    for (const e of readdirSync(root)) {
      const d = join(root, e);
      try {
        if (e.endsWith(WORK_DIR_POINTER)) {
          const w = pointedWorkDir(d, real);
          if (w) dirs.add(w);
        } else if (statSync(d).isDirectory()) dirs.add(d);
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
