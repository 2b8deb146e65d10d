/** A cell nobody signals: waiting on it is a plain pause. */
const cell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread for `ms` milliseconds (the synchronous code that looks at a file again, after a pause). */
export function sleepSync(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}
