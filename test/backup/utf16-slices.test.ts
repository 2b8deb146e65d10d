/**
 * A UTF-16 file's big TEXT in slices (issue 17: memory does not grow with the value). The export
 * reads it from the pages and decodes it with one streaming fatal TextDecoder (src/backup/big-utf16.ts);
 * the import encodes the backup's UTF-8 back to UTF-16 as it writes the value over a zeroblob.
 *
 * - The transcoders, on every slicing of a text of surrogate pairs (a code unit or a pair split at
 *   each place), and invalid UTF-16 refused with the very error the whole path gives.
 * - Files built by Python's sqlite3 (UTF-16le and UTF-16be, 512-byte pages): every row's line read
 *   from the pages equals the line of the whole path (the big-value size raised so SQLite hands the
 *   value over whole), for a rowid table whose values put a page boundary at each of the 4 byte
 *   places of a surrogate pair, and for a WITHOUT ROWID table (big key included). A text that
 *   starts with U+FEFF — SQLite 3.45 drops it when it reads an overflowing UTF-16 text (the sqlite3
 *   CLI's 3.40 keeps it) — is read from the pages at any size, so both keep it, as the file does.
 * - The import: BigInserter writes a UTF-8 BigValue into UTF-16 files (in place with values after it,
 *   at the record's end, and through the stage for a UNIQUE column), judged by Python.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execaSync } from "execa";
import { tmp, dist, restoreBigValueBytesAfterAll } from "../helpers.js";
import type * as LocalM from "../../src/db/local.js";
import type * as ValueM from "../../src/db/value.js";
import type * as PagesM from "../../src/db/pages.js";
import type * as TablesM from "../../src/backup/tables.js";
import type * as RowSourceM from "../../src/backup/row-source.js";
import type * as BigValueM from "../../src/backup/big-value.js";
import type * as Utf16M from "../../src/backup/big-utf16.js";
import type * as InsertM from "../../src/backup/big-insert.js";
import type * as ExportM from "../../src/backup/export.js";
import type * as CompareM from "../../src/backup/compare.js";

const { openReadOnly, openReadWrite } = await dist<typeof LocalM>("db/local.js");
const { decodeText, RawText } = await dist<typeof ValueM>("db/value.js");
const { PageReader } = await dist<typeof PagesM>("db/pages.js");
const { listBackupTables, encodeRowParts } = await dist<typeof TablesM>("backup/tables.js");
const { rowStatement, iterateRows } = await dist<typeof RowSourceM>("backup/row-source.js");
const { BigValue } = await dist<typeof BigValueM>("backup/big-value.js");
const { Utf16Source, Utf16Text } = await dist<typeof Utf16M>("backup/big-utf16.js");
const { BigInserter } = await dist<typeof InsertM>("backup/big-insert.js");
const { exportBackup } = await dist<typeof ExportM>("backup/export.js");
const { verifyAgainstDatabase } = await dist<typeof CompareM>("backup/compare.js");

const ENCS = ["UTF-16le", "UTF-16be"] as const;
restoreBigValueBytesAfterAll();
let dir: string;
const p = (n: string) => join(dir, n);

/** UTF-16 bytes of a string in either byte order. */
const u16 = (s: string, enc: (typeof ENCS)[number]) => {
  const b = Buffer.from(s, "utf16le");
  return enc === "UTF-16be" ? b.swap16() : b;
};
/** `b` cut into slices of `n` bytes. */
function* sliced(b: Uint8Array, n: number): Generator<Uint8Array> {
  for (let o = 0; o < b.length; o += n) yield b.subarray(o, o + n);
}
const joined = (it: Iterable<Uint8Array>) => Buffer.concat([...it].map((x) => Buffer.from(x)));
/** What the export hands out for a big TEXT whose UTF-16 bytes `b` it reads in slices of `n` (UTF-8), and what the import writes for UTF-8 bytes `b` read in slices of `n` (UTF-16). */
const utf16AsUtf8 = (b: Buffer, n: number, enc: (typeof ENCS)[number]) => new Utf16Source(b.length, () => sliced(b, n), enc).open();
const utf8AsUtf16 = (b: Buffer, n: number, enc: (typeof ENCS)[number]) => new Utf16Text(new BigValue("text", b.length, () => sliced(b, n), true), enc).open();

