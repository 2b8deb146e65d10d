/**
 * Worker: owns the backup file while the main thread reads and encodes rows. It hashes (per table
 * and whole file), writes, writes the end markers and the trailer, and fsyncs. Chunks arrive in a
 * ring of shared slots; freeing a slot wakes the main thread if it waits for one.
 */
import { createHash } from "node:crypto";
import { closeSync, fchmodSync, openSync, readSync, writeSync } from "node:fs";
import { fsyncFile } from "../util/fsync.js";
import { parentPort, workerData } from "node:worker_threads";

export type WriterMessage =
  | { t: "lines" | "rows"; slot: number; len: number }
  | { t: "lines" | "rows"; buf: ArrayBuffer; len: number }
  | { t: "end"; name: string; rows: number }
  /** A table's row lines read by the export's reader thread: copied from its spill file, hashed here like any rows, then the table's end line. */
  | { t: "splice"; path: string; offset: number; length: number; name: string; rows: number }
  | { t: "finish"; totalRows: number };

const data = Buffer.from(workerData.data as SharedArrayBuffer);
const control = new Int32Array(workerData.control as SharedArrayBuffer);
const slotSize = workerData.slotSize as number;
// Created with the source database's permission bits (never more readable than it), set exactly.
const mode = workerData.mode as number;
const fd = openSync(workerData.path as string, "wx", mode);
fchmodSync(fd, mode);
const file = createHash("sha256");
let table = createHash("sha256");
let bytes = 0;
const summary: { name: string; rows: number; sha256: string }[] = [];

function write(b: Uint8Array): void {
  file.update(b);
  let off = 0;
  while (off < b.length) off += writeSync(fd, b, off, b.length - off);
  bytes += b.length;
}

let spill: { path: string; fd: number; buf: Buffer } | null = null;

/** Rows of a spill file's range, hashed as the table's rows and written. */
function splice(path: string, offset: number, length: number): void {
  if (spill?.path !== path) {
    if (spill) closeSync(spill.fd);
    spill = { path, fd: openSync(path, "r"), buf: Buffer.allocUnsafe(slotSize) };
  }
  const { fd, buf } = spill;
  for (let at = offset, end = offset + length; at < end;) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, end - at), at);
    if (n <= 0) throw new Error(`the spill file ${path} ended early`);
    const b = buf.subarray(0, n);
    table.update(b);
    write(b);
    at += n;
  }
}

parentPort!.on("message", (m: WriterMessage) => {
  try {
    if (m.t === "lines" || m.t === "rows") {
      const inSlot = "slot" in m;
      const b = inSlot ? data.subarray(m.slot * slotSize, m.slot * slotSize + m.len) : new Uint8Array(m.buf, 0, m.len);
      if (m.t === "rows") table.update(b);
      write(b);
      if (inSlot) {
        Atomics.store(control, 1 + m.slot, 0);
        Atomics.notify(control, 1 + m.slot);
      }
    } else if (m.t === "splice" || m.t === "end") {
      if (m.t === "splice") splice(m.path, m.offset, m.length);
      const sha256 = table.digest("hex");
      table = createHash("sha256");
      summary.push({ name: m.name, rows: m.rows, sha256 });
      write(Buffer.from(JSON.stringify({ k: "end", name: m.name, rows: m.rows, sha256 }) + "\n"));
    } else {
      const fileSha256 = file.digest("hex");
      const tail = Buffer.from(JSON.stringify({ k: "trailer", tables: summary, totalRows: (m as { totalRows: number }).totalRows, fileSha256 }) + "\n");
      let off = 0;
      while (off < tail.length) off += writeSync(fd, tail, off, tail.length - off);
      fsyncFile(fd);
      closeSync(fd);
      if (spill) closeSync(spill.fd);
      spill = null;
      parentPort!.postMessage({ ok: true, fileSha256, bytes: bytes + tail.length, summary });
    }
  } catch (e) {
    Atomics.store(control, 0, 1); // tells the main thread to stop
    for (let i = 1; i < control.length; i++) Atomics.notify(control, i);
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    parentPort!.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) });
  }
});
