/**
 * The live database's hashes for verify-backup --db: a worker hashes tables in its read snapshot and
 * the main thread takes the ones left once it is free — only when `PRAGMA data_version` proves its
 * own snapshot is the same state. A real second process (Python's sqlite3) commits to every table
 * after the worker's snapshot opened: the main thread must then leave every table alone, and every
 * hash must be of one state (the worker hashes everything again alone: a worker's WAL snapshot was
 * seen to break under another process's commit while a main-thread connection is open).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { tmp } from "../helpers.js";
// The build: the worker runs from compiled files.
import { LiveHash } from "../../dist/src/backup/live-hash.js";
import { hashDatabase } from "../../dist/src/backup/tables.js";

let dir: string;
const TABLES = 16;

beforeAll(() => {
  dir = tmp();
  // Enough rows that the worker cannot hash every table before the main thread joins.
  const sql = ["PRAGMA journal_mode=wal;"];
  for (let t = 0; t < TABLES; t++) {
    sql.push(`CREATE TABLE t${t} (id INTEGER PRIMARY KEY, a TEXT, b REAL, c BLOB);`);
    sql.push(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) INSERT INTO t${t} SELECT i, 'row ' || i || ' é', i * 0.5, randomblob(8) FROM n;`,
    );
  }
  execFileSync("sqlite3", [join(dir, "src.db")], { input: sql.join("\n") });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function copyOf(name: string): string {
  const f = join(dir, name);
  copyFileSync(join(dir, "src.db"), f);
  return f;
}

describe("live hashes on two threads, one snapshot", () => {
  it("the main thread joins in when nothing was committed, and the hashes are the database's", async () => {
    const db = copyOf("quiet.db");
    const expected = hashDatabase(db);
    const live = new LiveHash(db, 0);
    await live.ready();
    await live.help();
    const got = await live.result;
    expect(live.helped).toBeGreaterThan(0);
    expect(got.sort((a, b) => a.name.localeCompare(b.name))).toEqual(expected.sort((a, b) => a.name.localeCompare(b.name)));
  });

  it("a commit after the worker's snapshot opened: the main thread hashes nothing, every hash is of one state", async () => {
    const db = copyOf("busy.db");
    const before = hashDatabase(db);
    const live = new LiveHash(db, 0);
    await live.ready();
    const updates = Array.from({ length: TABLES }, (_, t) => `UPDATE t${t} SET a = 'changed' WHERE id = 20000;`).join(" ");
    execFileSync("python3", [
      "-c",
      `import sqlite3,sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.executescript(sys.argv[2]); c.close()`,
      db,
      updates,
    ]);
    const after = hashDatabase(db);
    expect(after).not.toEqual(before); // the commit changed every table
    await live.help();
    const got = await live.result;
    expect(live.helped).toBe(0);
    expect(got.sort((a, b) => a.name.localeCompare(b.name))).toEqual(after.sort((a, b) => a.name.localeCompare(b.name)));
  });
});
