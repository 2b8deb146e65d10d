/**
 * The export's worker threads (the writer: writer-worker.ts; the second reader: reader-worker.ts),
 * and when a database gets each. A worker's start — its thread and its bundle's compile, ~0.1–0.2 s —
 * used to come after the command's diagnosis and the export's catalog reads, with the main thread
 * waiting for the writer; `withWorkersAhead` starts them ahead — export-legacy before its diagnosis,
 * the cutover (dry-run and apply) before its Stage 0 — so that this overlaps that work, and the
 * export of that file takes them. A worker
 * waits for its setup (its first message) before it opens anything: started ahead, it has not
 * touched the database or the backup path, so every order the export keeps (the data_version
 * connection before the snapshot, the reader's connection after it) is unchanged.
 */
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { bytesWithWal, twoThreadReads } from "../db/local.js";
import { probeFile, type ProbeResult } from "../db/probe.js";
import { envInteger } from "../util/env.js";
import { spareWorkers, WORKER_LIMITS, workerExecArgv } from "../util/worker.js";

/**
 * A database (+ WAL) below this many bytes has its backup written by the exporting thread itself
 * (default 4 MB; test hook VOX_CUTOVER_WRITER_WORKER_BYTES, 0 = always the worker): starting the
 * writer worker costs ~0.1 s of a small file's export, more than writing its few MB here.
 */
export function writerWorkerAbove(): number {
  return envInteger("VOX_CUTOVER_WRITER_WORKER_BYTES", 4 << 20);
}

/**
 * Below this size (database + WAL) the export reads on one thread: a worker's start costs more than
 * it saves (test hook: VOX_CUTOVER_SPLIT_BYTES, 0 = always two readers).
 */
export function splitExportBytes(): number {
  return envInteger("VOX_CUTOVER_SPLIT_BYTES", 32 << 20);
}

/**
 * An export of a file of `bytes` (database + WAL) reads on two threads: a rollback-journal file
 * (twoThreadReads) of at least `above` bytes on a machine with two cores (the export also needs room
 * for the spill beside the backup: ReaderSplit.prepare).
 */
export function twoReadersFor(bytes: number, probe: ProbeResult, above = splitExportBytes()): boolean {
  return !spareWorkers() && bytes >= above && availableParallelism() >= 2 && twoThreadReads(probe);
}

type Kind = "reader" | "writer";

/** A started worker: `online` resolves once its thread runs; `gone` once it exited (then it is not handed out); `ahead`: started by startExportWorkers. */
interface Started {
  worker: Worker;
  online: Promise<void>;
  gone: boolean;
  ahead: boolean;
}

function spawn(kind: Kind): Started {
  // The URLs are written out in full: the program bundle starts each worker's own bundle (scripts/bundle-cli.mjs).
  const url = kind === "reader" ? new URL("./reader-worker.js", import.meta.url) : new URL("./writer-worker.js", import.meta.url);
  const worker = new Worker(url, { execArgv: workerExecArgv(), resourceLimits: WORKER_LIMITS });
  const s: Started = { worker, online: Promise.resolve(), gone: false, ahead: false };
  worker.once("exit", () => (s.gone = true));
  s.online = new Promise((ok, fail) => {
    worker.once("online", () => ok());
    worker.once("error", fail); // (an error before anyone listens is not thrown)
  });
  s.online.catch(() => {});
  return s;
}

/** Workers started ahead for one database (null: none, or taken). */
let ahead: { dbPath: string; reader: Started | null; writer: Started | null } | null = null;

/**
 * Starts the workers an export of `dbPath` will ask for (the writer from 4 MB, the reader for a
 * rollback-journal file from 32 MB, the same thresholds as the export's): they load and wait, and
 * keep no process alive. One that is not taken is ended by `endStartedAhead` (or with the process).
 */
function startExportWorkers(dbPath: string): void {
  void endStartedAhead();
  let twoReaders = false;
  const bytes = bytesWithWal(dbPath);
  try {
    twoReaders = twoReadersFor(bytes, probeFile(dbPath));
  } catch {
    // Not readable: the diagnosis says why; the export starts what it needs itself.
  }
  const writer = bytes >= writerWorkerAbove() ? spawn("writer") : null;
  const reader = twoReaders ? spawn("reader") : null;
  writer?.worker.unref();
  reader?.worker.unref();
  ahead = { dbPath: resolve(dbPath), reader, writer };
}

/** A worker for an export of `dbPath`: the one started ahead if it is still there, else a new one. */
export function exportWorker(kind: Kind, dbPath: string): Started {
  const s = ahead && ahead.dbPath === resolve(dbPath) ? ahead[kind] : null;
  if (s && ahead) ahead[kind] = null;
  if (s && !s.gone) {
    s.worker.ref();
    s.ahead = true;
    return s;
  }
  if (s) void s.worker.terminate();
  return spawn(kind);
}

/**
 * Runs `work` (which exports `dbPath`, unless it is refused first) with the export's workers started
 * ahead of it when `start`: they load while `work` diagnoses and checks the file, the export takes
 * them, and those it did not take are ended once `work` is done (export-legacy; the cutover, whose
 * Stage 0 keeps one core busy with integrity_check).
 */
export async function withWorkersAhead<T>(dbPath: string, start: boolean, work: () => Promise<T>): Promise<T> {
  if (!start) return work();
  startExportWorkers(dbPath);
  try {
    return await work();
  } finally {
    await endStartedAhead(); // (a refusal before the export: they were not needed)
  }
}

/** Ends the workers started ahead that no export took (`kind`: only that one, e.g. the reader of an export read on one thread). */
export async function endStartedAhead(kind?: Kind): Promise<void> {
  const a = ahead;
  if (!a) return;
  const end = kind ? [kind] : (["reader", "writer"] as const);
  const ending = end.map((k) => a[k]?.worker.terminate());
  for (const k of end) a[k] = null;
  if (!kind) ahead = null;
  await Promise.all(ending);
}
