/**
 * The exporting thread's side of the backup writer (backup-writer.ts): the ring of shared slots the
 * encoded lines go into, and where the writer runs (a worker, or this thread for a small database).
 */
import type { Worker } from "node:worker_threads";
import { crc32 } from "node:zlib";
import { failed } from "../errors.js";
import { BackupWriter, type WriterMessage, type WriterSetup } from "./backup-writer.js";
import { exportWorker } from "./export-workers.js";
import type { Trailer } from "./format.js";
import type { RowValue } from "./row-source.js";
import { encodeRowParts } from "./tables.js";

const SLOTS = 8;
const SLOT_SIZE = 1 << 20;

type WriterResult = { ok: boolean; fileSha256?: string; bytes?: number; summary?: Trailer["tables"]; crc32?: number[]; message?: string };

/** This thread found the writer stopped (its error flag): the writer's own reason comes with its reply (`WriterSink.cause`). */
class WriterStopped extends Error {}

/**
 * The exporting thread's side of the backup writer (backup-writer.ts): encoded rows are written
 * straight into a ring of shared 1 MB slots (no string built per chunk, no allocation per chunk,
 * memory fixed at 8 MB); a full ring makes this thread wait. control[0] is the writer's error flag,
 * control[1 + i] the state of slot i (0 free, 1 full). A slot holds lines of one kind ("rows" are
 * hashed per table, "lines" are not). The writer runs in a worker beside this thread, or (`here`:
 * a small database) on this thread, each slot written as it is handed over.
 */
