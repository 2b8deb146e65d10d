/**
 * Writing a big value's bytes into a new file's pages (`UPDATE sqlite_dbpage`, in the caller's
 * transaction) over a zeroblob that was inserted in its place, and the stage: where a big value goes
 * first when its own table would read it at insert.
 */
import { BigValue, bigValueBytes, skipBytes } from "./big-value.js";
import { Utf16Text } from "./big-utf16.js";
import { PageReader, type Payload } from "../db/pages.js";
import { allRows, type LibsqlDatabase, type LibsqlStatement } from "../db/local.js";
import { quoteIdent, utf16TextOf } from "../db/value.js";

/** Writes `bytes` at payload offset `from` of a located record (each page read fresh, changed, written back). */
export function writeAt(reader: PageReader, update: LibsqlStatement, payload: Payload, from: number, bytes: Uint8Array): void {
  let k = 0;
  for (const seg of reader.segments(payload, from, bytes.length, true)) {
    seg.page.set(bytes.subarray(k, k + seg.end - seg.start), seg.start);
    k += seg.end - seg.start;
    update.run([seg.page, seg.pgno]);
  }
}

/** Streams a value's slices over payload [from, from + v.length). */
export function writeValue(reader: PageReader, update: LibsqlStatement, payload: Payload, from: number, v: BigValue): void {
  const src = v.open()[Symbol.iterator]();
  try {
    let cur: Uint8Array = new Uint8Array(0);
    let pos = 0;
    for (const seg of reader.segments(payload, from, v.length, true)) {
      let o = seg.start;
      while (o < seg.end) {
        if (pos >= cur.length) {
          const n = src.next();
          if (n.done) throw new Error(`a large value ended before its ${v.length} bytes`);
          cur = n.value;
          pos = 0;
          continue;
        }
        const k = Math.min(seg.end - o, cur.length - pos);
        seg.page.set(cur.subarray(pos, pos + k), o);
        o += k;
        pos += k;
      }
      update.run([seg.page, seg.pgno]);
    }
    for (;;) {
      if (pos < cur.length) throw new Error(`a large value is longer than the ${v.length} bytes it announced`);
      const n = src.next();
      if (n.done) break;
      cur = n.value;
      pos = 0;
    }
  } finally {
    src.return?.();
  }
}

/** Writes `v`'s bytes over the zeroblob at record column `col` of `rowid`, then marks it TEXT when it is. */
export function fillValue(reader: PageReader, update: LibsqlStatement, root: number, rowid: bigint, col: number, v: BigValue): void {
  const at = reader.locate(root, rowid, col, { storage: "blob", length: v.length });
  writeValue(reader, update, at.payload, at.offset, v);
  if (v.storage === "text") writeAt(reader, update, at.payload, at.typeByte, Buffer.from([(2 * v.length + 13) & 0x7f]));
}

/**
 * The stage: a private table of one untyped column in the new file, created in the load's
 * transaction when first needed and dropped before the load ends (`dropStage`). A big value whose
 * table reads it at insert (a CHECK, a generated column, an index on it, a STRICT TEXT column, a
 * trigger, a WITHOUT ROWID or virtual table) is written there over a zeroblob through the pages
 * (flat), and the row is inserted by its table's own INSERT with `(SELECT v FROM stage WHERE rowid
 * = ?)` in its place: SQLite applies every constraint, index and type check to the real bytes, as
 * with a bound value. Our process never holds the value; SQLite holds it while it inserts (an
 * expression or an index key needs the whole value: that is SQLite's cost, about twice the value).
 * The staged row is deleted after each row, so its pages serve the next; the file keeps about one
 * largest value of free pages (none with auto-vacuum).
 */
class BigStage {
  private name: string | null = null;
  private reader: PageReader | undefined;
  private update: LibsqlStatement | undefined;
  private insert: LibsqlStatement | undefined;
  private readonly utf8: boolean;
  constructor(private readonly db: LibsqlDatabase) {
    this.utf8 = String(allRows(db, "PRAGMA encoding")[0]?.encoding) === "UTF-8";
  }

  /** Whether `v` can be staged: TEXT is written as its bytes, UTF-8 into a UTF-8 file, UTF-16 into a UTF-16 file. */
  takes(v: BigValue): boolean {
    if (v.storage === "blob") return true;
    return v instanceof Utf16Text ? !this.utf8 : this.utf8;
  }