/** Python's sqlite3: a file of `enc` with 512-byte pages; big texts of surrogate pairs at 4 page-boundary places, a U+FEFF-led one, a WITHOUT ROWID table. */
const BUILD = String.raw`
import sqlite3, sys
path, enc = sys.argv[1], sys.argv[2]
c = sqlite3.connect(path)
c.execute("PRAGMA page_size = 512")
c.execute(f"PRAGMA encoding = '{enc}'")
c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, pre BLOB, v TEXT, post BLOB)")
rocket = "\U0001F680" * 26000
mixed = "h\u00e9llo \"q\" \\ \n\t\x00 \x1f \u6771\u4eac \U0001F680 na\u00efve \u2028 \ufeff " * 3000
for i in range(32):
    v = rocket if i % 2 == 0 else ("a" + rocket if i % 4 == 1 else mixed)
    c.execute("INSERT INTO t VALUES (?, ?, ?, ?)", (i + 1, b"p" * (i % 4), v, b"q" * (i // 4)))
c.execute("INSERT INTO t VALUES (40, NULL, ?, NULL)", ("\ufeff" + mixed,))
c.execute("INSERT INTO t VALUES (100, NULL, 'short', NULL)")
c.execute("CREATE TABLE w(k TEXT PRIMARY KEY, v TEXT, n INTEGER) WITHOUT ROWID")
for i in range(300):
    c.execute("INSERT INTO w VALUES (?, ?, ?)", ("k%04d-\u6771" % i, rocket[: 20000 + i] if i % 37 == 3 else "s", i))
c.execute("INSERT INTO w VALUES (?, 'x', 1)", ("big-" + "\U0001F680" * 20000,))
c.commit()
`;

/** Python's sqlite3: the stored bytes of row 40's first character. */
const FIRST_CHAR = String.raw`
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT hex(substr(v, 1, 1)) FROM t WHERE id = 40").fetchone()[0])`;

beforeAll(() => {
  dir = tmp("vox-u16-slices-");
  for (const e of ENCS) execaSync("python3", ["-c", BUILD, p(`${e}.db`), e]);
}, 60_000);

/** Each table's lines (as the export writes them), and how many values came as slices, with the big-value size `above`. */
function lines(path: string, above: number) {
  process.env.VOX_CUTOVER_BIG_VALUE_BYTES = String(above);
  const db = openReadOnly(path);
  try {
    db.exec("BEGIN");
    const out: Record<string, { lines: Buffer[]; sliced: number; whole: unknown }> = {};
    for (const t of listBackupTables(db)) {
      const src = rowStatement(db, t);
      const ls: Buffer[] = [];
      let sliced = 0;
      for (const row of iterateRows(src)) {
        for (const v of row) if (v instanceof BigValue) sliced++;
        const parts: Buffer[] = [];
        encodeRowParts(row, { part: (x) => parts.push(Buffer.from(x, "utf8")), bytes: (b) => parts.push(Buffer.from(b)) });
        ls.push(Buffer.concat(parts));
      }
      out[t.name] = { lines: ls, sliced, whole: src.whole };
    }
    return out;
  } finally {
    db.close();
  }
}

