/**
 * Stage 1's export and build, adopted from the dry-run's kept trial (src/engine/kept-trial.ts: when
 * an apply may adopt it, and why that keeps every guarantee) instead of made again.
 */
import type { StepOutput } from "../src/engine/step-outputs.js";
import { builtFileIntact, changedSinceTrial, dropTrial, type KeptTrial } from "../src/engine/kept-trial.js";
import { adoptFile } from "../src/engine/adopt-file.js";
import { basename, dirname, join } from "node:path";
import { removeOwnDatabaseFiles } from "../src/db/files.js";
import { recordFile, recordMismatch } from "../src/safety/runfiles.js";
import { provenBefore, stillProven } from "../src/engine/built-hash.js";
import type { RunContext, StepResult } from "./types.js";

/**
 * The dry-run's kept trial's backup, adopted with its export's outputs (the primary's content state
 * before that export is the one the later gates compare with); verify-backup proves it as any other.
 * The primary is looked at again first (the trial was checked when it was taken, before the lock).
 * null: the primary changed, or the backup could not be moved (the trial is removed), the export step exports.
 */
export function adoptBackup(c: RunContext, t: KeptTrial): StepResult<StepOutput<"export">> | null {
  // Looked at again under the run's lock (the trial was taken, and checked, before it).
  const changed = changedSinceTrial(t, c.dbPath);
  if (changed) {
    dropTrial(t.dir);
    c.emit({ type: "note", text: `The dry-run's kept trial was not used (the primary changed since its export: ${changed}): this run exports itself.` });
    return null;
  }
  try {
    adoptFile(t.backupPath, c.backupPath, join(dirname(c.backupPath), `.${basename(c.backupPath)}.partial-${process.pid}`));
  } catch (e) {
    dropTrial(t.dir);
    c.emit({ type: "note", text: `The dry-run's backup could not be moved (${e instanceof Error ? e.message : String(e)}): this run exports itself.` });
    return null;
  }
  const o = t.record.export.outputs;
  return {
    summary: `the dry-run's backup (${t.record.createdAt}, plan ${t.record.planDigest}) adopted: the primary unchanged since that export (content version); ${t.record.export.summary}`,
    outputs: { ...o, path: c.backupPath, file: recordFile(c.backupPath, o.sha256), adopted: t.record.createdAt },
  };
}

/**
 * The dry-run's kept build, adopted when its backup was (the same file, verified again by this run):
 * moved beside the primary, then kept only if its sha256 there is still the one taken after its
 * checks passed (else removed). The kept trial is removed either way; null: this run builds the file itself.
 */
export async function adoptBuild(c: RunContext, t: KeptTrial, verified: boolean): Promise<StepResult<StepOutput<"build-import">> | null> {
  let besideStage0 = false;
  const notUsed = (why: string) => {
    c.emit({ type: "note", text: `The dry-run's built file ${why}: this run builds the new file itself.` });
    return null;
  };
  try {
    const moved = recordMismatch(t.builtPath, t.record.build.outputs.file);
    if (moved) return notUsed(`is not the file it recorded (${moved})`);
    // Hashed beside Stage 0, and nothing wrote to it since (engine/built-hash.ts); else hashed once moved.
    const proven = await provenBefore(t.builtHash, t.builtPath, t.record.builtSha256);
    // Its stat looked at right after the rename (not after the folder's fsync): a copy to another filesystem is hashed.
    adoptFile(t.builtPath, c.newPath, join(dirname(c.newPath), `.${basename(c.newPath)}.vox-cutover-building-${process.pid}`), () => {
      besideStage0 = stillProven(proven, c.newPath);
    });
    if (!besideStage0 && !builtFileIntact(t, c.newPath)) {
      removeOwnDatabaseFiles(c.newPath);
      return notUsed("changed since its checks (its sha256 differs)");
    }
  } catch (e) {
    return notUsed(`could not be moved (${e instanceof Error ? e.message : String(e)})`);
  } finally {
    dropTrial(t.dir);
  }
  const o = t.record.build.outputs;
  return {
    summary: `the dry-run's build (${t.record.createdAt}) adopted, its sha256 unchanged since its checks${besideStage0 ? " (taken beside Stage 0, the file unwritten since)" : ""}: ${t.record.build.summary}`,
    outputs: { ...o, path: c.newPath, evidence: { ...o.evidence, backupVerified: verified }, file: recordFile(c.newPath), adopted: t.record.createdAt },
  };
}
