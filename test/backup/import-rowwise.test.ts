/**
 * Import, row by row (contract: "The cutover", import paragraph): a vox-shaped legacy file whose rows
 * the baseline cannot all take never aborts the import; each misfit lands in legacy_quarantine with
 * its reason and key, every row is accounted for, and the baseline's seed rows stay.
 * The source is built from vox's own schema-60 facts (schema/vox-reference/schema-60.json), changed the way
 * real files differ; results are judged with the sqlite3 CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "libsql";
import { cli, countsOf, ROOT, rowCounts, sha3sums, sqlite } from "../helpers.js";
import { factsToFragments } from "../../src/schema/ddl.js";

let dir: string;
const p = (n: string) => join(dir, n);

function facts60(): any {
  return JSON.parse(readFileSync(join(ROOT, "schema", "vox-reference", "schema-60.json"), "utf8"));
}

/** A vox-60 file, changed as real files are: extra columns, looser constraints, other types, tables of their own. */
function makeSource(path: string): void {
  const f = facts60();
  const users = f.tables.users;
  users.columns.find((c: any) => c.name === "display_name").notnull = false; // vox 66 says NOT NULL
  users.columns.push({ name: "karma", type: "INTEGER", notnull: false, default: null, pk: 0 }); // vox 66 has no karma
  const emb = f.tables.embeddings; // vox 66: id INTEGER PRIMARY KEY AUTOINCREMENT
  emb.columns.find((c: any) => c.name === "id").type = "TEXT";
  emb.autoincrement = false;
  // shares no column with vox 66's usage_counter_snapshots
  f.tables.usage_counter_snapshots = {
    columns: [
      { name: "foo", type: "TEXT", notnull: false, default: null, pk: 0 },
      { name: "bar", type: "INTEGER", notnull: false, default: null, pk: 0 },
    ],
  };
  // objects without `kind` (vox 66: kind TEXT NOT NULL, no default)
  f.tables.objects.columns = f.tables.objects.columns.filter((c: any) => c.name !== "kind");
  // without vox 66's UNIQUE index on search_documents(source_uri)
  f.tables.search_documents.indexes = (f.tables.search_documents.indexes ?? []).filter((i: any) => !i.unique);
  const db = new Database(path);
  db.defaultSafeIntegers(true);
  for (const frag of factsToFragments(f)) for (const s of frag.statements) db.exec(s);
  db.exec(`
    CREATE TABLE gamify_badges (id INTEGER PRIMARY KEY AUTOINCREMENT, badge TEXT);
    -- cut over before (vox wrote ad-hoc rows since): the product's own quarantine, ids with a gap
    ${/CREATE TABLE IF NOT EXISTS legacy_quarantine \([^;]*\);/.exec(readFileSync(join(ROOT, "schema", "domains", "99_cutover_meta.sql"), "utf8"))![0]}
    INSERT INTO legacy_quarantine(id, source_table, source_rowid, source_key, row_json, reason, run_id, quarantined_at) VALUES
      (1, 'notes', 4, '[4]', '{"body":"caf\u00e9"}', 'unknown-table: the baseline has no table notes', 'r0', '2025-01-01T00:00:00Z'),
      (2, 'people', NULL, '["p9"]', '{"age":3}', 'unknown-columns: age', 'r0', '2025-01-01T00:00:00Z'),
      (7, 'notes', 9, '[9]', '{"body":null}', 'unknown-table: the baseline has no table notes', 'r0', '2025-01-01T00:00:00Z');
    INSERT INTO schema_version(version) VALUES (60), (100);
    INSERT INTO users(id, display_name, email, role, created_at, karma) VALUES
      ('u1', 'Ann', 'a@x', 'user', '2024-01-01', 47),
      ('u2', 'Bob', 'b@x', 'admin', '2024-01-02', NULL),
      ('u3', NULL, 'c@x', 'user', '2024-01-03', 5),
      ('u4', 'Dee', NULL, 'user', '2024-01-04', -9223372036854775808);
    INSERT INTO embeddings(id, source_type, source_id, dim, vector, created_at) VALUES
      (NULL, 'doc', 's1', 2, x'0001', '2024'),
      ('e-abc', 'doc', 's2', 2, x'0002', '2024'),
      ('17', 'doc', 's3', 2, x'0003', '2024');
    INSERT INTO usage_counter_snapshots(foo, bar) VALUES ('x', 1), ('y', 2);
    INSERT INTO objects(hash, data, created_at) VALUES ('h1', x'ff', '2024');
    INSERT INTO gamify_badges(badge) VALUES ('gold'), ('silver');
    INSERT INTO search_documents(id, source_uri, title) VALUES (1, 'file:a', 'first'), (2, 'file:a', 'second'), (3, 'file:b', 'third');
    INSERT INTO scheduled(function_hash, args, run_at) VALUES ('f1', x'00', '2024'), ('f2', NULL, '2024');
    DELETE FROM scheduled WHERE function_hash = 'f2';
    UPDATE developer_journey_steps SET step_json = '{"legacy":true}' WHERE ordinal = 1;
    DELETE FROM developer_journey_steps WHERE ordinal = 8;
  `);
  db.close();
}

