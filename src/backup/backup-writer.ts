/**
 * The backup file's writer: hashes (per table and whole file), writes, writes the end markers and
 * the trailer, and fsyncs. Chunks arrive in a ring of shared slots (or as their own buffers); a
 * chunk written frees its slot and wakes the exporting thread if it waits for one. It runs in the
 * writer worker (writer-worker.ts) beside the reading thread, or, for a small database, on the
 * exporting thread itself (export.ts): the same messages, the same bytes.
 */
import { createHash } from "node:crypto";
import { closeSync, fchmodSync, openSync, writeSync } from "node:fs";
import { crc32 } from "node:zlib";
import { fsyncFile } from "../util/fsync.js";

export type WriterMessage =
  | { t: "lines" | "rows"; slot: number; len: number }
  | { t: "lines" | "rows"; buf: ArrayBuffer; len: number }
  | { t: "end"; name: string; rows: number }
  | { t: "finish"; totalRows: number };

/** `crc32`: each table's CRC-32 of the row bytes hashed and written, in `summary`'s order (writer-sink.ts assertWritten). */
type WriterReply =
  { ok: true; fileSha256: string; bytes: number; summary: { name: string; rows: number; sha256: string }[]; crc32: number[] } | { ok: false; message: string };

export interface WriterSetup {
  path: string;
  /** The source database's permission bits: the file is created with them (never more readable), set exactly. */
  mode: number;
  data: SharedArrayBuffer;
  control: SharedArrayBuffer;
  slotSize: number;
}

/** Test hook (VOX_CUTOVER_TEST_WRITER_FLIP=1): the first row byte a writer gets is changed before it hashes and writes it, a fault between reading and writing (the export must refuse its file). */
let flip = process.env.VOX_CUTOVER_TEST_WRITER_FLIP === "1";

export class BackupWriter {
  private readonly data: Buffer;
  private readonly control: Int32Array;
  private readonly slotSize: number;
  private readonly fd: number;
  private closed = false;
  private readonly file = createHash("sha256");
  private table = createHash("sha256");
  private tableCrc = 0;
  private readonly crcs: number[] = [];
  private bytes = 0;
  private readonly summary: { name: string; rows: number; sha256: string }[] = [];

  constructor(setup: WriterSetup) {
    this.data = Buffer.from(setup.data);
    this.control = new Int32Array(setup.control);
    this.slotSize = setup.slotSize;
    this.fd = openSync(setup.path, "wx", setup.mode);
    fchmodSync(this.fd, setup.mode);
  }

  private write(b: Uint8Array): void {
    this.file.update(b);
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
    this.bytes += b.length;
  }

  /** One message; the reply once the file is finished (or failed), else null. */
  handle(m: WriterMessage): WriterReply | null {
    try {
      if (m.t === "lines" || m.t === "rows") {
        const inSlot = "slot" in m;
        const b = inSlot ? this.data.subarray(m.slot * this.slotSize, m.slot * this.slotSize + m.len) : new Uint8Array(m.buf, 0, m.len);
        if (flip && m.t === "rows" && b.length) {
          b[0] = b[0]! ^ 1;
          flip = false;
        }
        if (m.t === "rows") {
          this.table.update(b);
          this.tableCrc = crc32(b, this.tableCrc);
        }
        this.write(b);
        if (inSlot) {
          Atomics.store(this.control, 1 + m.slot, 0);
          Atomics.notify(this.control, 1 + m.slot);
        }
        return null;
      }
      if (m.t === "end") {
        const sha256 = this.table.digest("hex");
        this.table = createHash("sha256");
        this.crcs.push(this.tableCrc);
        this.tableCrc = 0;
        this.summary.push({ name: m.name, rows: m.rows, sha256 });
        this.write(Buffer.from(JSON.stringify({ k: "end", name: m.name, rows: m.rows, sha256 }) + "\n"));
        return null;
      }
      const fileSha256 = this.file.digest("hex");
      const tail = Buffer.from(JSON.stringify({ k: "trailer", tables: this.summary, totalRows: (m as { totalRows: number }).totalRows, fileSha256 }) + "\n");
      let off = 0;
      while (off < tail.length) off += writeSync(this.fd, tail, off, tail.length - off);
      fsyncFile(this.fd);
      this.close();
      return { ok: true, fileSha256, bytes: this.bytes + tail.length, summary: this.summary, crc32: this.crcs };
    } catch (e) {
      Atomics.store(this.control, 0, 1); // tells the exporting thread to stop
      for (let i = 1; i < this.control.length; i++) Atomics.notify(this.control, i);
      this.close();
      return { ok: false, message: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Closes the file; a second call does nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}
