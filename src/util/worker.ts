import type { Worker } from "node:worker_threads";

/**
 * Flags a worker thread must not inherit: `--input-type` is only valid for --eval input, and Node refuses
 * a V8 heap option in a worker's execArgv (`npm start` gives the wizard's UI thread --max-semi-space-size;
 * a worker's young generation is its resourceLimits).
 */
export function workerExecArgv(): string[] {
  return process.execArgv.filter((a) => !a.startsWith("--input-type") && !a.startsWith("--eval") && a !== "-e" && !a.startsWith("--max-semi-space-size"));
}

/** A small young generation: the workers stream, they keep nothing, and RSS stays low. */
export const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8 };

let beside = false;
/**
 * This thread's engine work runs beside the wizard's screens (src/ui/worker.ts sets it): it starts no
 * worker it can do without. Each one is an isolate, a SQLite connection and an allocator arena of its
 * own, on top of the screens' isolate, and they set the wizard's peak (issue 18: ≤ 200 MB; measured in
 * docs/benchmark.md, sessions 13 and 16): the build proves its copied tables on its own thread
 * (native-proof.ts proofBesideFor), and takes whole-file hashes on it (util/file-hash-beside.ts).
 * The commands keep those workers.
 */
export function engineBesideScreens(on: boolean): void {
  beside = on;
}

/** Whether this thread's engine work starts only the workers it cannot do without (engineBesideScreens). */
export function spareWorkers(): boolean {
  return beside;
}

/** A worker's one message, or why none came: it failed, or ended first (`what` names the thread). */
export function oneAnswer<T>(worker: Worker, what: string): Promise<T | { error: string }> {
  return new Promise((resolve) => {
    worker.once("message", (m: T) => resolve(m));
    worker.once("error", (e) => resolve({ error: e.message }));
    worker.once("exit", (code) => resolve({ error: `${what} ended (${code})` }));
  });
}
