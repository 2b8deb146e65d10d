/**
 * Stage 0 — the apply-time gates, shown before Start. `--apply` refuses (exit 3) when the disk has
 * too little room for what the run writes, the folders it writes are not writable, or another
 * process holds the database open (src/safety owns the rules); these steps run the same checks so
 * the dry-run and the wizard's Stage 0 say so first. In a dry-run a gate that would refuse is a
 * warning on the step (the plan is still shown, exit 0); at `--apply` it is the refusal itself.
 */
import { accessSync, constants, existsSync, lstatSync, statSync, type Stats } from "node:fs";
import { basename, dirname } from "node:path";
import { refused, VoxError } from "../src/errors.js";
import { probeFile } from "../src/db/probe.js";
import { assertArchivable, freeBytes, formatBytes, spaceNeeded, type SpaceNeeded } from "../src/safety/disk.js";
import { assertFolderWritable, assertNoHolders, identify } from "../src/safety/guard.js";
import { shellQuote } from "../src/util/shell.js";
import { assertOneName } from "../src/safety/holders.js";
import { defineStep, type RunContext, type Step, type StepResult } from "./types.js";
import type { StepOutput } from "../src/engine/step-outputs.js";

/** The folders the run writes: beside the database (lock, new file, SQLite's journal), the work dir, the backup's. */
function foldersOf(c: Pick<RunContext, "dbPath" | "workDir" | "backupPath">): string[] {
  return [...new Set([dirname(c.dbPath), c.workDir, dirname(c.backupPath)])];
}

