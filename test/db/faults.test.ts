/**
 * Which failed INSERT is a row the table refused (quarantined, the transaction going on) and which
 * must stop the write (src/db/faults.ts rowRefusedBy), told by SQLite's own result code on real
 * libsql errors: a STRICT column's refusal comes as `UNKNOWN_SQLITE_ERROR_3091` and is still a
 * constraint; a full file (max_page_count) and a RAISE(ROLLBACK), which ends the transaction, are not.
 */
import { describe, expect, it } from "vitest";
import Database from "libsql";
import { rowRefusedBy } from "../../src/db/faults.js";

function failure(db: InstanceType<typeof Database>, sql: string): unknown {
  try {
    db.exec(sql);
  } catch (e) {
    return e;
  }
  throw new Error(`no failure: ${sql}`);
}

describe("rowRefusedBy", () => {
  const db = new Database(":memory:");
  db.exec(`CREATE TABLE s (a INTEGER) STRICT;
    CREATE TABLE u (a UNIQUE, j TEXT CHECK (json_extract(j, '$.x') IS NOT NULL OR j IS NULL));
    CREATE TABLE k (a INTEGER PRIMARY KEY);
    CREATE TABLE r (a); CREATE TRIGGER rr BEFORE INSERT ON r BEGIN SELECT RAISE(ROLLBACK, 'no'); END;
    INSERT INTO u(a) VALUES (1);
    BEGIN`);

  it("a constraint (UNIQUE, a STRICT column's type) and a datatype mismatch, the transaction open", () => {
    const strict = failure(db, "INSERT INTO s VALUES ('abc')") as { code: string };
    expect(strict.code).toBe("UNKNOWN_SQLITE_ERROR_3091");
    expect(rowRefusedBy(strict, db)).toBe("constraint");
    expect(rowRefusedBy(failure(db, "INSERT INTO u(a) VALUES (1)"), db)).toBe("constraint");
    expect(rowRefusedBy(failure(db, "INSERT INTO k VALUES ('x')"), db)).toBe("datatype-mismatch");
    expect(db.inTransaction).toBe(true);
  });

  it("an error evaluating the row (malformed JSON in a CHECK) only with `evaluation` (the sidecar's merge)", () => {
    const e = failure(db, "INSERT INTO u(a, j) VALUES (2, '{oops')");
    expect(rowRefusedBy(e, db)).toBeNull();
    expect(rowRefusedBy(e, db, true)).toBe("error");
  });

  it("a full file stops the write; so does a RAISE(ROLLBACK), which ended the transaction", () => {
    const small = new Database(":memory:");
    small.exec("CREATE TABLE f (b); BEGIN");
    small.exec(`PRAGMA max_page_count = ${Number((small.prepare("PRAGMA page_count").raw(true).get() as unknown[])[0]) + 1}`);
    const full = failure(small, "INSERT INTO f SELECT randomblob(100000)");
    expect(rowRefusedBy(full, small, true)).toBeNull();
    const rollback = failure(db, "INSERT INTO r VALUES (1)");
    expect(db.inTransaction).toBe(false);
    expect(rowRefusedBy(rollback, db, true)).toBeNull();
    expect(rowRefusedBy(new Error("not SQLite's"), { inTransaction: true }, true)).toBeNull();
  });
});
