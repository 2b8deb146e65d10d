/** Whether `--resume` of an unfinished run can succeed: the engine's answer, as data (drivers word it, never decide it). */
import { existsSync } from "node:fs";
import { contentState, LIVE_WRITE_GATE, REPLACED_GATE, sameContent } from "../safety/content-version.js";
import { inodeOf } from "../safety/identity.js";
import { runStateFromJournal } from "../engine/run-state.js";
import type { RunOnDisk } from "../engine/runs.js";

type Resumability = { resumable: true } | { resumable: false; whyNot: string };

export function resumability(run: RunOnDisk, dbPath: string): Resumability {
  const st = run.state;
  // The live-write gate: a primary written to since the export cannot be resumed (the new file would
  // miss those writes); only a rollback and a new run can go on.
  if (st.stoppedOn?.gate === LIVE_WRITE_GATE)
    return { resumable: false, whyNot: "the primary was written to after the export, so resuming would stop at the same gate" };
  // Another file at the name before the swap began (stage0-preconditions.ts assertStillPlannedFile): the rollback closes the run.
  const was = st.start?.identity;
  const now = st.swapPhase === "none" && was?.dev ? inodeOf(dbPath) : null;
  if (st.stoppedOn?.gate === REPLACED_GATE || (was?.dev && st.swapPhase === "none" && (!now || now.dev !== was.dev || now.ino !== was.ino)))
    return {
      resumable: false,
      whyNot: "another file is at the database's name now (the run never moved it), so resuming would be refused; rolling back closes the run",
    };
  const exported = runStateFromJournal(st.done).backup?.primaryAtExport;
  if (st.swapPhase === "none" && exported && existsSync(dbPath)) {
    try {
      if (!sameContent(exported, contentState(dbPath)))
        return { resumable: false, whyNot: "the primary changed since the export (another writer?), so resuming would stop at the live-write gate" };
    } catch {
      /* unreadable: let Resume say why */
    }
  }
  return { resumable: true };
}
