/**
 * A backup's own legacy_quarantine whose id is not its rowid (`id INT PRIMARY KEY`: an id column of its own):
 * its rows keep their ids when the import's own rows (a dropped column's values, written first) took them
 * (quarantine-writer.ts makeRoom moves the row on the id the INSERT gives, not the one on the backup's rowid).
 * Judged with the sqlite3 CLI.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { cli, sampleInto, sqlite, tmp } from "../helpers.js";

describe("import-legacy: a backup's legacy_quarantine with an id column apart from its rowid", () => {
  it("every backup row keeps its id and bytes; none is moved or quarantined again", async () => {
    const { dir, db } = await sampleInto(tmp(), 12);
    sqlite(
      db,
      `CREATE TABLE legacy_quarantine (id INT PRIMARY KEY, source_table TEXT NOT NULL, source_rowid INTEGER, source_key TEXT, row_json TEXT NOT NULL, reason TEXT NOT NULL, run_id TEXT, quarantined_at TEXT);
       INSERT INTO legacy_quarantine(rowid, id, source_table, source_rowid, source_key, row_json, reason, run_id, quarantined_at) VALUES
         (1, 20, 'notes', 1, '[1]', '{"a":1}', 'unknown-table: notes', 'r0', 't'),
         (2, 21, 'notes', 2, '[2]', '{"a":2}', 'unknown-table: notes', 'r0', 't'),
         (20, 3, 'notes', 3, '[3]', '{"a":3}', 'unknown-table: notes', 'r0', 't');
       ALTER TABLE agents ADD COLUMN extra TEXT; UPDATE agents SET extra = 'e' || rowid;`,
    );
    const backup = join(dir, "b.jsonl");
    const e = await cli(["export-legacy", backup, "--db", db]);
    expect(e.exitCode, e.stderr).toBe(0);
    const target = join(dir, "new.db");
    const r = await cli(["import-legacy", backup, "--db", target, "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    // agents' 12 rows' values took ids 1–12 first; the backup's row on 3 moved that one, not its row on id 20 (rowid 1).
    const cols = "id, typeof(id), hex(source_table), quote(source_rowid), hex(source_key), hex(row_json), hex(reason), run_id, quarantined_at";
    expect(sqlite(target, `SELECT ${cols} FROM legacy_quarantine WHERE run_id = 'r0' ORDER BY id`)).toBe(
      sqlite(db, `SELECT ${cols} FROM legacy_quarantine ORDER BY id`),
    );
    expect(sqlite(target, "SELECT count(*) FROM legacy_quarantine WHERE source_table = 'legacy_quarantine'")).toBe("0");
    expect(r.json.tables.find((t: any) => t.name === "legacy_quarantine")).toMatchObject({ loaded: 3, quarantined: 0 });
    expect(sqlite(target, "SELECT count(*) FROM legacy_quarantine WHERE source_table = 'agents'")).toBe("12");
  });
});
