/**
 * The catalog's AUTOINCREMENT flag: the word counts only as a keyword of the table's definition
 * (never in a string, a comment or a quoted name), and reading the catalog again answers the same
 * (the answers are kept by the statement's text: src/db/catalog.ts autoincrementIn). SQLite itself
 * is the judge: only an AUTOINCREMENT table gets a sqlite_sequence row when a row is inserted.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { readCatalogSync } from "../../src/db/catalog.js";
import { openReadOnly } from "../../src/db/local.js";
import { fixtureDb, sqlite, tmp } from "../helpers.js";

describe("the catalog's AUTOINCREMENT flag", () => {
  it("is the keyword's alone, and the same in every read", () => {
    const path = join(tmp(), "ai.db");
    const fx = fixtureDb(path);
    fx.exec(`
      CREATE TABLE real_ai (id INTEGER PRIMARY KEY AUTOINCREMENT, x);
      CREATE TABLE in_string (id INTEGER PRIMARY KEY, note TEXT DEFAULT 'AUTOINCREMENT');
      CREATE TABLE in_comment (id INTEGER PRIMARY KEY /* autoincrement */, "autoincrement" TEXT);
      CREATE TABLE "lower ai" (id integer primary key autoincrement);
      INSERT INTO real_ai (x) VALUES (1); INSERT INTO in_string DEFAULT VALUES;
      INSERT INTO in_comment DEFAULT VALUES; INSERT INTO "lower ai" DEFAULT VALUES;`);
    fx.close();
    const judged = sqlite(path, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_sequence ORDER BY name)");
    expect(judged).toBe("lower ai,real_ai");
    const db = openReadOnly(path);
    try {
      for (let read = 0; read < 2; read++) {
        const flagged = readCatalogSync(db)
          .filter((t) => t.autoincrement)
          .map((t) => t.name)
          .sort();
        expect(flagged.join(","), `read ${read + 1}`).toBe(judged);
      }
    } finally {
      db.close();
    }
  });
});
