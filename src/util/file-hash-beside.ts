/**
 * A file's sha256 taken on a worker thread (util/file-hash-worker.ts) while this thread goes on: the
 * kept built file's beside Stage 0 (engine/built-hash.ts), a backup's whole-file hash beside its
 * read (backup/compare.ts). With the file's stat before the first read and after the last: what the
 * hash says holds for the file as it was while read, and only if those are equal.
 */
import { closeSync, existsSync, openSync, statSync, type BigIntStats } from "node:fs";
import { Worker } from "node:worker_threads";
import { oneAnswer, spareWorkers, WORKER_LIMITS, workerExecArgv } from "./worker.js";
import { envInteger } from "./env.js";

/** What a write moves: compared as strings (the journal-free record of one moment). */
export interface StatNow {
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
}

export interface FileHash {
  sha256: string;
  before: StatNow;
  after: StatNow;
}

export interface FileHashBeside {
  readonly result: Promise<FileHash | { error: string }>;
  stop(): void;
}

export function statOfFd(st: BigIntStats): StatNow {
  return { dev: String(st.dev), ino: String(st.ino), size: String(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs) };
}

export function statNow(path: string): StatNow | null {
  try {
    return statOfFd(statSync(path, { bigint: true }));
  } catch {
    return null;
  }
}

export const sameStat = (a: StatNow | null, b: StatNow | null): boolean =>
  a !== null && b !== null && a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

const WORKER = new URL("./file-hash-worker.js", import.meta.url);

/**
 * Starts hashing `path` on a worker thread (`beforeLastLine`: the bytes before its last line); null
 * (the caller hashes on its own thread) below VOX_CUTOVER_HASH_BESIDE_BYTES (default 32 MB: ~20 ms of
 * hashing, less than a thread's start), beside the wizard's screens (util/worker.ts), or from the
 * sources (no built worker). The file is opened here, so the worker reads the file at `path` now
 * even if it is renamed before the thread runs (the dry-run's trial file, renamed into place once
 * its checks end); the descriptor is closed once the thread has ended (never while it may read).
 */
export function hashFileBeside(path: string, beforeLastLine = false): FileHashBeside | null {
  if (spareWorkers() || !existsSync(WORKER) || Number(statNow(path)?.size ?? 0) < envInteger("VOX_CUTOVER_HASH_BESIDE_BYTES", 32 << 20)) return null;
  const fd = openSync(path, "r");
  let worker: Worker;
  try {
    worker = new Worker(WORKER, { workerData: { fd, beforeLastLine }, execArgv: workerExecArgv(), resourceLimits: WORKER_LIMITS });
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  worker.once("exit", () => closeSync(fd));
  worker.unref();
  return { result: oneAnswer<FileHash | { error: string }>(worker, "the hashing thread"), stop: () => void worker.terminate() };
}
