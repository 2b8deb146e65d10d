/**
 * The row reader's fast path (short ASCII TEXT without NUL comes as the driver's string) must give
 * the same bytes and storage class as the exact-bytes path for every value around its edges: the
 * length limit, NUL, U+0001/U+007F, a byte ≥ 0x80 (valid or not), at the end of the value too.
 * Judged against the sqlite3 CLI's typeof and hex of each value, never our own reader.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { execaSync } from "execa";
import Database from "libsql";
import { listBackupTables } from "../../src/backup/tables.js";
import { FAST_TEXT_MAX, iterateRows, rowStatement } from "../../src/backup/row-source.js";
import { RawText, type SqlValue } from "../../src/db/value.js";
import { sqlite, tmp } from "../helpers.js";

let dir: string;
const M = FAST_TEXT_MAX;
/** Each value as SQL the sqlite3 CLI evaluates (our driver writes none of them). */
const VALUES = [
  `'plain ascii'`,
  `''`,
  `char(1) || 'x' || char(127)`,
  `printf('%.${M}c', 'a')`, // exactly the limit
  `printf('%.${M + 1}c', 'b')`, // one past it
  `printf('%.${M - 1}c', 'c') || char(0)`, // NUL as the last byte within the limit
  `char(0)`,
  `'a' || char(0) || 'b'`,
  `CAST(x'80' AS TEXT)`,
  `CAST(printf('%.${M - 1}c', 'd') AS BLOB) || x'ff'`, // invalid byte as the last one within the limit
  `CAST('ok' || x'c3' AS TEXT)`, // a lead byte without its continuation
  `'Zoë'`,
  `CAST(x'eda080' AS TEXT)`, // an encoded surrogate
  `CAST(x'c0af' AS TEXT)`, // an overlong form
  `x'41'`, // a BLOB of an ASCII byte stays a BLOB
  `3.0`,
  `9007199254740993`,
  `NULL`,
];

beforeAll(() => {
  dir = tmp();
  const sql = [
    "CREATE TABLE t (id INTEGER PRIMARY KEY, v, w TEXT);",
    // `||` yields TEXT (even of blobs); w has TEXT affinity (a number in it becomes text).
    ...VALUES.map((v, i) => `INSERT INTO t VALUES (${i + 1}, ${v}, ${v.startsWith("x'") ? "'t'" : v});`),
  ].join("\n");
  execaSync("sqlite3", [join(dir, "v.db")], { input: sql });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function typeAndHex(v: SqlValue): string {
  if (v === null) return "null|";
  if (typeof v === "string") return `text|${Buffer.from(v, "utf8").toString("hex").toUpperCase()}`;
  if (v instanceof RawText) return `text|${Buffer.from(v.bytes).toString("hex").toUpperCase()}`;
  if (typeof v === "bigint") return `integer|${Buffer.from(v.toString()).toString("hex").toUpperCase()}`;
  if (typeof v === "number")
    return `real|${Buffer.from(String(v === Math.trunc(v) ? v.toFixed(1) : v))
      .toString("hex")
      .toUpperCase()}`;
  return `blob|${Buffer.from(v).toString("hex").toUpperCase()}`;
}

describe("row reader: the short-ASCII fast path", () => {
  it("reads every value with the stored storage class and bytes (sqlite3 typeof/hex)", () => {
    const db = new Database(join(dir, "v.db"), { readonly: true });
    try {
      const t = listBackupTables(db).find((x) => x.name === "t")!;
      const ours = [...iterateRows(rowStatement(db, t))]
        .map((r) =>
          r
            .slice(1)
            .map((v) => typeAndHex(v as SqlValue))
            .join(" "),
        )
        .join("\n");
      // sqlite3's hex of an INTEGER/REAL is of its text form, as typeAndHex writes it.
      const theirs = sqlite(join(dir, "v.db"), "SELECT typeof(v) || '|' || hex(v) || ' ' || typeof(w) || '|' || hex(w) FROM t ORDER BY id");
      expect(ours).toBe(theirs);
      expect(VALUES.length).toBe(ours.split("\n").length);
    } finally {
      db.close();
    }
  });
});
