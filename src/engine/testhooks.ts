import { existsSync, writeFileSync } from "node:fs";
import { sleepSync } from "../util/sleep.js";

/**
 * Test hook for kill tests: with VOX_CUTOVER_PAUSE_AT=<point> the process writes
 * VOX_CUTOVER_PAUSE_FILE (if set) and blocks at that point so a test can `kill -9` it there.
 * Inert unless the variable is set.
 */
let pausedOnce = false;

export function pausePoint(point: string): void {
  // VOX_CUTOVER_PAUSE_AT: one point, or several separated by commas (each pauses in turn, the marker written again).
  if (!(process.env.VOX_CUTOVER_PAUSE_AT ?? "").split(",").includes(point)) return;
  // VOX_CUTOVER_PAUSE_ONCE: only the first time the point is reached (a point inside a loop).
  if (process.env.VOX_CUTOVER_PAUSE_ONCE && pausedOnce) return;
  pausedOnce = true;
  const marker = process.env.VOX_CUTOVER_PAUSE_FILE;
  if (marker) writeFileSync(marker, `${process.pid} ${point}\n`);
  // VOX_CUTOVER_PAUSE_MS: block that long and go on (signals sent meanwhile are handled at the next
  // safe point). A test that is ready sooner (its signal sent, its other process started) removes
  // the marker file: the wait ends then, instead of at a fixed time.
  const until = Date.now() + Number(process.env.VOX_CUTOVER_PAUSE_MS || 120_000);
  while (Date.now() < until && (!marker || existsSync(marker))) sleepSync(25);
}

/** Test hook: VOX_CUTOVER_FAULT_AFTER_ROWS=<n> makes import-legacy's load fail once it has loaded n rows (in place, or in the import route's copy). */
export function faultAfterRows(): number | undefined {
  const n = process.env.VOX_CUTOVER_FAULT_AFTER_ROWS;
  return n ? Number(n) : undefined;
}