export class WriterSink {
  private readonly slots: number;
  private readonly data: SharedArrayBuffer;
  private readonly controlBuf: SharedArrayBuffer;
  private readonly control: Int32Array;
  private readonly view: Buffer;
  private next = 0;
  /** The slot being filled (-1: none), its kind and how many bytes it holds. */
  private slot = -1;
  private kind: "lines" | "rows" = "lines";
  private used = 0;
  private readonly worker: Worker | null = null;
  private readonly started: Promise<void> = Promise.resolve();
  /** The writer worker was started ahead (export-workers.ts). */
  readonly startedAhead: boolean = false;
  /**
   * The read side's CRC-32 of the table's row bytes being handed over (each slot summed as it leaves
   * this thread), and each finished table's: compared with the writer's CRC-32 of the bytes it hashed
   * and wrote once it is done (\`assertWritten\`), so the backup's recorded hashes are those of the
   * rows as they were read, not only of the bytes the writer got — the record the verify step may
   * stand on without re-reading. A CRC, not a second SHA-256: it guards against a fault of this
   * process (a slot changed before the writer had it), where it misses a changed slot with odds of
   * 2^-32 and any change of up to 32 adjacent bits never, at a third of SHA-256's cost on this thread,
   * the export's busiest (docs/benchmark.md, "Session 25"); the recorded hashes stay the writer's SHA-256.
   */
  private rowsCrc = 0;
  private readonly readSide = new Map<string, number>();
  private readonly writer: BackupWriter | null = null;
  private settle: (r: WriterResult) => void = () => {};
  readonly done: Promise<WriterResult>;
  /** `dbPath`: the database exported (its writer may have been started ahead: export-workers.ts). */
  constructor(path: string, mode: number, here: boolean, dbPath: string) {
    this.slots = here ? 1 : SLOTS;
    this.data = new SharedArrayBuffer(this.slots * SLOT_SIZE);
    this.controlBuf = new SharedArrayBuffer(4 * (1 + this.slots));
    this.control = new Int32Array(this.controlBuf);
    this.view = Buffer.from(this.data);
    this.done = new Promise((resolve) => (this.settle = resolve));
    const setup: WriterSetup = { path, mode, data: this.data, control: this.controlBuf, slotSize: SLOT_SIZE };
    if (here) {
      this.writer = new BackupWriter(setup);
      return;
    }
    const w = exportWorker(dbPath);
    this.worker = w.worker;
    this.started = w.online;
    this.startedAhead = w.ahead;
    this.worker.postMessage(setup); // its first message: the file to write
    this.worker.once("message", this.settle);
    this.worker.once("error", (e) => this.settle({ ok: false, message: e.message }));
  }
  get inWorker(): boolean {
    return this.worker !== null;
  }
  /** Resolves once the writer runs (before this thread may block waiting for it). */
  online(): Promise<void> {
    return this.started;
  }
  /** The writer's side: the worker (a message), or this thread's writer (at once). */
  private post(m: WriterMessage, transfer?: ArrayBuffer[]): void {
    if (!this.writer) return this.worker!.postMessage(m, transfer);
    const reply = this.writer.handle(m);
    if (reply) this.settle(reply);
  }
  /** Stops the writer (its file is closed; the caller removes it). */
  async close(): Promise<void> {
    this.writer?.close();
    await this.worker?.terminate();
  }
  /** Hands the slot being filled to the writer. */
  flush(): void {
    if (this.slot < 0) return;
    if (this.used > 0) {
      if (this.kind === "rows") this.rowsCrc = crc32(this.view.subarray(this.slot * SLOT_SIZE, this.slot * SLOT_SIZE + this.used), this.rowsCrc);
      Atomics.store(this.control, 1 + this.slot, 1);
      this.post({ t: this.kind, slot: this.slot, len: this.used });
    }
    // An unused slot stays free (state 0) and is taken again next.
    else this.next = this.slot;
    this.slot = -1;
  }
  private take(kind: "lines" | "rows"): void {
    const slot = this.next;
    this.next = (this.next + 1) % this.slots;
    while (Atomics.load(this.control, 1 + slot) !== 0) {
      if (Atomics.load(this.control, 0) !== 0) throw new WriterStopped("the backup writer failed");
      Atomics.wait(this.control, 1 + slot, 1, 100);
    }
    this.slot = slot;
    this.kind = kind;
    this.used = 0;
  }
  /** One line (without its newline). */
  private line(kind: "lines" | "rows", text: string): void {
    this.put(kind, text);
    this.put(kind, "\n");
  }
  /** Bytes of a line (a whole line, or a piece of a long one). */
  private put(kind: "lines" | "rows", text: string): void {
    if (this.slot >= 0 && (this.kind !== kind || this.used + text.length * 3 > SLOT_SIZE)) this.flush();
    if (text.length * 3 > SLOT_SIZE && Buffer.byteLength(text) > SLOT_SIZE) {
      this.flush();
      const b = Buffer.from(text, "utf8"); // larger than a slot: its own buffer, transferred
      if (kind === "rows") this.rowsCrc = crc32(b, this.rowsCrc);
      const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      this.post({ t: kind, buf: ab, len: b.byteLength }, [ab]);
      return;
    }
    if (this.slot < 0) this.take(kind);
    const base = this.slot * SLOT_SIZE;
    this.used += this.view.write(text, base + this.used, SLOT_SIZE - this.used, "utf8");
  }
  /** Bytes of a line, copied into slots (no string, no allocation). */
  private putBytes(kind: "lines" | "rows", b: Buffer): void {
    let off = 0;
    while (off < b.length) {
      if (this.slot >= 0 && (this.kind !== kind || this.used === SLOT_SIZE)) this.flush();
      if (this.slot < 0) this.take(kind);
      const n = Math.min(SLOT_SIZE - this.used, b.length - off);
      b.copy(this.view, this.slot * SLOT_SIZE + this.used, off, off + n);
      this.used += n;
      off += n;
    }
  }
  /** A row holding a big value: its line written in pieces (memory does not grow with the value). */
  rowParts(values: readonly RowValue[]): void {
    encodeRowParts(values, { part: (text) => this.put("rows", text), bytes: (b) => this.putBytes("rows", b) });
    this.put("rows", "\n");
  }
  /** A row line SQLite wrote (its bytes): copied into the slots, then its newline. */
  rowBytes(b: Buffer): void {
    this.putBytes("rows", b);
    this.put("rows", "\n");
  }
  lines(text: string): void {
    this.line("lines", text);
  }
  row(text: string): void {
    this.line("rows", text);
  }
  end(name: string, rows: number): void {
    this.flush();
    this.readSide.set(name, this.rowsCrc);
    this.rowsCrc = 0;
    this.post({ t: "end", name, rows });
  }
  /**
   * Every table the writer summed must be the bytes this thread handed over (its CRC-32 of each slot
   * as it left, `written` the writer's of the same tables in the same order): else the backup is not
   * what was read (an internal fault between reading and writing) and it is not kept.
   */
  assertWritten(summary: readonly { name: string }[], written: readonly number[], path: string): void {
    summary.forEach((t, i) => {
      const read = this.readSide.get(t.name);
      if (read === undefined || read !== written[i]) {
        const crc = (n: number | undefined) => (n === undefined ? "nothing" : `CRC-32 ${n.toString(16).padStart(8, "0")}`);
        throw failed({
          what: `The backup's writer did not write the rows of table ${t.name} as they were read (read ${crc(read)}, written ${crc(written[i])}): an internal fault between reading and writing.`,
          untouched: `The database was only read; ${path} was not kept.`,
          next: "Run the command again; if it happens again, report it with the database's size and journal mode.",
        });
      }
    });
  }
  /**
   * The writer's failure (its own reason: a full disk, a file-size limit, a lost permission…) as the
   * error to report, naming `path`, the backup being written (the CLI names such a fault in words).
   */
  static failure(message: string, path: string): Error {
    return Object.assign(new Error(`writing the backup failed: ${message}`), { path });
  }
  /**
   * The error to report for `e`: when this thread stopped because the writer did, the writer's own
   * failure (waited for at most 2 s); else `e`.
   */
  async cause(e: unknown, path: string): Promise<unknown> {
    if (!(e instanceof WriterStopped)) return e;
    const r = await Promise.race([this.done, new Promise<null>((res) => setTimeout(res, 2000, null).unref())]);
    return r && !r.ok && r.message ? WriterSink.failure(r.message, path) : e;
  }
  finish(totalRows: number): void {
    this.flush();
    this.post({ t: "finish", totalRows });
  }
}