describe("UTF-16 ⇄ UTF-8 in slices", () => {
  const text = "aé🚀🚀b東\u0000\ufeff🚀🚀x" + "🚀".repeat(9) + "\uffff\ud7ff\ue000";

  it("decodes every slicing (a code unit or a surrogate pair split at each place) as the whole decode", () => {
    for (const enc of ENCS) {
      const b = u16(text, enc);
      const want = Buffer.from(decodeText(b, enc) as string, "utf8");
      expect(want.equals(Buffer.from(text, "utf8"))).toBe(true);
      for (let n = 1; n <= 9; n++) expect(joined(utf16AsUtf8(b, n, enc)).equals(want), `${enc} slices of ${n}`).toBe(true);
      // Every slice out ends at a character boundary (the backup line escapes slice by slice).
      for (const s of utf16AsUtf8(b, 3, enc)) expect(Buffer.from(Buffer.from(s).toString("utf8"), "utf8").equals(s)).toBe(true);
    }
  });

  it("encodes every slicing of UTF-8 back to the same UTF-16 bytes", () => {
    const b = Buffer.from(text, "utf8");
    for (const enc of ENCS) for (let n = 1; n <= 9; n++) expect(joined(utf8AsUtf16(b, n, enc)).equals(u16(text, enc)), `${enc} ${n}`).toBe(true);
  });

  it("invalid UTF-16 (a lone surrogate, a pair reversed) is carried as the whole path carries it at any slicing; an odd last byte fails with its worded error", () => {
    for (const enc of ENCS) {
      const good = u16("ab🚀", enc);
      const hi = good.subarray(4, 6);
      const lo = good.subarray(6, 8);
      // Each as UTF-8 would encode its code units: the pair as 4 bytes, a lone surrogate as 3 (ED A0 BD, ED BA 80).
      const G = Buffer.from("ab🚀", "utf8");
      const HI = Buffer.from([0xed, 0xa0, 0xbd]);
      const LO = Buffer.from([0xed, 0xba, 0x80]);
      for (const [bad, want] of [
        [Buffer.concat([good, hi]), Buffer.concat([G, HI])],
        [Buffer.concat([hi, good]), Buffer.concat([HI, G])],
        [Buffer.concat([good, lo, hi, good]), Buffer.concat([G, LO, HI, G])],
      ] as const) {
        const whole = decodeText(bad, enc);
        expect(whole, `${enc} ${bad.toString("hex")}`).toBeInstanceOf(RawText);
        expect(Buffer.from((whole as InstanceType<typeof RawText>).bytes).toString("hex")).toBe(want.toString("hex"));
        for (let n = 1; n <= 5; n++) {
          expect(joined(utf16AsUtf8(bad, n, enc)).toString("hex"), `${enc} slices of ${n}`).toBe(want.toString("hex"));
          // The encoder's first pass (is it valid UTF-16?) scans the code units, at any slicing too.
          expect(new Utf16Source(bad.length, () => sliced(bad, n), enc).validUtf8()).toBe(false);
          expect(new Utf16Source(good.length * 2, () => sliced(Buffer.concat([good, good]), n), enc).validUtf8()).toBe(true);
        }
      }
      const odd = Buffer.concat([good, Buffer.from([0x41])]);
      let whole: unknown;
      try {
        decodeText(odd, enc);
      } catch (e) {
        whole = e;
      }
      expect((whole as Error).message).toMatch(/odd number of bytes: it is not UTF-16 text/);
      for (let n = 1; n <= 5; n++) expect(() => joined(utf16AsUtf8(odd, n, enc))).toThrow((whole as Error).message);
    }
  });
});

