import { createHash } from "node:crypto";
import { closeSync, existsSync, fsyncSync, lstatSync, openSync, realpathSync, renameSync, rmSync, statSync, accessSync, constants, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { refused, usage } from "../errors.js";
import { openReadOnly } from "../db/local.js";
import { toolVersion } from "../util/paths.js";
import { encodeRow, FORMAT_NAME, FORMAT_VERSION, type BackupHeader, type BackupTable, type Trailer } from "./format.js";
import { iterateRows, listBackupTables, rowStatement } from "./tables.js";

export interface ExportProgress {
  table: string;
  tableRows: number;
  tableDone: number;
  rowsDone: number;
  totalRows: number;
}

export interface ExportOptions {
  dbPath: string;
  outPath: string;
  force?: boolean;
  chain: string;
  maxVersion: number | string | null;
  baseline: { version: number; digest: string };
  onProgress?: (p: ExportProgress) => void;
  /** Test hook: called after every flushed chunk (fault injection). */
  onChunk?: () => void;
}

export interface ExportResult {
  path: string;
  sha256: string;
  bytes: number;
  tables: { name: string; rows: number; sha256: string }[];
  totalRows: number;
  header: BackupHeader;
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** Refuses an OUT that is the database (or a link to it), in a missing or read-only folder, or existing without --force. */
export function checkBackupTarget(dbPath: string, out: string, force = false): string {
  const abs = resolve(out);
  const dir = dirname(abs);
  const untouched = "Nothing was written; the database was not opened.";
  for (const sfx of ["", "-wal", "-shm", "-journal"]) {
    if (abs === resolve(dbPath) + sfx || (existsSync(abs) && samePath(abs, dbPath + sfx))) {
      throw refused({ what: `The backup path ${abs} is the database${sfx ? ` ${sfx} file` : ""} itself (or a link to it).`, untouched, next: "Write the backup to another file, e.g. in the work dir." });
    }
  }
  if (existsSync(abs) && lstatSync(abs).isSymbolicLink() && existsSync(dbPath) && samePath(abs, dbPath)) {
    throw refused({ what: `The backup path ${abs} is a link to the database.`, untouched, next: "Choose another path." });
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw usage({ what: `The backup folder ${dir} does not exist.`, untouched, next: `Create it (mkdir -p '${dir}') or choose another path.` });
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw refused({ what: `The backup folder ${dir} is not writable.`, untouched, next: "Choose a folder you can write to." });
  }
  if (existsSync(abs)) {
    if (statSync(abs).isDirectory()) throw usage({ what: `The backup path ${abs} is a directory.`, untouched, next: "Give a file name, e.g. backup.jsonl inside it." });
    if (!force) throw refused({ what: `The backup file ${abs} already exists.`, untouched, next: "Choose another path, or pass --force to replace it." });
  }
  return abs;
}

/** Buffered writer into one reused buffer: no allocation per flush (memory stays flat). */
class ChunkWriter {
  private buf = Buffer.allocUnsafe(1 << 21);
  private len = 0;
  bytes = 0;
  constructor(
    private readonly fd: number,
    private readonly fileHash: ReturnType<typeof createHash>,
    private readonly onChunk?: () => void,
  ) {}
  write(s: string): void {
    if (this.len + s.length * 3 > this.buf.length) {
      this.flush();
      if (s.length * 3 > this.buf.length) this.buf = Buffer.allocUnsafe(s.length * 3);
    }
    this.len += this.buf.write(s, this.len, "utf8");
  }
  flush(): void {
    if (!this.len) return;
    const b = this.buf.subarray(0, this.len);
    this.fileHash.update(b);
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
    this.bytes += b.length;
    this.len = 0;
    this.onChunk?.();
  }
}

/**
 * Streams every table of the database (read-only, no migration, one read transaction) to a backup
 * file: written under a temporary name, fsynced, then renamed into place.
 */
export function exportBackup(opts: ExportOptions): ExportResult {
  const out = checkBackupTarget(opts.dbPath, opts.outPath, opts.force);
  const tmp = join(dirname(out), `.${basename(out)}.partial-${process.pid}`);
  const db = openReadOnly(opts.dbPath);
  let fd: number | undefined;
  try {
    db.exec("BEGIN"); // one read snapshot for counts and rows
    const tables = listBackupTables(db);
    const totalRows = tables.reduce((n, t) => n + Number(t.rows), 0);
    const st = statSync(opts.dbPath);
    const header: BackupHeader = {
      k: "header",
      format: FORMAT_NAME,
      version: FORMAT_VERSION,
      tool: `vox-cutover ${toolVersion()}`,
      createdAt: new Date().toISOString(),
      source: {
        path: resolve(opts.dbPath),
        sizeBytes: st.size,
        walBytes: existsSync(`${opts.dbPath}-wal`) ? statSync(`${opts.dbPath}-wal`).size : null,
        changeCounter: null,
      },
      chain: opts.chain,
      maxVersion: opts.maxVersion,
      baseline: opts.baseline,
      tables,
    };
    fd = openSync(tmp, "wx");
    const fileHash = createHash("sha256");
    const w = new ChunkWriter(fd, fileHash, opts.onChunk);
    w.write(JSON.stringify(header) + "\n");
    const summary: Trailer["tables"] = [];
    let rowsDone = 0;
    for (const t of tables) {
      w.write(JSON.stringify({ k: "table", name: t.name, columns: t.columns }) + "\n");
      const th = createHash("sha256");
      let part = "";
      let n = 0;
      const tableRows = Number(t.rows);
      for (const row of iterateRows(rowStatement(db, t))) {
        part += encodeRow(row) + "\n";
        n++;
        if (part.length >= 1 << 16) {
          th.update(part);
          w.write(part);
          part = "";
          opts.onProgress?.({ table: t.name, tableRows, tableDone: n, rowsDone: rowsDone + n, totalRows });
        }
      }
      th.update(part);
      w.write(part);
      rowsDone += n;
      const sha256 = th.digest("hex");
      summary.push({ name: t.name, rows: n, sha256 });
      w.write(JSON.stringify({ k: "end", name: t.name, rows: n, sha256 }) + "\n");
      opts.onProgress?.({ table: t.name, tableRows, tableDone: n, rowsDone, totalRows });
    }
    db.exec("COMMIT");
    w.flush();
    const fileSha256 = fileHash.digest("hex");
    const trailer: Trailer = { k: "trailer", tables: summary, totalRows: rowsDone, fileSha256 };
    const tail = Buffer.from(JSON.stringify(trailer) + "\n");
    writeSync(fd, tail);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, out);
    fsyncDir(dirname(out));
    return { path: out, sha256: fileSha256, bytes: w.bytes + tail.length, tables: summary, totalRows: rowsDone, header };
  } finally {
    if (fd !== undefined) closeSync(fd);
    if (db.inTransaction) db.exec("ROLLBACK");
    db.close();
    rmSync(tmp, { force: true });
  }
}

export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* some platforms cannot fsync a directory */
  }
}

export type { BackupTable };
