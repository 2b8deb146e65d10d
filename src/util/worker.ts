import type { Worker } from "node:worker_threads";

/**
 * V8's options among those `process.allowedNodeEnvironmentFlags` lists (Node's documentation of
 * NODE_OPTIONS): Node hands them to V8, and refuses every V8 option in a worker's execArgv.
 */
const V8_OPTIONS = new Set([
  "--abort-on-uncaught-exception",
  "--disallow-code-generation-from-strings",
  "--enable-etw-stack-walking",
  "--expose-gc",
  "--huge-max-old-generation-size",
  "--interpreted-frames-native-stack",
  "--jitless",
  "--max-old-space-size",
  "--max-semi-space-size",
  "--perf-basic-prof",
  "--perf-basic-prof-only-functions",
  "--perf-prof",
  "--perf-prof-unwinding-info",
  "--stack-trace-limit",
]);

/**
 * The options a worker thread is started with: Node's own options of this process, without its V8
 * options. Node refuses a V8 option in a worker's execArgv ("Initiated Worker with invalid execArgv
 * flags"), and the thread has it anyway: V8's flags hold for the whole process. The launch line gives
 * the main thread `--max-semi-space-size` (a worker's young generation is its resourceLimits), and an
 * operator may start `node --max-old-space-size=8192 dist/src/cli/main.js …`: neither may stop a run
 * at its first worker. Kept: what Node lists as its own (`--require`, `--conditions`, `--no-warnings`,
 * …, each with its value) and the CPU profiler's options; not `--input-type` and `--eval`, which are
 * for --eval input only.
 */
export function workerExecArgv(): string[] {
  const out: string[] = [];
  let keepValue = false;
  for (const a of process.execArgv) {
    if (!a.startsWith("-")) {
      if (keepValue) out.push(a); // the value of the option before it (`--require FILE`)
      keepValue = false;
      continue;
    }
    const name = a.split("=")[0]!;
    const keep = (process.allowedNodeEnvironmentFlags.has(name) && !V8_OPTIONS.has(name) && name !== "--input-type") || name.startsWith("--cpu-prof");
    if (keep) out.push(a);
    keepValue = keep && !a.includes("=");
  }
  return out;
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
