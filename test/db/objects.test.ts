/**
 * A backup header's `objects` are input (anyone who can write the file can recompute its hashes): the
 * import creates each with exactly one CREATE statement of its own kind and name, or leaves it out with
 * the reason — never running anything else. Judged with SQLite itself (row counts, sqlite_master).
 */
import { describe, expect, it } from "vitest";
import Database from "libsql";
import { carryObjects, type FileObject } from "../../src/db/objects.js";

function target() {
  const db = new Database(":memory:");
  db.exec("CREATE TABLE q (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO q (v) VALUES ('kept'), ('kept too'); CREATE TABLE t (a, b)");
  db.exec("BEGIN");
  return db;
}

const names = (db: InstanceType<typeof Database>) =>
  (db.prepare("SELECT type, name FROM sqlite_master ORDER BY name").all() as { type: string; name: string }[]).map((r) => `${r.type} ${r.name}`);

describe("carryObjects runs one CREATE of the object's kind and name, nothing else", () => {
  it.each<[string, FileObject, RegExp]>([
    [
      "more statements after the CREATE",
      { type: "view", name: "zz", table: "zz", sql: "CREATE VIEW zz AS SELECT 1; DELETE FROM q; CREATE TABLE zz_pwned(a)" },
      /3 statements, not one CREATE VIEW/,
    ],
    ["a statement that is no CREATE", { type: "index", name: "i", table: "q", sql: "DELETE FROM q" }, /not a CREATE INDEX/],
    ["another kind than declared", { type: "index", name: "v", table: "q", sql: "CREATE VIEW v AS SELECT 1" }, /not a CREATE INDEX/],
    ["a TEMP object", { type: "view", name: "tv", table: "tv", sql: "CREATE TEMP VIEW tv AS SELECT 1" }, /not a CREATE VIEW/],
    ["another name than declared", { type: "view", name: "v1", table: "v1", sql: "CREATE VIEW other AS SELECT 1" }, /does not create the view v1/],
    ["an ATTACH", { type: "view", name: "a", table: "a", sql: "ATTACH DATABASE ':memory:' AS x" }, /not a CREATE VIEW/],
  ])("%s: left out with the reason, the file as it was", (_what, o, reason) => {
    const db = target();
    const before = names(db);
    const r = carryObjects(db, [o]);
    expect(r.carried).toEqual([]);
    expect(r.notCarried).toHaveLength(1);
    expect(r.notCarried[0]!.reason).toMatch(reason);
    expect(names(db)).toEqual(before);
    expect((db.prepare("SELECT count(*) AS n FROM q").get() as { n: number }).n).toBe(2);
    expect(db.prepare("PRAGMA database_list").all()).toHaveLength(1);
  });

  it("the operator's own objects are carried: a UNIQUE index, a view, a trigger whose body holds several statements", () => {
    const db = target();
    const own: FileObject[] = [
      { type: "index", name: "t_a", table: "t", sql: "CREATE UNIQUE INDEX t_a ON t(a)" },
      { type: "view", name: "t_v", table: "t_v", sql: "CREATE VIEW t_v AS SELECT a FROM t" },
      {
        type: "trigger",
        name: "t_log",
        table: "t",
        sql: "CREATE TRIGGER t_log AFTER INSERT ON t BEGIN INSERT INTO q (v) VALUES (new.a); UPDATE q SET v = v; END",
      },
    ];
    const r = carryObjects(db, own);
    expect(r.notCarried).toEqual([]);
    expect(r.carried.map((o) => o.name)).toEqual(["t_a", "t_v", "t_log"]);
    expect(names(db)).toEqual(["table q", "table t", "index t_a", "trigger t_log", "view t_v"]);
  });
});
