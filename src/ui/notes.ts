/** What the wizard checks at its prompts and says when it stops or quits: pure functions of the state. */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { escapeControls, expandHome } from "./format.js";
import { stepsOf, type WizardState } from "./state.js";

export function validateBackupPath(value: string, dbPath: string, plannedWorkDir?: string): string | undefined {
  if (!value.trim()) return "type a path for the backup file";
  if (/[/\\]$/.test(value)) return "that names a folder: add a file name";
  const p = resolve(expandHome(value.trim()));
  if (p === resolve(dbPath) || p.startsWith(resolve(dbPath) + "-")) return "that is the database itself";
  if (existsSync(p)) return statSync(p).isDirectory() ? "that is a folder: add a file name" : "a file is already there: choose a new name";
  const dir = dirname(p);
  // The run's work dir (the plan's, or vox-cutover-runs/<UTC> beside the database) is created when the run starts.
  if (!existsSync(dir)) {
    if (plannedWorkDir && resolve(plannedWorkDir) === dir && existsSync(dirname(dir))) return undefined;
    return basename(dirname(dir)) === "vox-cutover-runs" && existsSync(dirname(dirname(dir))) ? undefined : `the folder ${dir} does not exist`;
  }
  return undefined;
}

/** Whether the run got past Stage 0 (which writes nothing): only then is there a run on disk. */
export function wroteSomething(s: WizardState): boolean {
  return stepsOf(s).some((x) => x.stage >= 1 && x.status !== "pending");
}

/** One line for the terminal after the wizard ends: what is on disk now. */
export function quitNote(s: WizardState): string {
  const made =
    s.origin === "sample"
      ? `The sample database the wizard made is in ${s.scratch ?? dirname(s.db ?? "")}.`
      : s.origin === "clone"
        ? `The rehearsal clone is in ${s.scratch ?? dirname(s.db ?? "")}; the real database ${s.original} was only read.`
        : "";
  const tail = made ? ` ${made}` : "";
  switch (s.screen) {
    case "summary": {
      const r = s.report!;
      if (s.rehearsal) return `Rehearsal finished: everything it wrote is in ${s.scratch ?? r.workDir}.${tail}`;
      return `Cut over: ${s.db} is now ${r.after.chain}. Backup ${r.backup.path}; the old file is in ${r.archive.path ?? r.workDir}.${r.rollbackCommand ? ` Undo: ${r.rollbackCommand}` : ""}`;
    }
    case "rolled-back":
      return `${s.rolledBack?.message ?? "Rolled back."}${tail}`;
    case "nothing":
      return `${s.report?.message ?? "Nothing was changed."}`;
    case "unfinished":
      return `Nothing was changed. The unfinished run is still recorded in ${s.inspection?.unfinished?.workDir}; the next start offers it again.${tail}`;
    case "stopped":
      if (s.stopped?.note) return `${s.stopped.note}${tail}`;
      if (s.rollingBack) return `Roll back not done: ${s.stopped?.message ?? ""}`;
      if (s.started && !wroteSomething(s))
        return `Stopped during the preconditions, before anything was written: nothing was changed and there is nothing to resume.${tail}`;
      if (s.started) return `${s.stopped?.message ?? "The run stopped."} The next start of the wizard offers Resume / Roll back.`;
      return `Nothing was changed.${tail}`;
    default:
      if (s.started)
        return `The run stopped; its journal is in ${s.report?.workDir ?? "the run's work dir"}. The next start of the wizard offers Resume / Roll back.`;
      return `Nothing was changed.${tail}`;
  }
}

export function whatStops(s: WizardState): string {
  const cur = stepsOf(s).find((x) => x.status === "running");
  if (!cur) return "Stopping now (no step is running)…";
  if (cur.id === "swap") return `Stopping after the swap finishes (it is never cut in half; about 1 s)…`;
  if (cur.progress) return `Stopping after the current batch of rows of "${cur.title}" (about 1 s)…`;
  return `Stopping after "${cur.title}" finishes (about 3 s)…`;
}

export function stoppingText(s: WizardState): string[] {
  if (!s.stopping) return [];
  // What was running when the stop was asked for (the step may have ended since).
  const lines = [s.stopping.what ?? whatStops(s)];
  if (s.stopping.presses >= 2) {
    const cur = stepsOf(s).find((x) => x.status === "running");
    lines.push(
      `To force it, press Ctrl-C once more: the process ends at once${cur ? `, cutting "${cur.title}" off mid-way` : ""}. That leaves the journal (every finished step), a stale lock and any partial file of this step; the next start offers Resume or Roll back, and Roll back removes the partial files. The primary is not changed by forcing.`,
    );
  }
  return lines;
}

/** Why a telemetry path cannot be checked (missing, a folder, not a regular file), or undefined. */
export function telemetryPathProblem(p: string): string | undefined {
  let st;
  try {
    st = statSync(p);
  } catch {
    return `there is no file ${escapeControls(p)}`;
  }
  if (st.isDirectory()) return `${escapeControls(p)} is a folder`;
  if (!st.isFile()) return `${escapeControls(p)} is not a regular file (a FIFO or device is never read)`;
  try {
    accessSync(p, constants.R_OK);
  } catch {
    return `${escapeControls(p)} cannot be read (permission)`;
  }
  return undefined;
}

/** The file a confirmation acts on: the sidecar step acts on the sidecar, not on vox.db. */
export function confirmTarget(s: WizardState): string {
  const r = s.request;
  if (!r || r.kind !== "confirm") return "";
  const target = (r as { target?: string }).target;
  if (target) return target;
  if (r.step === "sidecar" && s.sidecarPath) return basename(s.sidecarPath);
  return r.expected;
}
