/**
 * A UTF-16 file's text, every value exact through a cutover (issue 17: the encoding is kept, so the
 * new file is UTF-16 too). Binding a JS string makes SQLite convert UTF-8 to UTF-16 with its
 * READ_UTF8, which turns U+FFFE, U+FFFF and surrogates into U+FFFD; a lone surrogate is not valid
 * UTF-16 at all. Written by the sqlite3 CLI as literals of their UTF-16 bytes (stored as they are),
 * cut over with --apply, and judged by the sqlite3 CLI's `hex` of the stored bytes: in a direct
 * table (users, knowledge_nodes) and in an ad-hoc table that goes to legacy_quarantine (user_kv), and
 * an own-content FTS5/FTS4 text that starts with U+FEFF (read from the content shadow's pages).
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { execaSync } from "execa";
import { buildCorpusFile } from "../fixtures/corpus.js";
import { cli, fixtureDb, makeBaselineDb, sqlite, tmp } from "../helpers.js";
import { mkdirSync } from "node:fs";
import { RawText, RowInserter } from "../../src/db/value.js";
import { EXIT, type VoxError } from "../../src/errors.js";

/** The values: a leading U+FEFF, U+FFFE and U+FFFF inside; a leading U+FFFE; a lone surrogate; an overflowing one. */
const VALUES = {
  bomLed: "\uFEFFA\uFFFE\uFFFFB",
  fffeLed: "\uFFFE lead \uFFFF",
  lone: "A\uD800B\uDC00",
  long: "\uFEFF" + "x\uFFFF\uFFFE".repeat(3000),
};

/** A string's UTF-16 bytes in hex (lone surrogates kept: Node writes code units as they are). */
function utf16Hex(s: string, enc: "UTF-16le" | "UTF-16be"): string {
  const b = Buffer.from(s, "utf16le");
  return (enc === "UTF-16be" ? b.swap16() : b).toString("hex").toUpperCase();
}

/** Stored bytes of a text (the sqlite3 CLI: `hex` of the value as a BLOB). */
const bytesOf = (db: string, sql: string) => sqlite(db, `SELECT hex(CAST((${sql}) AS BLOB))`);

