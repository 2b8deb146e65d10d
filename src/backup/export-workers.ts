/**
 * The export's worker thread (the writer: writer-worker.ts), and when a database gets it. A
 * worker's start — its thread and its bundle's compile, ~0.1–0.2 s — used to come after the
 * command's diagnosis and the export's catalog reads, with the main thread waiting for the writer;
 * `withWorkersAhead` starts it ahead — export-legacy before its diagnosis, the cutover (dry-run and
 * apply) before its Stage 0 — so that this overlaps that work, and the export of that file takes
 * it. The worker waits for its setup (its first message) before it opens anything: started ahead,
 * it has not touched the backup path.
 */
import { resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { bytesWithWal } from "../db/local.js";
import { envInteger } from "../util/env.js";
import { WORKER_LIMITS, workerExecArgv } from "../util/worker.js";

/**
 * A database (+ WAL) below this many bytes has its backup written by the exporting thread itself
 * (default 4 MB; test hook VOX_CUTOVER_WRITER_WORKER_BYTES, 0 = always the worker): starting the
 * writer worker costs ~0.1 s of a small file's export, more than writing its few MB here.
 */
export function writerWorkerAbove(): number {
  return envInteger("VOX_CUTOVER_WRITER_WORKER_BYTES", 4 << 20);
}

/** A started worker: `online` resolves once its thread runs; `gone` once it exited (then it is not handed out); `ahead`: started by startExportWorkers. */
interface Started {
  worker: Worker;
  online: Promise<void>;
  gone: boolean;
  ahead: boolean;
}

function spawn(): Started {
  // The URL is written out in full: the program bundle starts the worker's own bundle (scripts/bundle-cli.mjs).
  const worker = new Worker(new URL("./writer-worker.js", import.meta.url), { execArgv: workerExecArgv(), resourceLimits: WORKER_LIMITS });
  const s: Started = { worker, online: Promise.resolve(), gone: false, ahead: false };
  worker.once("exit", () => (s.gone = true));
  s.online = new Promise((ok, fail) => {
    worker.once("online", () => ok());
    worker.once("error", fail); // (an error before anyone listens is not thrown)
  });
  s.online.catch(() => {});
  return s;
}

/** The writer started ahead for one database (null: none, or taken). */
let ahead: { dbPath: string; writer: Started } | null = null;

/**
 * Starts the writer an export of `dbPath` will ask for (from 4 MB, the export's threshold): it loads
 * and waits, and keeps no process alive. Not taken, it is ended by `endStartedAhead` (or with the process).
 */
function startExportWorkers(dbPath: string): void {
  void endStartedAhead();
  if (bytesWithWal(dbPath) < writerWorkerAbove()) return;
  const writer = spawn();
  writer.worker.unref();
  ahead = { dbPath: resolve(dbPath), writer };
}

/** The writer for an export of `dbPath`: the one started ahead if it is still there, else a new one. */
export function exportWorker(dbPath: string): Started {
  const s = ahead && ahead.dbPath === resolve(dbPath) ? ahead.writer : null;
  if (s) ahead = null;
  if (s && !s.gone) {
    s.worker.ref();
    s.ahead = true;
    return s;
  }
  if (s) void s.worker.terminate();
  return spawn();
}

/**
 * Runs `work` (which exports `dbPath`, unless it is refused first) with the export's writer started
 * ahead of it when `start`: it loads while `work` diagnoses and checks the file, the export takes it,
 * and if it did not, it is ended once `work` is done (export-legacy; the cutover, whose Stage 0 keeps
 * one core busy with integrity_check).
 */
export async function withWorkersAhead<T>(dbPath: string, start: boolean, work: () => Promise<T>): Promise<T> {
  if (!start) return work();
  startExportWorkers(dbPath);
  try {
    return await work();
  } finally {
    await endStartedAhead(); // (a refusal before the export: not needed)
  }
}

/** Ends the writer started ahead if no export took it. */
export async function endStartedAhead(): Promise<void> {
  const a = ahead;
  ahead = null;
  await a?.writer.worker.terminate();
}
