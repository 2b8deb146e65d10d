/**
 * The catalog's AUTOINCREMENT flag: the word counts only as a keyword of the table's definition
 * (never in a string, a comment or a quoted name), and reading the catalog again answers the same
 * (the answers are kept by the statement's text: src/db/catalog.ts autoincrementIn). SQLite itself
 * is the judge: only an AUTOINCREMENT table gets a sqlite_sequence row when a row is inserted.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { readCatalog, readCatalogSync } from "../../src/db/catalog.js";
import { allRows, openReadOnly } from "../../src/db/local.js";
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

describe("the catalog's columns, kept by the schema's text", () => {
  it("answers a second file of the same schema without asking SQLite again, and a changed schema anew", () => {
    const dir = tmp();
    const schema = `CREATE TABLE a (id INTEGER PRIMARY KEY, t TEXT NOT NULL DEFAULT 'x', g AS (t || '!'));
      CREATE TABLE w (k TEXT PRIMARY KEY, v) WITHOUT ROWID; CREATE TABLE d (k INTEGER PRIMARY KEY DESC, v);
      CREATE VIRTUAL TABLE f USING fts5(body);`;
    const paths = ["one.db", "two.db"].map((n) => join(dir, n));
    for (const path of paths) {
      const fx = fixtureDb(path);
      fx.exec(schema);
      fx.close();
    }
    /** The catalog, and how many statements reading columns (pragma_table_xinfo) it prepared. */
    const read = (path: string) => {
      const db = openReadOnly(path);
      const prepare = db.prepare.bind(db);
      let xinfo = 0;
      db.prepare = ((sql: string) => {
        if (sql.includes("pragma_table_xinfo")) xinfo++;
        return prepare(sql);
      }) as typeof db.prepare;
      try {
        return { catalog: readCatalogSync(db), xinfo };
      } finally {
        db.close();
      }
    };
    const first = read(paths[0]!);
    // The columns as the sqlite3 CLI lists them (hidden ones too), one line per table: the judge.
    const judged = (path: string, tables: string[]) =>
      sqlite(path, tables.map((t) => `SELECT group_concat(name || ':' || type || ':' || hidden, ',') FROM pragma_table_xinfo('${t}');`).join(" "));
    const listedBy = (catalog: typeof first.catalog, tables: string[]) =>
      tables
        .map((t) =>
          catalog
            .find((x) => x.name === t)!
            .columns.map((c) => `${c.name}:${c.type}:${c.hidden}`)
            .join(","),
        )
        .join("\n");
    expect(listedBy(first.catalog, ["a", "w", "d", "f"])).toBe(judged(paths[0]!, ["a", "w", "d", "f"]));
    expect(first.catalog.find((x) => x.name === "a")!.rowidAlias).toBe("id");
    expect(first.catalog.find((x) => x.name === "d")!.rowidAlias).toBe(null); // DESC: its own index, not the rowid
    first.catalog[0]!.columns.length = 0; // a caller's change stays its own
    const second = read(paths[1]!);
    expect(second.xinfo).toBe(0);
    expect(second.catalog).toEqual(read(paths[0]!).catalog);
    expect(second.catalog[0]!.columns.length).toBeGreaterThan(0);
    // The schema changed: its columns are read again.
    const fx = fixtureDb(paths[1]!);
    fx.exec("ALTER TABLE a ADD COLUMN added INTEGER DEFAULT 7");
    fx.close();
    const altered = read(paths[1]!);
    expect(altered.xinfo).toBeGreaterThan(0);
    const now = judged(paths[1]!, ["a"]);
    expect(now).toContain("added:INTEGER:0");
    expect(listedBy(altered.catalog, ["a"])).toBe(now);
  });
});

describe("the catalog's columns are kept only for the schema they were read under", () => {
  it("a column dropped by another connection between the list and the column reads is never served for the old schema's text", async () => {
    const dir = tmp();
    const schema = "CREATE TABLE race_t (id INTEGER PRIMARY KEY, a TEXT, secret TEXT);";
    const [racing, later] = ["racing.db", "later.db"].map((n) => join(dir, n));
    for (const path of [racing!, later!]) {
      const fx = fixtureDb(path);
      fx.exec(schema);
      fx.close();
    }
    // A reader outside any transaction (as diagnose's): an application drops the column right before the first column read.
    const db = openReadOnly(racing!);
    let raced = false;
    const reader = {
      kind: "file" as const,
      local: db,
      close: () => db.close(),
      rows: async (sql: string, args?: unknown[]) => {
        if (!raced && sql.includes("pragma_table_xinfo")) {
          raced = true;
          const app = fixtureDb(racing!);
          app.exec("ALTER TABLE race_t DROP COLUMN secret");
          app.close();
        }
        return allRows(db, sql, args as never);
      },
    };
    await readCatalog(reader as never);
    reader.close();
    expect(raced).toBe(true);
    // A file that still has the old text: its columns are its own (the sqlite3 CLI judges), secret included.
    const other = openReadOnly(later!);
    try {
      const cols = readCatalogSync(other)
        .find((t) => t.name === "race_t")!
        .columns.map((c) => c.name)
        .join(",");
      expect(cols).toBe(sqlite(later!, "SELECT group_concat(name, ',') FROM pragma_table_xinfo('race_t')"));
      expect(cols).toBe("id,a,secret");
    } finally {
      other.close();
    }
  });

  it("a temp table of the same name never lends its columns to main's", () => {
    const path = join(tmp(), "temp.db");
    const fx = fixtureDb(path);
    fx.exec("CREATE TABLE shadowed (id INTEGER PRIMARY KEY, real_col TEXT);");
    fx.close();
    const db = openReadOnly(path);
    try {
      db.exec("CREATE TEMP TABLE shadowed (x, y, z)");
      const cols = readCatalogSync(db)
        .find((t) => t.name === "shadowed")!
        .columns.map((c) => c.name)
        .join(",");
      expect(cols).toBe("id,real_col");
    } finally {
      db.close();
    }
  });
});
