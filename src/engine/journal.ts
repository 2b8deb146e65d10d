import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { fsyncFile } from "../util/fsync.js";
import { join } from "node:path";
import { redactValue } from "../util/redact.js";
import { JOURNAL_NAME as NAME } from "../layout.js";
import type * as v from "valibot";
import { check, StampedEntrySchema, type JournalEntrySchema, type RunStartSchema } from "../validate/schemas.js";
import type { ContentState } from "../safety/content-version.js";

/** What a cutover keeps at its start (run-start): everything resume and rollback need, never recomputed from the file now at the path. Its schema: src/validate/schemas.ts. */
export type RunStartEntry = v.InferOutput<typeof RunStartSchema>;

/** One line of the journal (types inferred from JournalEntrySchema, never written twice). */
type JournalEntry = v.InferOutput<typeof JournalEntrySchema>;

/** A journal line as read back: an entry with its time. */
export type Stamped = v.InferOutput<typeof StampedEntrySchema>;

export const JOURNAL_NAME = NAME;

/**
 * Append-only, fsynced record of a run: a line is on disk before the next action starts, so after
 * a crash, kill -9 or power loss the next run knows exactly where this one stood.
 */
export class Journal {
  path: string;
  constructor(workDir: string) {
    this.path = join(workDir, JOURNAL_NAME);
  }

  append(entry: JournalEntry): void {
    const line = JSON.stringify(redactValue({ ts: new Date().toISOString(), ...entry })) + "\n";
    appendFileSync(this.path, line);
    fsyncFile(this.path); // strict: a line not known to be on disk stops the run before its action
  }

  entries(): Stamped[] {
    return readJournal(this.path);
  }
}

/** Reads a journal, ignoring a torn last line (a crash mid-append). */
export function readJournal(path: string): Stamped[] {
  if (!existsSync(path)) return [];
  const out: Stamped[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      break;
    }
    // Checked, not cast: a line this tool did not write ends the readable journal.
    const entry = check(StampedEntrySchema, parsed);
    if (!entry) break;
    out.push(entry);
  }
  return out;
}

/**
 * Whether the swap has moved anything: at "primary-archived" and "new-in-place" (the original linked into
 * the archive, then the new file renamed over the name). At "intent" nothing is renamed yet — or a late holder undid
 * the swap —, so the file at the name is still the run's starting file, or another one put there.
 */
export const swapMoved = (phase: JournalState["swapPhase"]): boolean => phase === "primary-archived" || phase === "new-in-place";

export interface JournalState {
  start?: Extract<Stamped, { e: "run-start" }>;
  done: Map<string, Record<string, unknown>>;
  started: Set<string>;
  swapPhase: "none" | "intent" | "primary-archived" | "new-in-place";
  /** The primary's content state recorded under the hold at the last swap phase (checkpointed): a resume checks it again. */
  swapState: ContentState | null;
  finished: boolean;
  /** What the primary was when the run finished (rollback after a finished cutover checks it). */
  final: { identity: ContentState | null; inode: { dev: string; ino: string } | null } | null;
  rolledBack: boolean;
  interruptedAt: string | null;
  /** The failure the run stopped on (the last of step-done, step-failed and interrupted was a step-failed), or null. */
  stoppedOn: { step: string; message: string; gate?: string } | null;
  lastStep: string | null;
  /** When the journal began. */
  firstTs: string | null;
}

export function journalState(entries: Stamped[]): JournalState {
  const s: JournalState = {
    done: new Map(),
    started: new Set(),
    swapPhase: "none",
    swapState: null,
    finished: false,
    final: null,
    rolledBack: false,
    interruptedAt: null,
    stoppedOn: null,
    lastStep: null,
    firstTs: entries[0]?.ts ?? null,
  };
  for (const en of entries) {
    switch (en.e) {
      case "run-start":
        s.start = en;
        break;
      case "step-start":
        s.started.add(en.step);
        s.lastStep = en.step;
        break;
      case "step-done":
        s.done.set(en.step, en.outputs);
        s.stoppedOn = null;
        s.interruptedAt = null; // a resume got past it
        break;
      case "step-failed":
        s.stoppedOn = { step: en.step, message: en.message, ...(en.gate ? { gate: en.gate } : {}) };
        s.interruptedAt = null;
        break;
      case "swap":
        s.swapPhase = en.phase;
        if (en.state) s.swapState = en.state;
        break;
      case "interrupted":
        s.interruptedAt = en.step;
        s.stoppedOn = null;
        break;
      case "run-done":
        s.finished = true;
        s.final = { identity: en.finalIdentity ?? null, inode: en.finalInode ?? null };
        break;
      case "rollback-done":
        s.rolledBack = true;
        break;
    }
  }
  return s;
}