function count(db: string, table: string, where = ""): number {
  return Number(sqlite(db, `SELECT count(*) FROM "${table}" ${where}`));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vox-test-import-rowwise-"));
  makeSource(p("src.db"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("import row by row into baseline 66", () => {
  let dry: any;
  let app: any;

  it("a dry-run then --apply --plan of a vox-shaped file with misfits: exit 0 both, the same per-table report", async () => {
    const exp = await cli(["export-legacy", p("b.jsonl"), "--db", p("src.db"), "--json"]);
    expect(exp.exitCode, exp.stderr).toBe(0);
    const d = await cli(["import-legacy", p("b.jsonl"), "--db", p("new.db"), "--json"]);
    expect(d.exitCode, d.stderr).toBe(0);
    dry = d.json;
    const a = await cli(["import-legacy", p("b.jsonl"), "--db", p("new.db"), "--apply", "--plan", dry.planDigest, "--json"]);
    expect(a.exitCode, a.stderr).toBe(0);
    app = a.json;
    const strip = (ts: any[]) => ts.map(({ cleared: _c, ...t }: any) => t);
    expect(strip(app.tables)).toEqual(strip(dry.tables));
    expect(app.quarantined).toBe(dry.quarantined);
  });

  it("parity: every row of the legacy file is loaded or quarantined whole, per table, and the quarantine holds what the report says", () => {
    const tables = app.tables.filter((t: any) => t.name !== "sqlite_sequence");
    // One sqlite3 process per file for all the counts (one line each, in order).
    const q = (t: string) => `'${t.replace(/'/g, "''")}'`;
    const srcCounts = rowCounts(
      p("src.db"),
      tables.map((t: any) => t.name),
    );
    const newCounts = countsOf(
      p("new.db"),
      tables.flatMap((t: any) => [
        `SELECT count(*) FROM legacy_quarantine WHERE source_table = ${q(t.name)} AND reason NOT LIKE 'unknown-columns%';`,
        t.target && t.target !== "schema_version" ? `SELECT count(*) FROM "${t.target}";` : "SELECT -1;",
      ]),
    );
    tables.forEach((t: any, i: number) => {
      expect(t.loaded + t.quarantined, t.name).toBe(srcCounts[i]);
      expect(newCounts[2 * i], t.name).toBe(t.quarantined);
      // legacy_quarantine: with the import's own rows (the next test).
      if (t.target && t.target !== "schema_version" && t.target !== "legacy_quarantine") expect(newCounts[2 * i + 1], t.name).toBe(t.loaded + t.seeded);
    });
    expect(app.totalRows).toBe(tables.reduce((n: number, t: any) => n + t.rows, 0));
    expect(sqlite(p("new.db"), "PRAGMA integrity_check")).toBe("ok");
  });

  it("users: TEXT ids load as TEXT; the NULL display_name row is quarantined whole (constraint); karma's values go to quarantine with the row's key", () => {
    expect(sqlite(p("new.db"), "SELECT group_concat(id || ':' || typeof(id), ',') FROM (SELECT id FROM users ORDER BY id)")).toBe("u1:text,u2:text,u4:text");
    expect(sqlite(p("new.db"), "SELECT reason FROM legacy_quarantine WHERE source_table = 'users' AND source_key = '[\"u3\"]'")).toMatch(
      /^constraint: NOT NULL constraint failed: users\.display_name/,
    );
    // the whole row is kept, karma included
    expect(JSON.parse(sqlite(p("new.db"), "SELECT row_json FROM legacy_quarantine WHERE source_table = 'users' AND source_key = '[\"u3\"]'"))).toMatchObject({
      id: "u3",
      display_name: null,
      karma: 5,
    });
    const karma = sqlite(
      p("new.db"),
      "SELECT source_key || ' ' || row_json FROM legacy_quarantine WHERE source_table = 'users' AND reason LIKE 'unknown-columns: karma%' ORDER BY source_key",
    ).split("\n");
    expect(karma).toEqual(['["u1"] {"karma":47}', '["u4"] {"karma":{"i":"-9223372036854775808"}}']);
    const u = app.tables.find((t: any) => t.name === "users");
    expect(u).toMatchObject({
      rows: 4,
      loaded: 3,
      quarantined: 1,
      partial: 2,
      columns: { karma: 2 },
      reasons: { constraint: 1 },
      partialReasons: { "unknown-columns": 2 },
    });
  });

  it("embeddings: TEXT into an INTEGER PRIMARY KEY is quarantined (datatype mismatch; numeric text that would change class: type-change), never aborting", () => {
    expect(sqlite(p("new.db"), "SELECT reason FROM legacy_quarantine WHERE source_table = 'embeddings' AND row_json LIKE '%e-abc%'")).toMatch(
      /^datatype-mismatch: /,
    );
    expect(sqlite(p("new.db"), "SELECT reason FROM legacy_quarantine WHERE source_table = 'embeddings' AND row_json LIKE '%\"id\":\"17\"%'")).toMatch(
      /^type-change: /,
    );
    expect(sqlite(p("new.db"), "SELECT source_id, typeof(id), hex(vector) FROM embeddings")).toBe("s1|integer|0001");
  });

  it("a row that breaks a UNIQUE index the legacy file lacked is quarantined (the index is kept during the load)", () => {
    expect(sqlite(p("new.db"), "SELECT group_concat(id || ':' || title) FROM (SELECT * FROM search_documents ORDER BY id)")).toBe("1:first,3:third");
    expect(sqlite(p("new.db"), "SELECT source_rowid, source_key, reason FROM legacy_quarantine WHERE source_table = 'search_documents'")).toBe(
      "2|[2]|constraint: UNIQUE constraint failed: search_documents.source_uri",
    );
    expect(sqlite(p("new.db"), "SELECT count(*) FROM sqlite_master WHERE name = 'idx_search_documents_uri'")).toBe("1");
  });

  it("tables with no place in 66 are quarantined whole with the reason: no namesake, no shared column, a NOT NULL column the legacy table never had", () => {
    const reasons = (t: string) =>
      sqlite(p("new.db"), `SELECT DISTINCT substr(reason, 1, instr(reason, ':') - 1) FROM legacy_quarantine WHERE source_table = '${t}'`);
    expect(reasons("gamify_badges")).toBe("unknown-table");
    expect(reasons("usage_counter_snapshots")).toBe("no-shared-column");
    expect(reasons("objects")).toBe("not-null-missing");
    expect(sqlite(p("new.db"), "SELECT reason FROM legacy_quarantine WHERE source_table = 'objects'")).toContain("objects.kind");
    expect(count(p("new.db"), "legacy_quarantine", "WHERE source_table = 'usage_counter_snapshots'")).toBe(2);
    // quarantined rows keep their key (rowid where the table has one) and their values exactly
    expect(
      sqlite(p("new.db"), "SELECT source_rowid, source_key, row_json FROM legacy_quarantine WHERE source_table = 'gamify_badges' ORDER BY source_rowid"),
    ).toBe('1|[1]|{"id":1,"badge":"gold"}\n2|[2]|{"id":2,"badge":"silver"}');
    expect(sqlite(p("new.db"), "SELECT row_json FROM legacy_quarantine WHERE source_table = 'objects'")).toBe(
      '{"rowid":1,"hash":"h1","data":{"b":"/w=="},"created_at":"2024"}',
    );
    // a table that loads nothing is not cleared
    expect(app.tables.find((t: any) => t.name === "objects").target).toBe(null);
  });

  it("schema_version: 60 (history) loads, the ad-hoc 100 is quarantined (legacy-schema-version); 66 is stamped", () => {
    expect(sqlite(p("new.db"), "SELECT group_concat(version) FROM (SELECT version FROM schema_version ORDER BY version)")).toBe("60,66");
    expect(sqlite(p("new.db"), "SELECT source_key, reason FROM legacy_quarantine WHERE source_table = 'schema_version'")).toMatch(
      /^\[100\]\|legacy-schema-version/,
    );
  });

  it("seed rows: a legacy row with the seed's key replaces it; a seed the legacy file lacks is kept", () => {
    expect(sqlite(p("new.db"), "SELECT step_json FROM developer_journey_steps WHERE ordinal = 1")).toBe('{"legacy":true}');
    expect(count(p("new.db"), "developer_journey_steps")).toBe(8);
    const steps = app.tables.find((t: any) => t.name === "developer_journey_steps");
    expect(steps).toMatchObject({ rows: 7, loaded: 7, seeded: 1 });
    expect(sqlite(p("new.db"), "SELECT step_id FROM developer_journey_steps WHERE ordinal = 8")).toBe("verify_ship");
  });

  it("a backup's own legacy_quarantine rows keep their ids and bytes though tables before it put rows there first; the import's own rows beside them", () => {
    // embeddings and gamify_badges come before legacy_quarantine in the backup: their rows took ids 1–4 first, and moved (makeRoom).
    const cols = "id, typeof(id), hex(source_table), quote(source_rowid), hex(source_key), hex(row_json), hex(reason), run_id, quarantined_at";
    expect(sqlite(p("new.db"), `SELECT ${cols} FROM legacy_quarantine WHERE run_id = 'r0' ORDER BY id`)).toBe(
      sqlite(p("src.db"), `SELECT ${cols} FROM legacy_quarantine ORDER BY id`),
    );
    const lq = app.tables.find((t: any) => t.name === "legacy_quarantine");
    expect([lq.loaded, lq.quarantined, lq.present]).toEqual([3, 0, 0]);
    // The rows this import quarantined are all there, beside them; none of the backup's was quarantined again.
    expect(count(p("new.db"), "legacy_quarantine", "WHERE run_id IS NOT 'r0'")).toBe(app.quarantined + app.partial + app.sequences.quarantined);
    expect(count(p("new.db"), "legacy_quarantine", "WHERE source_table = 'legacy_quarantine'")).toBe(0);
  });

  it("sqlite_sequence: carried for a table that loads, quarantined for one that does not, counted apart from rows", () => {
    expect(sqlite(p("new.db"), "SELECT seq FROM sqlite_sequence WHERE name = 'scheduled'")).toBe("2");
    expect(sqlite(p("new.db"), "SELECT source_key, reason FROM legacy_quarantine WHERE source_table = 'sqlite_sequence'")).toMatch(
      /^\["gamify_badges"\]\|sequence-not-carried/,
    );
    const entries = count(p("src.db"), "sqlite_sequence");
    expect(app.sequences).toEqual({ entries, restored: entries - 1, quarantined: 1 });
    const seq = app.tables.find((t: any) => t.name === "sqlite_sequence");
    expect(seq.loaded + seq.quarantined).toBe(entries);
  });
});

describe("a file shaped like vox 66", () => {
  it("imports with nothing quarantined; tables and seed rows equal to the source (sqlite3 .sha3sum)", async () => {
    const f = JSON.parse(readFileSync(join(ROOT, "schema", "vox-reference", "schema-66.json"), "utf8"));
    const db = new Database(p("v66.db"));
    for (const frag of factsToFragments(f)) for (const s of frag.statements) db.exec(s);
    db.exec(`
      INSERT INTO schema_version(version) VALUES (66);
      INSERT INTO users(id, display_name, email, role, created_at) VALUES ('u1', 'Ann', NULL, 'user', '2024'), ('u2', 'Bob', 'b@x', 'admin', '2024');
      INSERT INTO usage_counter_snapshots(metric_key, scope_kind, period_start, amount) VALUES ('m', 'user', '2024-01', 9007199254740993);
      INSERT INTO agent_reliability(agent_id, reliability) VALUES ('a', 0.75);
    `);
    db.close();
    const exp = await cli(["export-legacy", p("v66.jsonl"), "--db", p("v66.db")]);
    expect(exp.exitCode, exp.stderr).toBe(0);
    const r = await cli(["import-legacy", p("v66.jsonl"), "--db", p("v66-new.db"), "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.quarantined).toBe(0);
    expect(r.json.partial).toBe(0);
    expect(Number(sqlite(p("v66-new.db"), "SELECT count(*) FROM legacy_quarantine"))).toBe(0);
    const tables = ["users", "usage_counter_snapshots", "agent_reliability", "developer_journey_steps", "developer_journey_definitions", "schema_version"];
    const [got, want] = [sha3sums(p("v66-new.db"), tables), sha3sums(p("v66.db"), tables)]; // one sqlite3 process per file
    tables.forEach((t, i) => expect(got[i], t).toBe(want[i]));
    expect(r.json.seeded).toBe(0); // the legacy rows took every seed's key
  });
});