describe.each(["UTF-16le", "UTF-16be"] as const)("a %s file's text through a cutover", (enc) => {
  it("keeps U+FEFF, U+FFFE, U+FFFF and a lone surrogate byte for byte, in a vox table and in legacy_quarantine", async () => {
    const dir = tmp("vox-u16-exact-");
    const db = join(dir, "vox.db");
    buildCorpusFile("vox66-adhoc", db, { seed: 5, rows: 4, settings: { encoding: enc } });
    const lit = (s: string) => `CAST(x'${utf16Hex(s, enc)}' AS TEXT)`;
    const ids = sqlite(db, "SELECT id FROM users ORDER BY rowid LIMIT 3").split("\n");
    const node = sqlite(db, "SELECT rowid FROM knowledge_nodes ORDER BY rowid LIMIT 1");
    execaSync("sqlite3", [db], {
      input: [
        `UPDATE users SET display_name = ${lit(VALUES.bomLed)} WHERE id = '${ids[0]}';`,
        `UPDATE users SET display_name = ${lit(VALUES.fffeLed)} WHERE id = '${ids[1]}';`,
        `UPDATE users SET display_name = ${lit(VALUES.lone)} WHERE id = '${ids[2]}';`,
        `UPDATE knowledge_nodes SET content = ${lit(VALUES.long)} WHERE rowid = ${node};`,
        `INSERT INTO user_kv (k, v) VALUES ('u16-bom', ${lit(VALUES.bomLed)}), ('u16-lone', ${lit(VALUES.lone)}), ('u16-long', ${lit(VALUES.long)});`,
        // The operator's own FTS tables (their rows go to legacy_quarantine): the long text starts with
        // U+FEFF in their content shadow, which the module hands over without it (SQLite 3.45, UTF-16).
        "CREATE VIRTUAL TABLE own_notes USING fts5(title, body); CREATE VIRTUAL TABLE own_notes4 USING fts4(title, body);",
        ...["own_notes", "own_notes4"].map((t) => `INSERT INTO ${t} (rowid, title, body) VALUES (1, 'n', ${lit(VALUES.long.slice(1))}), (2, 'm', 'short');`),
        `UPDATE own_notes_content SET c1 = ${lit(VALUES.long)} WHERE id = 1; UPDATE own_notes4_content SET c1body = ${lit(VALUES.long)} WHERE docid = 1;`,
      ].join("\n"),
    });
    // The fixture holds the bytes we mean (the CLI stores a literal as it is).
    expect(bytesOf(db, `SELECT display_name FROM users WHERE id = '${ids[0]}'`)).toBe(utf16Hex(VALUES.bomLed, enc));
    expect(bytesOf(db, `SELECT v FROM user_kv WHERE k = 'u16-long'`)).toBe(utf16Hex(VALUES.long, enc));

    const dry = await cli(["cutover", "--db", db, "--json"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const app = await cli(["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest, "--json"]);
    expect(app.exitCode, app.stderr).toBe(0);
    expect(sqlite(db, "PRAGMA encoding; PRAGMA integrity_check").split("\n")).toEqual([enc, "ok"]);

    // A vox table: every value byte for byte.
    const names = [VALUES.bomLed, VALUES.fffeLed, VALUES.lone];
    ids.forEach((id, i) => expect(bytesOf(db, `SELECT display_name FROM users WHERE id = '${id}'`), id).toBe(utf16Hex(names[i]!, enc)));
    expect(bytesOf(db, `SELECT content FROM knowledge_nodes WHERE rowid = ${node}`)).toBe(utf16Hex(VALUES.long, enc));
    // legacy_quarantine: the rows of the ad-hoc table, their row_json holding the characters (the lone surrogate as {"t"}: its UTF-8 form, base64).
    const rowJson = (k: string) => {
      const hex = bytesOf(db, `SELECT row_json FROM legacy_quarantine WHERE source_table = 'user_kv' AND row_json LIKE '%${k}%'`);
      return JSON.parse(swapIf(hex, enc).toString("utf16le")) as { k: string; v: unknown };
    };
    expect(rowJson("u16-bom").v).toBe(VALUES.bomLed);
    expect(rowJson("u16-long").v).toBe(VALUES.long);
    for (const t of ["own_notes", "own_notes4"]) {
      const hex = bytesOf(db, `SELECT row_json FROM legacy_quarantine WHERE source_table = '${t}' AND row_json LIKE '%"n"%'`);
      expect((JSON.parse(swapIf(hex, enc).toString("utf16le")) as { body: string }).body === VALUES.long, t).toBe(true);
    }
    expect(rowJson("u16-lone").v).toEqual({ t: Buffer.from([0x41, 0xed, 0xa0, 0x80, 0x42, 0xed, 0xb0, 0x80]).toString("base64") });
  }, 120_000);
});

/** UTF-16 bytes (hex) as little-endian bytes, to read them with Node's utf16le. */
function swapIf(hex: string, enc: "UTF-16le" | "UTF-16be"): Buffer {
  const b = Buffer.from(hex, "hex");
  return enc === "UTF-16be" ? b.swap16() : b;
}

describe('a {"t"} value into a UTF-16 file', () => {
  it("a lone surrogate's form is written as that code unit; bytes that are no UTF-16 text's form are refused with a worded error, nothing written", () => {
    const db = join(tmp("vox-u16-raw-"), "t.db");
    const h = fixtureDb(db);
    h.exec("PRAGMA encoding = 'UTF-16be'; CREATE TABLE t(v TEXT)");
    const ins = new RowInserter(h, "INSERT INTO t (v)", 1, "UTF-16be");
    ins.run([new RawText(Uint8Array.from([0x41, 0xed, 0xa0, 0x80]))]);
    // Latin-1 "café" (a UTF-8 file's {"t"}): UTF-16 has no form that reads back as these bytes.
    let e: unknown;
    try {
      ins.run([new RawText(Uint8Array.from([0x63, 0x61, 0x66, 0xe9]))]);
    } catch (x) {
      e = x;
    }
    h.close();
    expect((e as Error).message).toMatch(/not UTF-8 \(4 bytes\) has no exact form in this UTF-16be file/);
    expect((e as VoxError).exitCode).toBe(EXIT.failed);
    expect(sqlite(db, "SELECT group_concat(hex(CAST(v AS BLOB))) FROM t")).toBe("0041D800");
  });

  it("a long one is written whole and exact (its code units were once collected one string append at a time: minutes at 150k characters)", () => {
    const db = join(tmp("vox-u16-raw-"), "t.db");
    const h = fixtureDb(db);
    h.exec("PRAGMA encoding = 'UTF-16le'; CREATE TABLE t(v TEXT)");
    // 300,000 × "ab" then a lone lead surrogate (ED A0 80) and a non-BMP character (F0 9F 98 80).
    const bytes = Buffer.concat([Buffer.from("ab".repeat(150_000)), Buffer.from([0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98, 0x80])]);
    new RowInserter(h, "INSERT INTO t (v)", 1, "UTF-16le").run([new RawText(bytes)]);
    h.close();
    expect(sqlite(db, "SELECT typeof(v), length(CAST(v AS BLOB)), hex(substr(CAST(v AS BLOB), 600001)) FROM t")).toBe("text|600006|00D83DD800DE");
    expect(sqlite(db, "SELECT hex(substr(CAST(v AS BLOB), 1, 8)) FROM t")).toBe("6100620061006200");
  }, 20_000);
});

describe("import-legacy into a UTF-16 file, a TEXT value that is not UTF-8", () => {
  it("keeps that row whole in legacy_quarantine with its bytes and loads the others (it failed the whole import, 1)", async () => {
    const dir = tmp("vox-u16-import-");
    const src = join(dir, "src.db");
    makeBaselineDb(src);
    sqlite(src, "INSERT INTO users(id, display_name) VALUES ('latin1', CAST(X'636166E9' AS TEXT)), ('plain', 'café')");
    const backup = join(dir, "b.jsonl");
    expect((await cli(["export-legacy", backup, "--db", src])).exitCode).toBe(0);
    const target = join(dir, "t", "vox.db");
    mkdirSync(join(dir, "t"));
    sqlite(target, "PRAGMA encoding = 'UTF-16le'; CREATE TABLE x(v); DROP TABLE x;");
    // Still empty: the dry-run's trial runs on a copy of it, in its encoding, as the apply would (a UTF-8 scratch file predicted 2 loaded).
    const empty = await cli(["import-legacy", backup, "--db", target, "--json"]);
    expect(empty.json.tables.find((t: any) => t.name === "users")).toMatchObject({ rows: 2, loaded: 1, quarantined: 1 });
    expect(empty.stdout + empty.stderr).toMatch(/trial: an import into a copy of the database, removed/);
    expect((await cli(["migrate", "--db", target, "--apply"])).exitCode).toBe(0);
    const dry = await cli(["import-legacy", backup, "--db", target, "--json"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.json.tables.find((t: any) => t.name === "users")).toMatchObject({ rows: 2, loaded: 1, quarantined: 1 });
    const r = await cli(["import-legacy", backup, "--db", target, "--apply", "--plan", dry.json.planDigest]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(sqlite(target, "PRAGMA encoding")).toBe("UTF-16le");
    expect(sqlite(target, "SELECT id, display_name FROM users")).toBe("plain|café");
    const q = sqlite(target, "SELECT reason, json_extract(row_json, '$.display_name.t') FROM legacy_quarantine WHERE source_table = 'users'");
    expect(q).toBe(
      `encoding: a TEXT value whose bytes are not UTF-8 has no exact form in this UTF-16le file|${Buffer.from([0x63, 0x61, 0x66, 0xe9]).toString("base64")}`,
    );
  }, 60_000);
});
