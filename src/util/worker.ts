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
