/**
 * A full garbage collection after every 8 MB of short-lived buffers the SQLite driver handed out.
 *
 * Each page read from `sqlite_dbpage` is a new Buffer of its own (the driver cannot fill one we own).
 * V8 collects such external memory late while a synchronous loop runs — it only starts marking and
 * waits for allocations on its own heap, which a page loop hardly makes — so reading a large value
 * left about as much garbage as the value, and the allocator kept it: each pass over an 80 MB value
 * raised the cutover's RSS by 25–40 MB (80 MB value, whole cutover --apply: 206 → 189 MB peak; collecting every 4 MB bought nothing more).
 *
 * `gc` is reached the way test runners reach it without `--expose-gc` on the command line (the flag
 * set at run time, the function taken from a new context). Where that is not possible, nothing is
 * collected early and memory is what it was.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const EVERY = 8 << 20;
let since = 0;
let collect: (() => void) | null | undefined;

/** Counts `bytes` of driver buffers that are garbage once used; collects after every 8 MB. */
export function droppedBuffer(bytes: number): void {
  since += bytes;
  if (since < EVERY) return;
  since = 0;
  collectGarbage();
}

let sinceLines = 0;
let collectYoung: (() => void) | null | undefined;

/**
 * Counts `bytes` of small driver buffers (a row line each, row-lines.ts) that are garbage once used;
 * a young-generation collection after every 8 MB frees them. V8 collects them late otherwise: the
 * young generation holds only their small handles, so it fills after ~150 MB of lines (export-legacy
 * of the 150 MB bench file: 141 → 175 MB peak). A minor collection of a young generation that is
 * nearly all garbage costs well under a millisecond.
 */
export function droppedLines(bytes: number): void {
  sinceLines += bytes;
  if (sinceLines < EVERY) return;
  sinceLines = 0;
  if (collectYoung === undefined) {
    collectGarbage(); // reaches gc (once a major collection: nothing is retained between rows)
    const f = collect;
    collectYoung = f ? () => (f as unknown as (o: { type: string }) => void)({ type: "minor" }) : null;
    return;
  }
  collectYoung?.();
}

/** A full collection now, if it can be reached (also: a closed driver connection whose statements only a collection finalizes). */
export function collectGarbage(): void {
  if (collect === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      const f: unknown = runInNewContext("gc");
      collect = typeof f === "function" ? (f as () => void) : null;
    } catch {
      collect = null;
    }
  }
  collect?.();
}
