/** Flags a worker thread must not inherit (`--input-type` is only valid for --eval input). */
export function workerExecArgv(): string[] {
  return process.execArgv.filter((a) => !a.startsWith("--input-type") && !a.startsWith("--eval") && a !== "-e");
}

/** A small young generation: the workers stream, they keep nothing, and RSS stays low. */
export const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8 };