function checkFolders(c: RunContext): void {
  for (const dir of foldersOf(c)) assertFolderWritable(dir);
  // The new file takes the primary's permission bits, and the run writes its ledger row into it after the swap: a file this user may not write
  // (helper-102: a 0444 primary was swapped, then the ledger step failed and the run's files, given those bits, blocked its resume and rollback).
  if (existsSync(c.dbPath) && !writable(c.dbPath))
    throw refused({
      what: `${c.dbPath} is read-only for this user (mode ${(statSync(c.dbPath).mode & 0o777).toString(8).padStart(4, "0")}): the new file would take the same bits, and vox could not write either.`,
      untouched: "Nothing was changed.",
      next: `Make it writable for the user vox runs as (chmod u+w ${shellQuote(c.dbPath)}, as its owner) and run again.`,
    });
  // The run builds the new file under this name and removes it on a refusal: one already there is not this run's (a resumed run does not run this gate again).
  if (lstatOrNull(c.newPath))
    throw refused({
      what: `${c.newPath} is already there: the name this run builds the new file under (left by an earlier run whose journal is gone, or copied here with the database?).`,
      untouched: "Nothing was changed.",
      next: `It is not this run's: look at it (vox-cutover diagnose --db ${shellQuote(c.newPath)}), then move it away or delete it, and run again.`,
    });
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function checkHolders(c: RunContext): void {
  assertNoHolders(identify(c.dbPath), "(an application still running?)");
  assertOneName(c.dbPath);
}

/** The dry-run's look: a refusal becomes the step's warning ("--apply would be refused now: …"). */
async function wouldRefuse(check: () => void, ok: string): Promise<StepResult<StepOutput<"folders" | "holders">>> {
  try {
    check();
  } catch (e) {
    const r = asWarning(e);
    return { summary: r.summary, outputs: { wouldRefuse: true, what: r.what, next: r.next }, warnings: r.warnings };
  }
  return { summary: ok, outputs: { wouldRefuse: false } };
}

/** A gate's refusal in the dry-run's words; anything but a refusal is thrown on (a real failure). */
export function asWarning(e: unknown): { summary: string; what: string; next: string | null; warnings: string[] } {
  if (!(e instanceof VoxError) || e.kind !== "refused") throw e;
  return {
    summary: "--apply would be refused now (below: why, and what to do)",
    what: e.what,
    next: e.next ?? null,
    warnings: [`--apply would be refused now: ${e.what.replace(/\.$/, "")}. ${e.next ?? ""}`.trim()],
  };
}

export const foldersStep: Step = defineStep({
  id: "folders",
  stage: 0,
  kind: "read",
  title: "Folders writable",
  reuse: "always",
  describe: (c) =>
    `this user may write ${foldersOf(c).join(", ")} (a folder still to be made: its nearest existing parent); nothing at ${basename(c.newPath)} when the run begins`,
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
    "no application (vox, a service, a sqlite3 shell) holds the database or its -wal/-shm open, and the file has no other name (a hard link): either would keep reaching the old file after the swap",
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

/** Room for what the run writes, and the work dir on the database's filesystem (the archive is a rename). */
function diskGate(c: Pick<RunContext, "dbPath" | "workDir" | "diagnosis" | "trial">): { free: number; required: number; moved: boolean } {
  const n = need(c);
  // A dry-run's kept trial on this filesystem is renamed into place, not written again (its room is taken already).
  const moved = c.trial ? sameDevice(c.trial.dir, dirname(c.dbPath)) : false;
  const required = moved ? n.total - n.backup - n.newFile : n.total;
  const free = freeBytes(dirname(c.dbPath));
  if (free < required) {
    throw refused({
      what: `Not enough free disk space beside ${c.dbPath}: ${formatBytes(free)} free, ${formatBytes(required)} needed (${describeNeed(n)}).`,
      untouched: "Nothing was changed.",
      next: "Free some space on that filesystem (or move the database to a larger one) and run again.",
    });
  }
  assertArchivable(c.workDir, c.dbPath, "the database");
  return { free, required, moved };
}

/** Whether both paths are on one filesystem (false when either is gone: a trial removed meanwhile is written again, not moved). */
function sameDevice(a: string, b: string): boolean {
  try {
    return statSync(a).dev === statSync(b).dev;
  } catch {
    return false;
  }
}

const spaceLine = (g: { free: number; required: number; moved: boolean }) =>
  `${formatBytes(g.free)} free, ${formatBytes(g.required)} needed${g.moved ? " (the dry-run's backup and new file are moved in, not written again; should the database be written before the export, they are removed first and the run writes its own in their room)" : ""}`;

export const diskStep: Step = defineStep({
  id: "disk",
  stage: 0,
  kind: "read",
  title: "Free disk space",
  reuse: "always",
  describe: (c) =>
    `free space on the database's filesystem ≥ what the run writes: ${describeNeed(need(c))}${c.trial && sameDevice(c.trial.dir, dirname(c.dbPath)) ? "; the dry-run's backup and new file, on this filesystem, are moved in: not counted" : ""}`,
  async run(c) {
    const g = diskGate(c);
    return { summary: spaceLine(g), outputs: { free: g.free, required: g.required } };
  },
  async check(c) {
    try {
      const g = diskGate(c);
      return { summary: spaceLine(g), outputs: { free: g.free, required: g.required } };
    } catch (e) {
      const r = asWarning(e);
      const required = need(c).total;
      return { summary: r.summary, outputs: { free: freeBytes(dirname(c.dbPath)), required }, warnings: r.warnings };
    }
  },
});

/** The backup, the new file with its baseline, the archive link (the -wal checkpointed first). */
function need(c: { dbPath: string; diagnosis: { sizeBytes: number | null; walBytes: number | null } }): SpaceNeeded {
  const p = c.diagnosis.sizeBytes ? probeFile(c.dbPath) : null;
  return spaceNeeded(c.diagnosis.sizeBytes, c.diagnosis.walBytes, p && p.state === "ok" ? p.header.pageSize : null);
}

function describeNeed(n: SpaceNeeded): string {
  return `${formatBytes(n.total)}: backup ≈ ${formatBytes(n.backup)}, new file with its baseline ≈ ${formatBytes(n.newFile)}, archive a hard link${n.archive ? ` (+ ${formatBytes(n.archive)} of WAL checkpointed)` : ""}`;
}
