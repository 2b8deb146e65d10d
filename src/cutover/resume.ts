/** Whether `--resume` of an unfinished run can succeed: the engine's answer, as data (drivers word it, never decide it). */
import { existsSync } from "node:fs";
import { contentState, LIVE_WRITE_GATE, untouchedSince } from "../safety/content-version.js";
import { realPathOf, sameFileAs } from "../safety/identity.js";
import { runStateFromJournal } from "../engine/run-state.js";
import { swapMoved } from "../engine/journal.js";
import { runKind, unfinishedRun, type RunOnDisk } from "../engine/runs.js";
import { refused, type VoxError } from "../errors.js";
import { describeHolder, isStale, readLock } from "../safety/lock.js";
import { runCommandFor } from "./plan.js";

type Resumability = { resumable: true } | { resumable: false; whyNot: string };

export function resumability(run: RunOnDisk, dbPath: string): Resumability {
  const st = run.state;
  // The live-write gate: a primary written to since the export cannot be resumed (the new file would
  // miss those writes); only a rollback and a new run can go on.
  if (st.stoppedOn?.gate === LIVE_WRITE_GATE)
    return { resumable: false, whyNot: "the primary was written to after the export, so resuming would stop at the same gate" };
  // Another file at the name before the swap began (stage0-preconditions.ts assertStillPlannedFile, gate REPLACED_GATE): the
  // rollback closes the run. The file's identity now decides (the original put back, a resume goes on), not the gate journaled.
  if (!swapMoved(st.swapPhase) && sameFileAs(st.start?.identity, dbPath) === false)
    return {
      resumable: false,
      whyNot: "another file is at the database's name now (the run never moved it), so resuming would be refused; rolling back closes the run",
    };
  const exported = runStateFromJournal(st.done).backup?.primaryAtExport;
  if (st.swapPhase === "none" && exported && existsSync(dbPath)) {
    try {
      if (!untouchedSince(exported, contentState(dbPath)))
        return { resumable: false, whyNot: "the primary changed since the export (another writer?), so resuming would stop at the live-write gate" };
    } catch {
      /* unreadable: let Resume say why */
    }
  }
  return { resumable: true };
}

/**
 * A new run refused while `pending` is unfinished: still running (its lock's holder alive), or stopped —
 * where (interrupted at a step, refused at one, or after the last one begun) and what can go on: the
 * resume only where it can succeed (`resumability`), the rollback always. `path`: as the operator gave it.
 */
export function pendingRunRefusal(pending: RunOnDisk, dbPath: string, path: string): VoxError {
  const holder = readLock(dbPath);
  if (holder && holder.runId === pending.state.start!.runId && !isStale(holder))
    return refused({
      what: `Run ${holder.runId} of this database is still running (${describeHolder(holder)}).`,
      untouched: "Nothing was changed by this command.",
      next: "Wait for it to finish, or stop it (Ctrl-C stops it at a safe point); then resume or roll it back.",
      details: { workDir: pending.workDir, lock: holder },
    });
  const st = pending.state;
  const where = st.interruptedAt
    ? `stopped at ${st.interruptedAt}`
    : st.stoppedOn
      ? `stopped at ${st.stoppedOn.step}, which did not pass`
      : `stopped after ${st.lastStep ?? "its start"}`;
  const can = resumability(pending, dbPath);
  const undo = runCommandFor(path, { dbPath, workDir: pending.workDir }, "--rollback --apply");
  return refused({
    what: `An unfinished ${runKind(st.start?.command)} of this database is recorded in ${pending.workDir} (${where}${st.swapPhase !== "none" ? `, swap phase ${st.swapPhase}` : ""}).`,
    untouched: "Nothing was changed.",
    next: can.resumable
      ? `Resume it: ${runCommandFor(path, { dbPath, workDir: pending.workDir }, "--resume --apply")} — or undo it: ${undo}.`
      : `It cannot be resumed (${can.whyNot}): undo it: ${undo}.`,
    details: { workDir: pending.workDir },
  });
}

/**
 * A run of this database that neither finished nor was rolled back, as a refusal (pendingRunRefusal's
 * words), or null. Commands that write outside that run's journal (sidecar, news-check, drill, an
 * in-place migrate or import) are refused while it stands: the next step is its resume or rollback, and
 * a change made beside it would be one its rollback does not know. `diagnose` shows it as its first next step.
 */
export function unfinishedRunRefusal(dbPath: string, path: string): VoxError | null {
  const pending = existsSync(dbPath) ? unfinishedRun(realPathOf(dbPath)) : undefined;
  return pending ? pendingRunRefusal(pending, realPathOf(dbPath), path) : null;
}

/** Writing commands outside a run's journal call this before they write: unfinishedRunRefusal's refusal, thrown. */
export function assertNoUnfinishedRun(path: string): void {
  const refusal = unfinishedRunRefusal(path, path);
  if (refusal) throw refusal;
}
