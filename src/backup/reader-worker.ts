/**
 * Worker: the export's second reader (export-split.ts). It opens its own read transaction on the
 * database (its snapshot opens with the first read) and, from the last table down,
 * claims tables the main thread has not taken, encoding each one's row lines exactly as the main
 * thread would into a spill file beside the backup. It reads the tables the main thread listed in its
 * snapshot; export-split.ts proves both snapshots are one state. The writer copies those ranges into the backup
 * in table order, and only when the main thread proved both snapshots are one state. Its first
 * message is its setup: it may be started before the export knows it (export-workers.ts), and opens
 * nothing until then.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { mainFile, openReadOnly } from "../db/local.js";
import type { SqlValue } from "../db/value.js";
import type { RowOut } from "./big-value.js";
import { encodeRow, type BackupTable } from "./format.js";
import { encodeRowParts, hasBig } from "./tables.js";
import { LineRun, readRows } from "./row-lines.js";
import type { ReadWhole } from "./row-source.js";
import { READER_CLAIM, type ReaderMessage, type ReaderSetup } from "./export-split.js";

const post = (m: ReaderMessage) => parentPort!.postMessage(m);

const NEWLINE = Buffer.from("\n");

/** Row lines into the spill file through one 1 MB buffer (a line longer than it: written directly). */
class SpillOut implements RowOut {
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  offset = 0;
  /** The table's bytes as written to the spill file (the writer's hash of its copy must equal it). */
  private hash = createHash("sha256");
  constructor(private readonly fd: number) {}
  part(text: string): void {
    if (this.used + text.length * 3 > this.buf.length) {
      this.flush();
      if (text.length * 3 > this.buf.length) return this.bytes(Buffer.from(text, "utf8"));
    }
    this.used += this.buf.write(text, this.used, "utf8");
  }
  bytes(b: Buffer): void {
    this.flush();
    this.put(b);
  }
  /** A line SQLite wrote (its bytes) and its newline, copied into the buffer. */
  line(b: Buffer): void {
    if (this.used + b.length + 1 > this.buf.length) {
      this.flush();
      if (b.length + 1 > this.buf.length) return this.bytes(Buffer.concat([b, NEWLINE]));
    }
    this.used += b.copy(this.buf, this.used);
    this.buf[this.used++] = 10;
  }
  flush(): void {
    if (this.used) this.put(this.buf.subarray(0, this.used));
    this.used = 0;
  }
  /** The hash of the table's bytes written since the last call (after \`flush\`). */
  tableSha256(): string {
    const h = this.hash.digest("hex");
    this.hash = createHash("sha256");
    return h;
  }
  private put(b: Uint8Array): void {
    this.hash.update(b);
    for (let off = 0; off < b.length;) off += writeSync(this.fd, b, off, b.length - off);
    this.offset += b.length;
  }
}

parentPort!.once("message", run);

function run(setup: ReaderSetup): void {
  const claims = new Int32Array(setup.claims);
  const progress = new BigInt64Array(setup.progress);
  /** control[0]: 1 once the main thread has read its last row (this connection may close). */
  const control = new Int32Array(setup.control);
  try {
    read(setup, claims, progress, control);
  } catch (e) {
    post({ t: "done", ok: false, message: e instanceof Error ? e.message : String(e) });
    post({ t: "closed" });
  }
}

function read(setup: ReaderSetup, claims: Int32Array, progress: BigInt64Array, control: Int32Array): void {
  // The main thread probed the file and holds its own read transaction: not opened and closed here.
  const db = openReadOnly(setup.dbPath, { probed: true });
  let fd = -1;
  try {
    fd = openSync(setup.spillPath, "wx", 0o600);
    db.exec("BEGIN");
    // The main thread's list (its snapshot's): the snapshot opens with this transaction's first read.
    const tables: readonly BackupTable[] = setup.tables;
    post({ t: "tables", file: mainFile(db) });
    const out = new SpillOut(fd);
    for (let i = tables.length - 1; i >= 0 && Atomics.compareExchange(claims, i, 0, READER_CLAIM) === 0; i--) {
      const t = tables[i]!;
      const counted = t.name !== "sqlite_sequence";
      const offset = out.offset;
      let rows = 0;
      let told = 0;
      let whole: ReadWhole | null = null;
      for (const row of readRows(db, t, (w) => (whole = w))) {
        if (row instanceof LineRun) {
          out.line(row.lines);
          rows += row.rows;
        } else {
          if (Buffer.isBuffer(row)) out.line(row);
          else {
            if (hasBig(row)) encodeRowParts(row, out);
            else out.part(encodeRow(row as SqlValue[]));
            out.part("\n");
          }
          rows++;
        }
        if (counted && rows - told >= 0x400) {
          Atomics.add(progress, 0, BigInt(rows - told));
          told = rows;
        }
      }
      out.flush();
      if (counted) Atomics.add(progress, 0, BigInt(rows - told));
      post({ t: "table", i, offset, length: out.offset - offset, rows, whole, sha256: out.tableSha256() });
    }
    post({ t: "done", ok: true });
    // The connection stays open until the main thread has read its last row: closing it (or ending
    // its transaction) can drop that thread's locks on the file (see export-split.ts).
    while (Atomics.load(control, 0) === 0) Atomics.wait(control, 0, 0, 100);
    db.exec("COMMIT");
  } finally {
    if (fd >= 0) closeSync(fd);
    db.close();
  }
  post({ t: "closed" });
}
