/**
 * The apply of a dry-run's plan checks the kept built file's sha256 before it adopts it (kept-trial.ts
 * builtFileIntact: 1 GB read and hashed, ~0.8 s on one core). Taken on a worker thread from the moment
 * the trial is taken, it runs beside Stage 0's integrity_check of the primary (the same length at
 * 1 GB, on the main thread) instead of after it. What it proves holds only for the file as it was
 * while hashed, so the build step uses it only when the file's stat — device, inode, size, mtime and
 * ctime, which any write, truncation, utimes or chmod moves — is the same before the first read,
 * after the last, and just before the file is moved; after a rename (the same inode) its size and
 * mtime must still be those. Otherwise (a copy to another filesystem, a stat that moved, no worker)
 * the moved file is hashed as before.
 */
import { existsSync, statSync, type BigIntStats } from "node:fs";
import { Worker } from "node:worker_threads";
import { oneAnswer, spareWorkers, WORKER_LIMITS, workerExecArgv } from "../util/worker.js";
import { envInteger } from "../util/env.js";

/** What a write moves: compared as strings (the journal-free record of one moment). */
export interface StatNow {
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
}

export interface BuiltHash {
  sha256: string;
  before: StatNow;
  after: StatNow;
}

export interface BuiltHashBeside {
  readonly result: Promise<BuiltHash | { error: string }>;
  stop(): void;
}

export function statOfFd(st: BigIntStats): StatNow {
  return { dev: String(st.dev), ino: String(st.ino), size: String(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs) };
}

function statNow(path: string): StatNow | null {
  try {
    return statOfFd(statSync(path, { bigint: true }));
  } catch {
    return null;
  }
}

const sameStat = (a: StatNow | null, b: StatNow | null): boolean =>
  a !== null && b !== null && a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

const WORKER = new URL("./built-hash-worker.js", import.meta.url);

/**
 * Starts hashing `path` on a worker thread; null (hashed once moved, on this thread) below
 * VOX_CUTOVER_HASH_BESIDE_BYTES (default 32 MB: ~20 ms of hashing, less than a thread's start), beside
 * the wizard's screens (util/worker.ts), or from the sources (no built worker).
 */
export function hashBeside(path: string): BuiltHashBeside | null {
  if (spareWorkers() || !existsSync(WORKER) || Number(statNow(path)?.size ?? 0) < envInteger("VOX_CUTOVER_HASH_BESIDE_BYTES", 32 << 20)) return null;
  const worker = new Worker(WORKER, { workerData: { path }, execArgv: workerExecArgv(), resourceLimits: WORKER_LIMITS });
  worker.unref();
  return { result: oneAnswer<BuiltHash | { error: string }>(worker, "the hashing thread"), stop: () => void worker.terminate() };
}

/**
 * The sha256 the worker took of `path`, when it still speaks for the file there now: it matched
 * `want`, nothing wrote to the file while it was read, and its stat is unchanged since. Returns that
 * stat (to compare after the move), or null: hash the file again after it is moved.
 */
export async function provenBefore(beside: BuiltHashBeside | null | undefined, path: string, want: string): Promise<StatNow | null> {
  if (!beside) return null;
  const r = await beside.result;
  if ("error" in r || r.sha256 !== want || !sameStat(r.before, r.after) || !sameStat(r.after, statNow(path))) return null;
  return r.after;
}

/** After the move: the same inode, size and mtime as when proven (a rename moves only the ctime). */
export function stillProven(was: StatNow | null, path: string): boolean {
  const now = statNow(path);
  return was !== null && now !== null && now.dev === was.dev && now.ino === was.ino && now.size === was.size && now.mtimeNs === was.mtimeNs;
}
