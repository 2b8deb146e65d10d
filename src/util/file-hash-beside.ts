/**
 * A file's sha256 taken on a worker thread (util/file-hash-worker.ts) while this thread goes on: the
 * kept built file's beside Stage 0 (engine/built-hash.ts), a backup's whole-file hash beside its
 * read (verify: backup/compare.ts; the import of a verified backup: backup/import.ts). With the file's stat before the first read and after the last: what the
 * hash says holds for the file as it was while read, and only if those are equal.
 */
import { closeSync, existsSync, fstatSync, openSync, statSync, type BigIntStats } from "node:fs";
import { lastLineStart, sha256OfFd } from "./file-sha256.js";
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

function statOfFd(st: BigIntStats): StatNow {
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

/** The sha256 of the file open at `fd` (the bytes before its last line: `beforeLastLine`), with its stat before the first read and after the last. */
export function hashOfFd(fd: number, beforeLastLine: boolean): FileHash {
  const st = fstatSync(fd, { bigint: true });
  const before = statOfFd(st);
  const sha256 = sha256OfFd(fd, beforeLastLine ? lastLineStart(fd, Number(st.size)) : undefined);
  return { sha256, before, after: statOfFd(fstatSync(fd, { bigint: true })) };
}

/** Whether `hashFileBeside` would start a worker for `path` (it may still fail to); `minBytes`: a caller's own threshold, when higher. */
function besideFor(path: string, minBytes = 0): boolean {
  const size = Number(statNow(path)?.size ?? 0);
  return !spareWorkers() && existsSync(WORKER) && size >= envInteger("VOX_CUTOVER_HASH_BESIDE_BYTES", 32 << 20) && size >= minBytes;
}

/**
 * Starts hashing `path` on a worker thread (`beforeLastLine`: the bytes before its last line); null
 * (the caller hashes on its own thread) below VOX_CUTOVER_HASH_BESIDE_BYTES (default 32 MB: ~20 ms of
 * hashing, less than a thread's start), beside the wizard's screens (util/worker.ts), from the
 * sources (no built worker), or when the file cannot be opened. The file is opened here, so the
 * worker reads the file at `path` now even if it is renamed before the thread runs (the dry-run's
 * trial file, renamed into place once its checks end); once the thread has ended the descriptor goes
 * to `close` — for a database file db/raw-fd.ts closeWhenAlone, as closing any descriptor of a file
 * drops every POSIX lock this process holds on it, a SQLite connection's included.
 *
 * Test hook: VOX_CUTOVER_TEST_HASH_BESIDE=now takes the hash at once on this thread (the answer a
 * worker reading the file now would give), so that what the caller does after is sure to come later.
 */
export function hashFileBeside(path: string, o: { beforeLastLine?: boolean; close?: (fd: number) => void } = {}): FileHashBeside | null {
  if (!besideFor(path)) return null;
  const beforeLastLine = o.beforeLastLine ?? false;
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    try {
      (o.close ?? closeSync)(fd);
    } catch {
      /* closed already: nothing to release */
    }
  };
  if (process.env.VOX_CUTOVER_TEST_HASH_BESIDE === "now") {
    try {
      return { result: Promise.resolve(hashOfFd(fd, beforeLastLine)), stop: () => {} };
    } finally {
      close();
    }
  }
  let worker: Worker;
  try {
    worker = new Worker(WORKER, { workerData: { fd, beforeLastLine }, execArgv: workerExecArgv(), resourceLimits: WORKER_LIMITS });
  } catch {
    close();
    return null;
  }
  worker.once("exit", close);
  worker.unref();
  return { result: oneAnswer<FileHash | { error: string }>(worker, "the hashing thread"), stop: () => void worker.terminate() };
}

/**
 * The sha256 of a file this thread reads once without hashing it (the import's backup, which this
 * run verified already: backup/import.ts; verify's backup beside its table hashes: backup/compare.ts),
 * taken on a worker from `start()` — called where the other core is free — else, if no worker could,
 * on this thread once the read is done (`by`). Made when the read begins (its stat then); `sha256()`,
 * once the read is done, is the hash of the bytes read only if the stat stayed the same from then
 * until now (the worker's first and last stat between), else null. A write that moves neither the
 * size, mtime nor ctime (a shared mapping dirtied before, a network filesystem's cached attributes)
 * is not seen: the same trust as the kept trial's built file (engine/built-hash.ts).
 * `beside`: whether the read is to leave the hash to this (else it hashes as it reads: a file below
 * `minBytes`, or beside the wizard's screens).
 */
export class HashOfRead {
  readonly beside: boolean;
  private readonly before: StatNow | null;
  private worker: FileHashBeside | null = null;
  constructor(
    private readonly path: string,
    private readonly beforeLastLine: boolean,
    minBytes: number,
  ) {
    this.before = statNow(path);
    this.beside = besideFor(path, minBytes);
  }
  start(): void {
    if (this.beside && !this.worker) this.worker = hashFileBeside(this.path, { beforeLastLine: this.beforeLastLine });
  }
  async sha256(): Promise<{ sha256: string; by: "worker" | "here" } | null> {
    let h = this.worker ? await this.worker.result : { error: "not started" };
    const by = "error" in h ? "here" : "worker";
    if ("error" in h) {
      try {
        const fd = openSync(this.path, "r");
        try {
          h = hashOfFd(fd, this.beforeLastLine);
        } finally {
          closeSync(fd);
        }
      } catch {
        return null;
      }
    }
    return sameStat(this.before, h.before) && sameStat(h.before, h.after) && sameStat(h.after, statNow(this.path)) ? { sha256: h.sha256, by } : null;
  }
  stop(): void {
    this.worker?.stop();
  }
}
