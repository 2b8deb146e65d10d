import { beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "libsql";
import { cli, fixtureDb, baselineSqlText, sampleInto, sha3sums, snapshotDir, sqlite, tmp } from "../helpers.js";
import { makeTortureDb, TORTURE_DDL, TORTURE_TABLES, VALUES } from "../fixtures/torture.js";

let dir: string;
const p = (n: string) => join(dir, n);

beforeAll(() => {
  dir = tmp();
  makeTortureDb(p("src.db"));
});

function typedRows(path: string, sql: string): unknown[][] {
  const db = new Database(`file:${path}?mode=ro`);
  db.defaultSafeIntegers(true);
  const st = db.prepare(sql);
  st.raw(true);
  const rows = st.all() as unknown[][];
  db.close();
  return rows.map((r) => r.map((v) => (v instanceof ArrayBuffer || v instanceof Uint8Array ? new Uint8Array(v as ArrayBuffer) : v)));
}

describe("round trip: export → verify → import is exact", () => {
  it("every unchanged-shape table has the same sqlite3 .sha3sum; rowids, storage classes and sqlite_sequence survive", async () => {
    const exp = await cli(["export-legacy", p("b.jsonl"), "--db", p("src.db"), "--json"]);
    expect(exp.exitCode, exp.stderr).toBe(0);
    expect(exp.json.tables.map((t: any) => t.name)).toEqual(expect.arrayContaining([...TORTURE_TABLES, "notes_fts"]));
    // sqlite_sequence is carried, and counted apart from the table rows
    expect(exp.json.tables.map((t: any) => t.name)).not.toContain("sqlite_sequence");
    expect(exp.json.sequences).toBe(Number(sqlite(p("src.db"), "SELECT count(*) FROM sqlite_sequence")));
    expect(exp.json.tables.map((t: any) => t.name)).not.toContain("search_document_chunks_fts");
    // no shadow table (as sqlite3 reports them), and an ordinary table is kept whatever its name
    const shadows = sqlite(p("src.db"), "SELECT name FROM pragma_table_list WHERE type = 'shadow'").split("\n");
    expect(shadows).toContain("notes_fts_data");
    expect(exp.json.tables.map((t: any) => t.name).filter((n: string) => shadows.includes(n))).toEqual([]);
    expect(exp.json.tables.map((t: any) => t.name)).toContain("account_config");
    const ver = await cli(["verify-backup", p("b.jsonl"), "--db", p("src.db"), "--json"]);
    expect(ver.exitCode, ver.stderr).toBe(0);
    expect(ver.json.backup.verified).toBe(true);
    expect(ver.json.firstDifference).toBe(null);
    // the target: a current-baseline file with the same extra tables, empty
    const tgt = fixtureDb(p("dst.db"));
    tgt.exec(baselineSqlText());
    tgt.exec(TORTURE_DDL);
    tgt.exec("INSERT INTO schema_version VALUES (66, 'x')");
    tgt.close();
    const imp = await cli(["import-legacy", p("b.jsonl"), "--db", p("dst.db"), "--apply", "--json"]);
    expect(imp.exitCode, imp.stderr).toBe(0);
    expect(imp.json.quarantined).toBe(0);
    const hashed = [...TORTURE_TABLES, "search_documents", "search_document_chunks", "schema_version"];
    const [dst, src] = [sha3sums(p("dst.db"), hashed), sha3sums(p("src.db"), hashed)]; // one sqlite3 process per file
    hashed.forEach((t, i) => expect(dst[i], t).toBe(src[i]));
    // rowids of rowid tables without an INTEGER PRIMARY KEY
    expect(sqlite(p("dst.db"), "SELECT group_concat(rowid) FROM plain")).toBe(sqlite(p("src.db"), "SELECT group_concat(rowid) FROM plain"));
    expect(sqlite(p("dst.db"), "SELECT _rowid_, rowid FROM shadow_rowid")).toBe(sqlite(p("src.db"), "SELECT _rowid_, rowid FROM shadow_rowid"));
    // storage classes and exact bytes, seen by the independent checker
    const q = "SELECT rowid, typeof(a), quote(a) FROM plain ORDER BY rowid";
    expect(sqlite(p("dst.db"), q)).toBe(sqlite(p("src.db"), q));
    const tq = "SELECT id, typeof(t), hex(t), typeof(u), hex(u) FROM texts ORDER BY id";
    expect(sqlite(p("dst.db"), tq)).toBe(sqlite(p("src.db"), tq));
    expect(sqlite(p("dst.db"), "SELECT hex(t) FROM texts WHERE id = 1")).toBe("6B6565700074686973");
    // and by value, including -0.0, 2^63-1 and a 70 kB blob
    const a = typedRows(p("src.db"), "SELECT rowid, a FROM plain ORDER BY rowid");
    const b = typedRows(p("dst.db"), "SELECT rowid, a FROM plain ORDER BY rowid");
    expect(b).toEqual(a);
    expect(b.map((r) => r[1])).toEqual(VALUES);
    expect(Object.is(b.find((r) => Object.is(r[1], -0))?.[1], -0)).toBe(true);
    expect(sqlite(p("dst.db"), "SELECT seq FROM sqlite_sequence WHERE name = 'autoinc'")).toBe("30");
    // FTS: the content-bearing table came through its rows; the external-content index was rebuilt
    expect(sqlite(p("dst.db"), "SELECT count(*) FROM notes_fts WHERE notes_fts MATCH 'survives'")).toBe("1");
    expect(sqlite(p("dst.db"), "SELECT count(*) FROM search_document_chunks_fts WHERE search_document_chunks_fts MATCH 'quarantine'")).toBe("20");
    expect(sqlite(p("dst.db"), "PRAGMA integrity_check")).toBe("ok");
  });

  it("the backup is JSONL a person can read, with header, sections and trailer", () => {
    const lines = readFileSync(p("b.jsonl"), "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ k: "header", format: "vox-cutover-backup", version: 1, chain: "current" });
    expect(lines[0].tables.find((t: any) => t.name === "plain").sql).toMatch(/^CREATE TABLE plain/);
    expect(lines.at(-1)).toMatchObject({ k: "trailer" });
    expect(lines.at(-1).fileSha256).toMatch(/^[0-9a-f]{64}$/);
    const text = readFileSync(p("b.jsonl"), "utf8");
    expect(text).toContain('"base64:SGVsbG8="'); // text that looks like base64 stays text
    expect(text).toContain('{"i":"9223372036854775807"}');
    expect(text).toContain('{"r":3}');
    expect(text).toContain('{"r":"-0"}');
    expect(text).toContain('{"b":"AAEC/w=="}');
  });
});

/**
 * The worker's 10-row sample (copied) and its export-legacy --json, made once on first use and read by
 * both tests below (the second copies the backup into its own folder), so either also runs alone.
 */
let exported: Promise<{ d: string; exp: Awaited<ReturnType<typeof cli>> }> | undefined;
function sampleExported() {
  exported ??= (async () => {
    const d = tmp();
    await sampleInto(d, 10);
    const exp = await cli(["export-legacy", join(d, "b.jsonl"), "--db", join(d, "vox.db"), "--json"]);
    return { d, exp };
  })();
  return exported;
}

describe("a legacy database from sample", () => {
  it("every row is imported or quarantined, counted, and unchanged tables are exact", async () => {
    const { d, exp } = await sampleExported();
    expect(exp.exitCode, exp.stderr).toBe(0);
    const imp = await cli(["import-legacy", join(d, "b.jsonl"), "--db", join(d, "new.db"), "--apply", "--json"]);
    expect(imp.exitCode, imp.stderr).toBe(0);
    // the same counting rule on both sides: table rows without sqlite_sequence, which is counted apart
    expect(imp.json.totalRows).toBe(exp.json.totalRows);
    let quarantinedRows = 0;
    for (const t of imp.json.tables) {
      if (t.name === "sqlite_sequence") continue;
      expect(t.loaded + t.quarantined, t.name).toBe(t.rows);
      quarantinedRows += t.quarantined;
    }
    expect(Number(sqlite(join(d, "new.db"), "SELECT count(*) FROM legacy_quarantine"))).toBeGreaterThanOrEqual(quarantinedRows);
    expect((await cli(["verify", "--db", join(d, "new.db")])).exitCode).toBe(0);
    // a table loaded whole into a table of the same shape is byte-identical (sqlite3 .sha3sum); "hash" parity also
    // names a table the baseline widened, proven on the backup's columns: the same columns in both files tell them apart
    const columns = (db: string) =>
      new Map(
        sqlite(db, "SELECT m.name || ' ' || group_concat(c.name, ',') FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table' GROUP BY m.name")
          .split("\n")
          .map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)] as const),
      );
    const [newCols, oldCols] = [columns(join(d, "new.db")), columns(join(d, "vox.db"))];
    const hashed = imp.json.tables.filter(
      (t: any) => t.parity === "hash" && t.quarantined === 0 && t.name !== "schema_version" && t.name !== "sqlite_sequence",
    );
    const same = hashed.filter((t: any) => newCols.get(t.name) === oldCols.get(t.name));
    expect(hashed.length - same.length, "the widened tables the sample has (agent_sessions, cost_records, …)").toBeGreaterThan(0);
    expect(same.length).toBeGreaterThan(10);
    const names: string[] = same.map((t: any) => t.name);
    const [got, want] = [sha3sums(join(d, "new.db"), names), sha3sums(join(d, "vox.db"), names)]; // one sqlite3 process per file
    names.forEach((t, i) => expect(got[i], t).toBe(want[i]));
  });

  it("import-legacy dry-run shows per table what apply would clear and load, and creates nothing", async () => {
    const from = await sampleExported();
    expect(from.exp.exitCode, from.exp.stderr).toBe(0);
    const d = tmp();
    copyFileSync(join(from.d, "b.jsonl"), join(d, "b.jsonl"));
    const before = snapshotDir(d);
    const dry = await cli(["import-legacy", join(d, "b.jsonl"), "--db", join(d, "new.db"), "--json"]);
    expect(dry.exitCode).toBe(0);
    expect(dry.json.mode).toBe("dry-run");
    expect(snapshotDir(d)).toEqual(before);
    const app = await cli(["import-legacy", join(d, "b.jsonl"), "--db", join(d, "new.db"), "--apply", "--plan", dry.json.planDigest, "--json"]);
    expect(app.exitCode, app.stderr).toBe(0);
    expect(app.json.tables.map((t: any) => [t.name, t.loaded, t.quarantined])).toEqual(dry.json.tables.map((t: any) => [t.name, t.loaded, t.quarantined]));
    // a second import into the now non-empty target: replace semantics, same counts, cleared = what is there
    const again = await cli(["import-legacy", join(d, "b.jsonl"), "--db", join(d, "new.db"), "--json"]);
    const users = again.json.tables.find((t: any) => t.name === "users");
    expect(users.cleared).toBe(users.loaded);
    const app2 = await cli(["import-legacy", join(d, "b.jsonl"), "--db", join(d, "new.db"), "--apply", "--json"]);
    expect(app2.exitCode).toBe(0);
    expect(sqlite(join(d, "new.db"), "SELECT count(*) FROM legacy_quarantine")).toBe(
      String(app.json.quarantined + app.json.tables.reduce((n: number, t: any) => n + (t.reasons["unknown-columns"] ?? 0), 0)),
    );
  });
});
