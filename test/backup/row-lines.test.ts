/**
 * Lines SQLite writes itself (row-lines.ts: json_array for rows of NULL, safe integers and TEXT)
 * must be byte for byte the lines the JS encoder writes, for every edge of the format. Judged three
 * ways: against the JS encoder on the same rows (in process), against lines Python's sqlite3 builds
 * from its own reading of each value (typeof, bytes), and by a backup the CLI writes and verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { execaSync } from "execa";
import Database from "libsql";
import { hashTable, LineHasher, listBackupTables } from "../../src/backup/tables.js";
import { ascending, LineRun, readRows } from "../../src/backup/row-lines.js";
import { iterateRows, rowStatement } from "../../src/backup/row-source.js";
import { encodeRow } from "../../src/backup/format.js";
import type { SqlValue } from "../../src/db/value.js";
import { cli, tmp } from "../helpers.js";

let dir: string;
const p = (n: string) => join(dir, n);

/** Every edge the format has, as SQL the sqlite3 CLI evaluates (our driver writes none of them). */
const EDGES = [
  `NULL`,
  `''`,
  `x''`,
  `'a' || char(0) || 'b'`,
  `char(0)`,
  `'"quoted" and \\ back'`,
  `'\\'`,
  `char(127) || 'del'`,
  `'base64:SGVsbG8='`,
  `'{"t":"AA=="}'`,
  `'Zoë 東京 🚀' || char(8232) || char(65279)`,
  `CAST(x'4ce9' AS TEXT)`,
  `CAST(x'22ff5c0a' AS TEXT)`,
  `CAST(x'eda080' AS TEXT)`,
  `CAST(x'c0af' AS TEXT)`,
  `CAST('ok' || x'c3' AS TEXT)`,
  `x'00ff'`,
  `9223372036854775807`,
  `-9223372036854775808`,
  `9007199254740991`,
  `-9007199254740991`,
  `9007199254740992`,
  `-9007199254740992`,
  `0`,
  `3.0`,
  `-0.0`,
  `1e308`,
  `0.1`,
  `'12'`,
];
// Every control character 0x01–0x1F, one per value.
for (let b = 1; b < 32; b++) EDGES.push(`'<' || char(${b}) || '>'`);

/**
 * Tables read in chunks of 256 lines (row-lines.ts chunkSql): c has 701 rows with gaps and negative
 * keys. Its first chunk holds rows SQLite cannot write (a REAL, a BLOB, an integer beyond 2^53, TEXT
 * over 1 MB), a NUL inside text and lines over 8 KB; its second a text that is not UTF-8 (and nothing else special);
 * its third, ending at the largest safe integer, a NUL inside text (a clean run). c256 (rowid) and
 * c512 (its last key the largest rowid, a hard row) end exactly at a chunk's end; cl's lines are long
 * (after one chunk the rest goes one line per step); ce is empty.
 */
const CHUNKED = [
  "CREATE TABLE c (id INTEGER PRIMARY KEY, a, b TEXT);",
  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 700) INSERT INTO c SELECT i * 3 - 1000, 'row ' || i, i FROM n;",
  // Rows 100, 101, 150, 160 and 200 of the first chunk; row 400 (the second chunk's 144th); row 650.
  "UPDATE c SET a = 0.5 WHERE id = -700;",
  "UPDATE c SET a = x'00ff' WHERE id = -697;",
  "UPDATE c SET a = 9007199254740993 WHERE id = -550;",
  "UPDATE c SET b = 'nul' || char(0) || 'inside' WHERE id = -520;",
  "UPDATE c SET a = printf('%.9000c', 'w') WHERE id = -400;",
  // TEXT over 1 MB comes as values, exactly 1 MB in a line (a long one, read alone).
  "UPDATE c SET b = printf('%.1048577c', 'z') WHERE id = -301;",
  "UPDATE c SET b = printf('%.1048576c', 'z') WHERE id = -298;",
  "UPDATE c SET b = CAST(x'4ce9' AS TEXT) WHERE id = 200;",
  "UPDATE c SET b = 'two' || char(0) || 'nuls' || char(0) WHERE id = 950;",
  "INSERT INTO c VALUES (9007199254740991, 'last', 'max');",
  "CREATE TABLE c256 (a);",
  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 256) INSERT INTO c256 SELECT 'x' || i FROM n;",
  "CREATE TABLE c512 (id INTEGER PRIMARY KEY, a);",
  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 511) INSERT INTO c512 SELECT i, i FROM n;",
  "INSERT INTO c512 VALUES (9223372036854775807, 512);",
  "CREATE TABLE cl (id INTEGER PRIMARY KEY, a);",
  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) INSERT INTO cl SELECT i, printf('%.5000c', char(65 + i % 26)) FROM n;",
  "CREATE TABLE ce (a);",
];

