/**
 * readFacts reads the four PRAGMAs for all tables at once (src/schema/facts.ts batchedPragmas):
 * the rows must be the very rows one query per table and per index gives, on every shape we meet.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { fixtureDb, makeBaselineDb, makeVoxDb, tmp } from "../helpers.js";
import { makeTortureDb } from "../fixtures/torture.js";
import { batchedPragmas, perTablePragmas, readFacts, type PragmaSource } from "../../src/schema/facts.js";
import { allRows } from "../../src/db/local.js";

/** Keys and shapes beyond vox's: a partial, a DESC, an expression and a UNIQUE index; FKs with actions, composite and to no column; a column named like a key word. */
const EDGES = `
CREATE TABLE parent (a INTEGER, b TEXT, "order" TEXT DEFAULT 'x', PRIMARY KEY (a, b)) WITHOUT ROWID;
CREATE TABLE child (id INTEGER PRIMARY KEY, pa INTEGER, pb TEXT, other INTEGER REFERENCES parent ON DELETE CASCADE ON UPDATE SET NULL, u TEXT UNIQUE,
  g TEXT GENERATED ALWAYS AS (upper(u)) VIRTUAL, FOREIGN KEY (pa, pb) REFERENCES parent (a, b) ON DELETE RESTRICT);
CREATE INDEX child_partial ON child(pa) WHERE pa > 3;
CREATE INDEX child_desc ON child(pb DESC, pa);
CREATE UNIQUE INDEX child_expr ON child(lower(u), pa);
CREATE VIRTUAL TABLE docs USING fts5(body, content='child', content_rowid='id');
CREATE VIEW child_view AS SELECT id FROM child;
`;

function dbs(): Record<string, string> {
  const d = tmp();
  const out: Record<string, string> = {};
  out.baseline = join(d, "baseline.db");
  makeBaselineDb(out.baseline);
  for (const which of ["60", "42", "v1-v23"] as const) {
    out[`vox ${which}`] = join(d, `vox${which}.db`);
    makeVoxDb(out[`vox ${which}`]!, which, [1]);
  }
  out.torture = join(d, "torture.db");
  makeTortureDb(out.torture, { withData: false });
  out.edges = join(d, "edges.db");
  const e = fixtureDb(out.edges);
  e.exec(EDGES);
  e.close();
  return out;
}

describe("readFacts: batched PRAGMA reads", () => {
  it("give the rows of one query per table and per index, for every table and index of each database", () => {
    for (const [label, path] of Object.entries(dbs())) {
      const db = fixtureDb(path);
      try {
        const batched = batchedPragmas(db);
        expect(batched, label).not.toBeNull();
        const tables = allRows(db, "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'shadow')").map((r) => String(r.name));
        expect(tables.length, label).toBeGreaterThan(3);
        /** Every row each PRAGMA gives, by table and by index (one comparison per database). */
        const read = (src: PragmaSource) =>
          Object.fromEntries(
            tables.map((t) => {
              const il = src.indexList(t);
              const ix = Object.fromEntries(il.map((i) => [String(i.name), src.indexXinfo(String(i.name))]));
              return [t, { xinfo: src.tableXinfo(t), fks: src.foreignKeys(t), il, ix }];
            }),
          );
        const one = read(perTablePragmas(db));
        expect(Object.values(one).filter((t) => t.il.length > 0).length, label).toBeGreaterThan(0);
        expect(read(batched!), label).toEqual(one);
      } finally {
        db.close();
      }
    }
  });

  it("the edge shapes come out in the facts (partial WHERE, DESC, expression key, composite FK with actions)", () => {
    const d = tmp();
    const p = join(d, "edges.db");
    const e = fixtureDb(p);
    e.exec(EDGES);
    const f = readFacts(e);
    e.close();
    const child = f.tables.child!;
    expect(child.indexes).toEqual(
      expect.arrayContaining([
        { name: "child_partial", unique: false, columns: ["pa"], where: "pa > 3" },
        { name: "child_desc", unique: false, columns: ["pb", "pa"], desc: [true, false] },
        { name: "child_expr", unique: true, columns: ["<expr>", "pa"] },
      ]),
    );
    expect(child.unique).toEqual([["u"]]);
    expect(child.foreign_keys).toEqual(
      expect.arrayContaining([
        { from: "other", table: "parent", to: "", on_delete: "CASCADE", on_update: "SET NULL" },
        { from: "pa", table: "parent", to: "a", on_delete: "RESTRICT", on_update: "NO ACTION" },
        { from: "pb", table: "parent", to: "b", on_delete: "RESTRICT", on_update: "NO ACTION" },
      ]),
    );
    expect(child.columns.map((c) => c.name)).toEqual(["id", "pa", "pb", "other", "u"]); // the generated column is hidden
    expect(f.tables.parent!.without_rowid).toBe(true);
    expect(f.fts5.map((x) => x.name)).toEqual(["docs"]);
  });
});
