/** Flags a worker thread must not inherit (`--input-type` is only valid for --eval input). */
export function workerExecArgv(): string[] {
  return process.execArgv.filter((a) => !a.startsWith("--input-type") && !a.startsWith("--eval") && a !== "-e");
}