  /**
   * Stages `v` and returns the SQL expression that reads it back, with its arguments. SQLite (3.45)
   * takes the first two bytes of an overflowing UTF-16 text it reads back for a byte-order mark when
   * they are FF FE or FE FF (a leading U+FEFF or U+FFFE in either order) and drops them: so such a
   * text's leading run of those characters is not staged but bound before it as its bytes (stored as
   * they are: `utf16TextOf`, src/db/value.ts), `CAST(substr(?, 1) AS TEXT) || (SELECT v …)`.
   */
  place(v: BigValue): { sql: string; args: unknown[] } {
    const head = v instanceof Utf16Text ? v.bomRun() : null;
    if (!head?.length) {
      const rowid = this.put(v); // first: it makes the stage
      return { sql: this.expr(), args: [rowid] };
    }
    const lead = utf16TextOf(head);
    if (head.length === v.length) return { sql: lead.sql, args: [lead.arg] };
    const rowid = this.put(new BigValue("text", v.length - head.length, () => skipBytes(v.open(), head.length), null));
    return { sql: `(${lead.sql} || ${this.expr()})`, args: [lead.arg, rowid] };
  }

  /** The SQL expression that reads a staged value back (bind its rowid). */
  private expr(): string {
    return `(SELECT v FROM ${quoteIdent(this.name!)} WHERE rowid = ?)`;
  }

  /** Writes `v` into a new row of the stage (zeroblob, then its pages); returns the row's rowid. */
  private put(v: BigValue): bigint {
    const db = this.db;
    if (this.name === null) {
      const taken = new Set(allRows(db, "SELECT lower(name) AS n FROM sqlite_master").map((r) => String(r.n)));
      let name = "vox_cutover_big_stage";
      for (let k = 2; taken.has(name); k++) name = `vox_cutover_big_stage_${k}`;
      db.exec(`CREATE TABLE ${quoteIdent(name)} (v)`);
      this.name = name;
      this.insert = db.prepare(`INSERT INTO ${quoteIdent(name)} (v) VALUES (zeroblob(?))`);
      this.reader = new PageReader(db);
      this.update = db.prepare("UPDATE sqlite_dbpage SET data = ? WHERE pgno = ?");
    }
    const r = this.insert!.run([v.length]) as { lastInsertRowid: number | bigint };
    const rowid = BigInt(r.lastInsertRowid);
    // The root is read each time: with auto-vacuum, SQLite may move pages as the file changes.
    const root = Number(allRows(db, "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", [this.name])[0]!.rootpage);
    fillValue(this.reader!, this.update!, root, rowid, 0, v);
    return rowid;
  }

  /** Empties the stage (its pages go to the free list, for the next value). */
  clear(): void {
    if (this.name !== null) this.db.exec(`DELETE FROM ${quoteIdent(this.name)}`);
  }

  drop(): void {
    if (this.name !== null) this.db.exec(`DROP TABLE ${quoteIdent(this.name)}`);
    this.name = null;
  }
}

const stages = new WeakMap<LibsqlDatabase, BigStage>();

/** The stage of a new file's load (one per connection). */
export function stageOf(db: LibsqlDatabase): BigStage {
  let s = stages.get(db);
  if (!s) stages.set(db, (s = new BigStage(db)));
  return s;
}

/** Drops the stage, if one was made: called before a load ends (the new file never keeps it). */
export function dropStage(db: LibsqlDatabase): void {
  stages.get(db)?.drop();
  stages.delete(db);
}

/**
 * Values above the big-value size held whole on their way into the new file, per table, for the import's
 * evidence (the dry-run, --json, the report), with the reason: a virtual table's rows go into its
 * module, which SQLite hands each value whole (an FTS index tokenizes it). The export reads them in
 * slices (an own-content FTS table's from its content shadow table: big-source.ts ftsContent), as
 * a WITHOUT ROWID table's from its pages; it names the ones it could not (its `readWhole`, merged
 * into the evidence first). A UTF-16 file's TEXT is read from its pages too (big-utf16.ts).
 */
export class ReadWholeTally {
  private readonly counts = new Map<string, { values: number; reason: string }>();
  see(t: { name: string; sql?: string }, values: readonly unknown[]): void {
    if (!/^\s*CREATE\s+VIRTUAL\b/i.test(t.sql ?? "")) return;
    const limit = bigValueBytes();
    const mb = limit >= 1 << 20 ? `${Math.round(limit / (1 << 20))} MB` : `${Math.round(limit / 1024)} KB`;
    const n = values.filter((v) => v instanceof BigValue && v.length > limit).length;
    if (!n) return;
    const reason = `virtual table: SQLite holds each value above ${mb} whole as the import inserts it (the table's module takes the row, not a b-tree of its own; an FTS index tokenizes each text whole; the bytes are exact)`;
    const c = this.counts.get(t.name);
    this.counts.set(t.name, { values: (c?.values ?? 0) + n, reason });
  }
  list(): { table: string; values: number; reason: string }[] {
    return [...this.counts].map(([table, c]) => ({ table, ...c }));
  }
}