describe.each(ENCS)("a %s file's big TEXT read from its pages (512-byte pages, 64 KB big-value size)", (enc) => {
  it("every line is the whole path's line; a page boundary falls at each of the 4 byte places of a surrogate pair", () => {
    const whole = lines(p(`${enc}.db`), 1 << 30);
    const pages = lines(p(`${enc}.db`), 64 << 10);
    // Row id 40 (the 33rd) starts with U+FEFF: SQLite 3.45 hands it over without it, so even with a
    // big-value size no value reaches, it is read from the pages (row-source.ts selectSql, `utf16`).
    expect(whole.t!.sliced).toBe(1);
    expect(whole.w!.sliced).toBe(0);
    expect(pages.t).toMatchObject({ sliced: 33, whole: null });
    expect(pages.w).toMatchObject({ sliced: 10, whole: null });
    for (const t of ["t", "w"]) {
      const a = whole[t]!.lines;
      const b = pages[t]!.lines;
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) expect(b[i]!.equals(a[i]!), `${t} row ${i}`).toBe(true);
    }
    // The U+FEFF is in the line (after the `[40,null,"`), as Python reads it from the file.
    expect(whole.t!.lines[32]!.subarray(0, 14).toString("utf8")).toBe('[40,null,"\ufeffh');
    const py = execaSync("python3", ["-c", FIRST_CHAR, p(`${enc}.db`)]);
    expect(py.stdout.trim()).toBe(enc === "UTF-16le" ? "FFFE" : "FEFF");
    // Where each overflow page boundary falls in the value, counted from its first byte, mod 4 (a
    // surrogate pair is 4 bytes): the 16 rocket-only rows cover all four places.
    const db = openReadOnly(p(`${enc}.db`));
    try {
      const r = new PageReader(db);
      const root = Number((db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 't'").get() as { rootpage: bigint }).rootpage);
      const places = new Set<number>();
      for (let id = 1; id <= 32; id += 2) {
        const at = r.locate(root, BigInt(id), 2, { storage: "text", length: 26000 * 4 });
        places.add((((at.payload.local - at.offset) % 4) + 4) % 4);
      }
      expect([...places].sort()).toEqual([0, 1, 2, 3]);
    } finally {
      db.close();
    }
  });

  it("export → verify-backup --db: no value read whole, the backup verifies against the live file", async () => {
    process.env.VOX_CUTOVER_BIG_VALUE_BYTES = String(64 << 10);
    const base = { chain: "legacy", maxVersion: 1, baseline: { version: 60, digest: "" }, yieldEvery: false };
    const exp = await exportBackup({ ...base, dbPath: p(`${enc}.db`), outPath: p(`${enc}.jsonl`) });
    expect(exp.readWhole).toEqual([]);
    const v = await verifyAgainstDatabase(p(`${enc}.jsonl`), p(`${enc}.db`));
    expect(v.comparison.ok, v.comparison.firstDifference ?? "").toBe(true);
  });

  it('invalid UTF-16 in a big TEXT is carried as the whole path carries it ({"t"}), and verifies against the file', async () => {
    const bad = p(`${enc}-bad.db`);
    const lone = enc === "UTF-16le" ? "00d8" : "d800";
    execaSync("sqlite3", [bad], {
      input: `PRAGMA encoding = '${enc}'; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, CAST(zeroblob(100000) || x'${lone}' || zeroblob(2) AS TEXT));`,
    });
    const base = { chain: "legacy", maxVersion: 1, baseline: { version: 60, digest: "" }, yieldEvery: false };
    const line = async (above: number) => {
      process.env.VOX_CUTOVER_BIG_VALUE_BYTES = String(above);
      const out = p(`${enc}-bad-${above}.jsonl`);
      await exportBackup({ ...base, dbPath: bad, outPath: out });
      const v = await verifyAgainstDatabase(out, bad);
      expect(v.comparison.ok, v.comparison.firstDifference ?? "").toBe(true);
      return readFileSync(out, "utf8")
        .split("\n")
        .find((l) => l.startsWith("[1,"))!;
    };
    const whole = await line(1 << 30);
    // 50,000 U+0000, the lone surrogate as ED A0 80, one U+0000: not UTF-8, so {"t"} with those bytes.
    expect(whole).toBe(`[1,{"t":"${Buffer.concat([Buffer.alloc(50000), Buffer.from([0xed, 0xa0, 0x80, 0])]).toString("base64")}"}]`);
    expect(await line(64 << 10)).toBe(whole);
  });
});

describe.each(ENCS)("the import writes a big TEXT into a %s file as its UTF-16 bytes", (enc) => {
  it("in place (values after it, or last) and through the stage (a UNIQUE column): Python reads the exact bytes", () => {
    process.env.VOX_CUTOVER_BIG_VALUE_BYTES = String(64 << 10);
    const path = p(`${enc}-new.db`);
    const db = openReadWrite(path);
    // k = 4 starts with U+FEFF, k = 6 with U+FFFE U+FEFF (and ends with U+FFFF): SQLite would drop the first
    // two bytes reading them back from the stage, so that run is bound as its bytes before the staged rest.
    const text = (k: number) =>
      (k === 6 ? "\ufffe\ufeff" : k % 2 === 0 ? "\ufeff" : "") + `naïve "q" \\ 東京 🚀 ${k} `.repeat(2000 + k) + (k === 6 ? "\uffff" : "🚀");
    try {
      db.exec(`PRAGMA page_size = 1024; PRAGMA encoding = '${enc}'`);
      db.exec("CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT, n INTEGER, s TEXT, b BLOB)");
      db.exec("CREATE TABLE l(id INTEGER PRIMARY KEY, v TEXT)");
      db.exec("CREATE TABLE u(id INTEGER PRIMARY KEY, v TEXT UNIQUE)");
      db.exec("BEGIN");
      // No big value is bound whole (a string, or its bytes): every value bound is short (pages written through sqlite_dbpage aside).
      const prepare = db.prepare.bind(db);
      let largest = 0;
      db.prepare = ((sql: string) => {
        const st = prepare(sql);
        if (sql.includes("sqlite_dbpage")) return st;
        const run = st.run.bind(st);
        st.run = ((args: unknown[]) => {
          for (const a of Array.isArray(args) ? args : [args]) if (typeof a === "string" || a instanceof Uint8Array) largest = Math.max(largest, a.length);
          return run(args);
        }) as typeof st.run;
        return st;
      }) as typeof db.prepare;
      // The backup's UTF-8 bytes, handed out in slices of 1,000 bytes (a character split at most boundaries).
      const big = (k: number) => {
        const b = Buffer.from(text(k), "utf8");
        return new BigValue("text", b.length, () => sliced(b, 1000), true);
      };
      new BigInserter(db, "a", ["id", "v", "n", "s", "b"], 'INSERT INTO "a" ("id", "v", "n", "s", "b")').run([1n, big(1), 7n, "é東🚀", new Uint8Array([1, 2])]);
      new BigInserter(db, "l", ["id", "v"], 'INSERT INTO "l" ("id", "v")').run([5n, big(2)]);
      const u = new BigInserter(db, "u", ["id", "v"], 'INSERT INTO "u" ("id", "v")');
      u.run([9n, big(4)]);
      u.run([10n, big(3)]);
      u.run([11n, big(6)]);
      db.exec("COMMIT");
      expect(largest).toBeLessThan(1000);
    } finally {
      db.close();
    }
    const judge = String.raw`
import sqlite3, sys, json, hashlib
c = sqlite3.connect(sys.argv[1])
codec = "utf-16-le" if sys.argv[2] == "UTF-16le" else "utf-16-be"
text = lambda k: ("\ufffe\ufeff" if k == 6 else "\ufeff" if k % 2 == 0 else "") + ('naïve "q" \\ 東京 🚀 %d ' % k) * (2000 + k) + ("\uffff" if k == 6 else "🚀")
q = lambda t, i: c.execute(f"SELECT typeof(v), length(CAST(v AS BLOB)), hex(CAST(v AS BLOB)) FROM {t} WHERE id = ?", (i,)).fetchone()
out = {}
for t, i, k in (("a", 1, 1), ("l", 5, 2), ("u", 9, 4), ("u", 10, 3), ("u", 11, 6)):
    ty, n, h = q(t, i)
    want = text(k).encode(codec)
    out[f"{t}{i}"] = [ty, n == len(want), hashlib.sha256(bytes.fromhex(h)).hexdigest() == hashlib.sha256(want).hexdigest()]
out["a_rest"] = list(c.execute("SELECT n, typeof(n), s, hex(b) FROM a").fetchone())
out["enc"] = c.execute("PRAGMA encoding").fetchone()[0]
# The stage is made when a value is first staged, and emptied after each row.
out["stage"] = c.execute("SELECT count(*) FROM vox_cutover_big_stage").fetchone()[0]
out["integrity"] = c.execute("PRAGMA integrity_check").fetchone()[0]
print(json.dumps(out, ensure_ascii=False))`;
    const got = JSON.parse(execaSync("python3", ["-c", judge, path, enc]).stdout) as Record<string, unknown>;
    expect(got).toEqual({
      a1: ["text", true, true],
      l5: ["text", true, true],
      u9: ["text", true, true],
      u10: ["text", true, true],
      u11: ["text", true, true],
      stage: 0,
      a_rest: [7, "integer", "é東🚀", "0102"],
      enc,
      integrity: "ok",
    });
  });
});