beforeAll(() => {
  dir = tmp();
  const sql = [
    // a: untyped; b: TEXT affinity; c: INTEGER affinity (TEXT stays TEXT in it); r: the rowid carried as `rowid`.
    "CREATE TABLE e (id INTEGER PRIMARY KEY, a, b TEXT, c INTEGER);",
    "CREATE TABLE r (a, b);",
    // Mostly REAL: the reader goes over to the row statement part way.
    "CREATE TABLE f (id INTEGER PRIMARY KEY, x REAL, s TEXT);",
    // The storage classes as the line statement asks for them (row-lines.ts hardValue): a REAL column
    // (an integral REAL is stored as an integer and read as REAL), collations other than BINARY, NUMERIC.
    "CREATE TABLE g (id INTEGER PRIMARY KEY, x REAL, n TEXT COLLATE NOCASE, t COLLATE RTRIM, u NUMERIC);",
    ...EDGES.map((v, i) => `INSERT INTO g VALUES (${i + 1}, ${v}, ${v}, ${v}, ${v});`),
    ...EDGES.map((v, i) => `INSERT INTO g (id, n, t) VALUES (${i + 101}, ${v}, ${v});`),
    // A chunk's rows and more: a small table with a REAL column is read as values (row-lines.ts fewRows).
    "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 200) INSERT INTO g (id, n) SELECT 1000 + i, 'pad ' || i FROM k;",
    ...EDGES.map((v, i) => `INSERT INTO e VALUES (${i + 1}, ${v}, ${v.startsWith("x'") ? "'t'" : v}, ${v});`),
    ...EDGES.map((v, i) => `INSERT INTO r VALUES (${v}, ${i});`),
    "INSERT INTO e VALUES (1000, 'all', 'easy', 7);",
    // Longer than 1 MB: by the row statement; exactly 1 MB: in a line.
    "INSERT INTO e VALUES (1001, printf('%.1048577c', 'x'), 'long', 1);",
    "INSERT INTO e VALUES (1002, printf('%.1048576c', 'y'), 'long', 1);",
    "INSERT INTO e VALUES (9007199254740992, 'rowid', 'beyond', 2);",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) INSERT INTO f SELECT i, CASE WHEN i % 3 THEN i * 0.5 END, 's' || i FROM n;",
    ...CHUNKED,
    // Fewer rows than a chunk, a REAL in each: read as values by one statement (row-lines.ts fewRows).
    "CREATE TABLE sr (id INTEGER PRIMARY KEY, x REAL, s TEXT);",
    "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 100) INSERT INTO sr SELECT i, i * 0.25, 's' || i FROM k;",
  ].join("\n");
  execaSync("sqlite3", [p("v.db")], { input: sql });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Lines Python's sqlite3 writes from its own reading of each value (the format in docs/backup-format.md). */
function pythonLines(table: string, key: string, file = "v.db"): string[] {
  const py = `
import sqlite3, json, base64, sys, math
d = sqlite3.connect(sys.argv[1])
cols = [r[1] for r in d.execute("PRAGMA table_info(${table})")]
d.text_factory = bytes
sel = ", ".join(["${key}"] * (${key === "rowid" ? 1 : 0}) + ['"%s"' % c for c in cols])
def js(v):
    # ECMAScript's Number::toString from repr's shortest round-trip digits.
    if v == 0: return "0"
    mant, _, exp = repr(abs(v)).partition("e")
    ip, _, fp = mant.partition(".")
    digits = ip + ("" if fp == "0" else fp)
    n = len(ip) + int(exp or 0) - (len(digits) - len(digits.lstrip("0")))
    digits = digits.strip("0")
    k = len(digits)
    if k <= n <= 21: out = digits + "0" * (n - k)
    elif 0 < n <= 21: out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0: out = "0." + "0" * -n + digits
    else: out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if n > 0 else "-") + str(abs(n - 1))
    return ("-" if v < 0 else "") + out
def real(v):
    if v == 0 and math.copysign(1, v) < 0: return '{"r":"-0"}'
    return '{"r":%s}' % js(v)
def enc(v):
    if v is None: return "null"
    if isinstance(v, int): return str(v) if abs(v) < 2**53 else '{"i":"%d"}' % v
    if isinstance(v, float): return real(v)
    if isinstance(v, bytes):
        try: return json.dumps(v.decode("utf-8", "strict"), ensure_ascii=False)
        except UnicodeDecodeError: return '{"t":"%s"}' % base64.b64encode(v).decode()
    return '{"b":"%s"}' % base64.b64encode(bytes(v)).decode()
out = []
for row in d.execute("SELECT " + sel + " FROM ${table} ORDER BY ${key}"):
    # text_factory=bytes gives TEXT as bytes; a BLOB comes as memoryview-free bytes too: ask typeof.
    out.append(row)
types = list(d.execute("SELECT " + ", ".join("typeof(%s)" % c for c in sel.split(", ")) + " FROM ${table} ORDER BY ${key}"))
for row, ty in zip(out, types):
    vals = [('{"b":"%s"}' % base64.b64encode(v).decode()) if t == b"blob" else enc(v) for v, t in zip(row, ty)]
    sys.stdout.buffer.write(("[" + ",".join(vals) + "]\\n").encode("utf-8", "surrogatepass"))
`;
  const out = execaSync("python3", ["-c", py, p(file)], { encoding: "buffer", stripFinalNewline: false }).stdout;
  return Buffer.from(out).toString("utf8").split("\n").slice(0, -1);
}

/** What readRows hands out, as line strings; how many came as lines SQLite wrote, and how many runs of lines. */
function ours(db: InstanceType<typeof Database>, name: string): { lines: string[]; written: number; runs: number } {
  const t = listBackupTables(db).find((x) => x.name === name)!;
  let written = 0;
  let runs = 0;
  const lines = [...readRows(db, t)].flatMap((r) => {
    if (r instanceof LineRun) {
      runs++;
      written += r.rows;
      const ls = r.lines.toString("utf8").split("\n");
      expect(ls.length).toBe(r.rows);
      return ls;
    }
    if (!Buffer.isBuffer(r)) return [encodeRow(r as SqlValue[])];
    written++;
    return [r.toString("utf8")];
  });
  return { lines, written, runs };
}

describe("row lines SQLite writes (json_array)", () => {
  it("escapes every byte 0x00–0x7F exactly as JSON.stringify", () => {
    const db = new Database(":memory:");
    const st = db.prepare("SELECT json_array('a' || char(?) || 'b')").raw(true);
    for (let b = 0; b < 128; b++) expect((st.get([b]) as string[])[0], `byte ${b}`).toBe(`[${JSON.stringify(`a${String.fromCharCode(b)}b`)}]`);
    db.close();
  });

  it("gives every edge row the JS encoder's line, and Python's", () => {
    const db = new Database(p("v.db"), { readonly: true });
    try {
      db.exec("BEGIN");
      for (const [name, key] of [
        ["e", "id"],
        ["r", "rowid"],
        ["f", "id"],
        ["g", "id"],
      ] as const) {
        const t = listBackupTables(db).find((x) => x.name === name)!;
        const js = [...iterateRows(rowStatement(db, t))].map((r) => encodeRow(r as SqlValue[]));
        const { lines, written } = ours(db, name);
        expect(lines, name).toEqual(js);
        expect(lines, name).toEqual(pythonLines(name, key));
        // The path under test was taken: rows of NULL, safe integers and TEXT came as lines; in f
        // (two rows in three REAL) only until the reader went over to the row statement.
        if (name === "f") expect([written > 0, written < 20]).toEqual([true, true]);
        else expect([written > 40, written < lines.length]).toEqual([true, true]);
        // The hash the verify and the import's proof compute is over the same lines.
        const h = new LineHasher();
        for (const l of js) h.line(l);
        expect(hashTable(db, t)).toEqual({ rows: js.length, sha256: h.digest() });
      }
      db.exec("COMMIT");
    } finally {
      db.close();
    }
  });

  it("a number in a column declared TEXT (its type changed after the rows were written) comes as values: no bare JSON number in a line", () => {
    // SQLite applies a comparison's affinity to both operands: without `+` the TEXT affinity turned the
    // REAL and the large integers into text and their rows into json_array lines (review of b9abc24).
    execaSync("sqlite3", [p("h.db")], {
      input: [
        "CREATE TABLE h (id INTEGER PRIMARY KEY, c REAL, n INTEGER, s TEXT);",
        "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 40) INSERT INTO h SELECT i, CASE WHEN i % 10 = 0 THEN i + 0.5 END,",
        "  CASE WHEN i % 10 = 5 THEN (1 << 60) + i WHEN i % 10 = 7 THEN i END, 's' || i FROM k;",
        "PRAGMA writable_schema = ON;",
        "UPDATE sqlite_master SET sql = 'CREATE TABLE h (id INTEGER PRIMARY KEY, c TEXT, n TEXT, s TEXT)' WHERE name = 'h';",
      ].join("\n"),
    });
    const db = new Database(p("h.db"), { readonly: true });
    try {
      expect(db.prepare("SELECT DISTINCT typeof(c) || '/' || typeof(n) FROM h ORDER BY 1").raw(true).all()).toEqual([
        ["null/integer"],
        ["null/null"],
        ["real/null"],
      ]);
      const t = listBackupTables(db).find((x) => x.name === "h")!;
      const js = [...iterateRows(rowStatement(db, t))].map((r) => encodeRow(r as SqlValue[]));
      const { lines, written } = ours(db, "h");
      expect(lines).toEqual(js);
      expect(lines).toEqual(pythonLines("h", "id", "h.db"));
      expect(lines.filter((l) => l.includes('{"r":')).length).toBe(4);
      expect(written).toBe(32); // the 8 rows with a REAL or an integer beyond 2^53 as values
    } finally {
      db.close();
    }
  });

  it("reads a table of fewer rows than a chunk with a column declared REAL as values, by one statement", () => {
    const db = new Database(p("v.db"), { readonly: true });
    try {
      const [e, sr] = ["e", "sr"].map((n) => listBackupTables(db).find((x) => x.name === n)!);
      void [...readRows(db, e!)]; // the file's facts read once per connection
      let prepared = 0;
      const prepare = db.prepare.bind(db);
      db.prepare = ((sql: string) => (prepared++, prepare(sql))) as typeof db.prepare;
      const items = [...readRows(db, sr!)];
      expect([items.length, items.filter((r) => Buffer.isBuffer(r) || r instanceof LineRun).length, prepared]).toEqual([100, 0, 1]);
      expect(items.map((r) => encodeRow(r as SqlValue[]))).toEqual(pythonLines("sr", "id"));
    } finally {
      db.close();
    }
  });

  it("leaves no statement active: a table read part way as lines lets the connection DETACH (the native build's source)", () => {
    const db = new Database(p("v.db"), { readonly: true });
    try {
      db.exec(`ATTACH '${p("v.db")}' AS other`);
      db.exec("BEGIN");
      db.prepare("SELECT count(*) FROM other.e").get();
      const f = listBackupTables(db).find((x) => x.name === "f")!;
      // f goes over to the row statement part way; e is read whole as lines; a reader stopped early too.
      expect(hashTable(db, f).rows).toBe(300);
      // c: chunks, a long line read alone by key, hard rows by the row statement.
      expect(
        hashTable(
          db,
          listBackupTables(db).find((x) => x.name === "c")!,
        ).rows,
      ).toBe(701);
      for (const r of readRows(
        db,
        listBackupTables(db).find((x) => x.name === "e")!,
      ))
        if (r) break;
      db.exec("COMMIT");
      expect(() => db.exec("DETACH other")).not.toThrow();
    } finally {
      db.close();
    }
  });

  it("reads in chunks of lines each row once, in key order, with hard rows, invalid UTF-8, NULs, long lines and the last key among them", () => {
    const db = new Database(p("v.db"), { readonly: true });
    const python = new Map<string, string[]>();
    try {
      const seen = () =>
        Object.fromEntries(
          [
            ["c", "id"],
            ["c256", "rowid"],
            ["c512", "id"],
            ["cl", "id"],
            ["ce", "rowid"],
          ].map(([name, key]) => {
            const t = listBackupTables(db).find((x) => x.name === name)!;
            const js = [...iterateRows(rowStatement(db, t))].map((r) => encodeRow(r as SqlValue[]));
            const { lines, written, runs } = ours(db, name!);
            expect(lines, name).toEqual(js);
            if (!python.has(name!)) python.set(name!, pythonLines(name!, key!));
            expect(lines, name).toEqual(python.get(name!));
            const h = new LineHasher();
            for (const l of js) h.line(l);
            expect(hashTable(db, t), name).toEqual({ rows: js.length, sha256: h.digest() });
            return [name, { rows: lines.length, written, runs }];
          }),
        );
      db.exec("BEGIN");
      // The chunked path was taken where it should: c's third chunk is one clean run (its first has
      // markers, its second invalid UTF-8: both taken apart); cl goes one line per step after one run.
      const chunked = {
        c: { rows: 701, written: 696, runs: 1 },
        c256: { rows: 256, written: 256, runs: 1 },
        c512: { rows: 512, written: 511, runs: 1 },
        cl: { rows: 300, written: 300, runs: 1 },
        ce: { rows: 0, written: 0, runs: 0 },
      };
      expect(seen()).toEqual(chunked);
      // Every chunk read again by the ordered statement (as one whose keys did not ascend would be): the same.
      process.env.VOX_CUTOVER_TEST_CHUNK_ORDER = "recheck";
      try {
        expect(seen()).toEqual(chunked);
      } finally {
        delete process.env.VOX_CUTOVER_TEST_CHUNK_ORDER;
      }
      db.exec("COMMIT");
      // Outside a transaction one statement reads each table (chunks could see different snapshots).
      const outside = seen();
      expect(Object.values(outside).map((s) => s.runs)).toEqual([0, 0, 0, 0, 0]);
      expect(outside.c).toEqual({ rows: 701, written: 696, runs: 0 });
    } finally {
      db.close();
    }
  });

  it("reads a table its caller counted at fewer rows than a chunk by one statement (values below 32 rows, else lines), and every row whatever the count said", () => {
    const db = new Database(p("v.db"), { readonly: true });
    try {
      db.exec("BEGIN");
      // c: 701 rows, hard rows, invalid UTF-8, a long line. The count only picks the statement.
      const c = listBackupTables(db).find((x) => x.name === "c")!;
      const js = [...iterateRows(rowStatement(db, c))].map((r) => encodeRow(r as SqlValue[]));
      const whole = hashTable(db, c);
      expect(whole.rows).toBe(701);
      for (const rows of [0, 8, 31, 32, 255]) {
        const few = { ...c, rows };
        const items = [...readRows(db, few)];
        expect(
          items.some((r) => r instanceof LineRun),
          `rows ${rows}`,
        ).toBe(false); // no chunk statement
        // Below 32 rows counted: every row as values (the row statement); from 32: lines SQLite wrote, one per step.
        expect(items.filter((r) => Buffer.isBuffer(r)).length, `rows ${rows}`).toBe(rows < 32 ? 0 : 696);
        expect(items.map((r) => (Buffer.isBuffer(r) ? r.toString("utf8") : encodeRow(r as SqlValue[])))).toEqual(js);
        expect(hashTable(db, few)).toEqual(whole);
      }
      expect([...readRows(db, { ...c, rows: 256 })].some((r) => r instanceof LineRun)).toBe(true); // a chunk's worth: chunked
      db.exec("COMMIT");
    } finally {
      db.close();
    }
  });

  it('a key column named like the chunk statement\'s own columns (l, L, k): every row once, in key order (review: ORDER BY "l" sorted by the line)', () => {
    const file = p("names.db");
    // Lines that sort in another order than their keys (a shorter text for a larger key).
    const sql = ["l", "L", "k"]
      .map(
        (c, i) =>
          `CREATE TABLE n${i} ("${c}" INTEGER PRIMARY KEY, v TEXT); WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1000) INSERT INTO n${i} SELECT i, printf('%.*c', 1001 - i, 'x') FROM s;`,
      )
      .join("\n");
    execaSync("sqlite3", [file], { input: sql });
    const db = new Database(file, { readonly: true });
    try {
      db.exec("BEGIN");
      for (const name of ["n0", "n1", "n2"]) {
        const t = listBackupTables(db).find((x) => x.name === name)!;
        const js = [...iterateRows(rowStatement(db, t))].map((r) => encodeRow(r as SqlValue[]));
        expect(js.length).toBe(1000);
        const { lines, runs } = ours(db, name);
        expect(runs, name).toBeGreaterThan(0); // read in chunks
        expect(lines, name).toEqual(js);
        const h = new LineHasher();
        for (const l of js) h.line(l);
        expect(hashTable(db, t), name).toEqual({ rows: 1000, sha256: h.digest() });
      }
      db.exec("COMMIT");
    } finally {
      db.close();
    }
  });

  it("takes a chunk's keys as in order only when they strictly ascend (else the chunk is read again, ordered)", () => {
    const cases: [string, number, boolean][] = [
      ["1,2,3", 3, true],
      ["-1000,-997,0,5", 4, true],
      ["1,3,2", 3, false],
      ["1,1", 2, false],
      ["1,2", 3, false],
      ["1,2,", 2, false],
      ["", 0, false],
      ["-999999999999999,999999999999999", 2, true],
      // Beyond 15 digits (not exact as doubles) compared by their digits.
      ["999999999999999,1000000000000000", 2, true],
      ["9007199254740992,9007199254740993", 2, true],
      ["9007199254740993,9007199254740992", 2, false],
      ["9223372036854775806,9223372036854775807", 2, true],
      ["9223372036854775807,9223372036854775807", 2, false],
      ["-9223372036854775808,-9223372036854775807,-5,0,9223372036854775807", 5, true],
      ["-9223372036854775807,-9223372036854775808", 2, false],
      ["-1000000000000000,-999999999999999", 2, true],
      ["1000000000000000,-1", 2, false],
    ];
    for (const [keys, n, want] of cases) expect(ascending(keys, n), keys).toBe(want);
  });

  it("a backup of it holds Python's lines and verifies against the database", async () => {
    const exp = await cli(["export-legacy", p("b.jsonl"), "--db", p("v.db"), "--json"]);
    expect(exp.exitCode, exp.stderr).toBe(0);
    const lines = readFileSync(p("b.jsonl"), "utf8").split("\n");
    const start = lines.findIndex((l) => l.startsWith('{"k":"table","name":"e"'));
    const want = pythonLines("e", "id");
    expect(lines.slice(start + 1, start + 1 + want.length)).toEqual(want);
    // A table read in chunks: each of its rows' lines once, in key order (then the table's end line).
    const c = lines.findIndex((l) => l.startsWith('{"k":"table","name":"c"'));
    const wantC = pythonLines("c", "id");
    expect(lines.slice(c + 1, c + 2 + wantC.length).map((l, i) => (i < wantC.length ? l : l.slice(0, 18)))).toEqual([...wantC, '{"k":"end","name":']);
    const ver = await cli(["verify-backup", p("b.jsonl"), "--db", p("v.db"), "--json"]);
    expect(ver.exitCode, ver.stderr).toBe(0);
  });
});
