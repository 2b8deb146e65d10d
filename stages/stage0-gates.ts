/**
 * Stage 0 — the apply-time gates, shown before Start. `--apply` refuses (exit 3) when the folders it
 * writes are not writable or another process holds the database open (src/safety/guard.ts owns both
 * rules); these steps run the same checks so the dry-run and the wizard's Stage 0 say so first. In a
 * dry-run a gate that would refuse is a warning on the step (the plan is still shown, exit 0); at
 * `--apply` it is the refusal itself.
 */
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { VoxError } from "../src/errors.js";
import { assertFolderWritable, assertNoHolders, identify } from "../src/safety/guard.js";
import { defineStep, type RunContext, type Step, type StepResult } from "./types.js";
import type { StepOutput } from "../src/engine/step-outputs.js";

/** The folders the run writes: beside the database (lock, new file, SQLite's journal), the work dir, the backup's. */
function foldersOf(c: Pick<RunContext, "dbPath" | "workDir" | "backupPath">): string[] {
  return [...new Set([dirname(c.dbPath), c.workDir, dirname(c.backupPath)])];
}

function checkFolders(c: RunContext): void {
  for (const dir of foldersOf(c)) assertFolderWritable(dir);
}

function checkHolders(c: RunContext): void {
  assertNoHolders(identify(c.dbPath), "(an application still running?)");
}

/** The dry-run's look: a refusal becomes the step's warning ("--apply would be refused now: …"). */
async function wouldRefuse(check: () => void, ok: string): Promise<StepResult<StepOutput<"folders" | "holders">>> {
  try {
    check();
  } catch (e) {
    if (!(e instanceof VoxError) || e.kind !== "refused") throw e;
    const words = `--apply would be refused now: ${e.what.replace(/\.$/, "")}. ${e.next ?? ""}`.trim();
    return {
      summary: "--apply would be refused now (below: why, and what to do)",
      outputs: { wouldRefuse: true, what: e.what, next: e.next ?? null },
      warnings: [words],
    };
  }
  return { summary: ok, outputs: { wouldRefuse: false } };
}

export const foldersStep: Step = defineStep({
  id: "folders",
  stage: 0,
  kind: "read",
  title: "Folders writable",
  reuse: "always",
  describe: (c) => `this user may write ${foldersOf(c).join(", ")} (a folder still to be made: its nearest existing parent)`,
  async run(c) {
    checkFolders(c);
    return { summary: "writable", outputs: { wouldRefuse: false } };
  },
  check: (c) => wouldRefuse(() => checkFolders(c), "writable"),
});

export const holdersStep: Step = defineStep({
  id: "holders",
  stage: 0,
  kind: "read",
  title: "No other process has the file open",
  reuse: "always",
  describe: () =>
    "no application (vox, a service, a sqlite3 shell) holds the database or its -wal/-shm open: one that did would keep writing into the old file after the swap",
  async run(c) {
    checkHolders(c);
    return { summary: holdersOk(), outputs: { wouldRefuse: false } };
  },
  check: (c) => wouldRefuse(() => checkHolders(c), holdersOk()),
});

function holdersOk(): string {
  // Where the system does not show other processes' files, say so instead of a green "none".
  return process.platform === "linux" && existsSync("/proc/self/fd")
    ? "none"
    : "cannot be seen on this system (no /proc): stop every application using the database before --apply";
}
