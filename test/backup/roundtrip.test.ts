import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "libsql";
import { cli, fixtureDb, baselineSqlText, sha3sum, snapshotDir, sqlite, tmp } from "../helpers.js";
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
    expect(exp.json.tables.map((t: any) => t.name)).toEqual(expect.arrayContaining([...TORTURE_TABLES, "notes_fts", "sqlite_sequence"]));
    expect(exp.json.tables.map((t: any) => t.name)).not.toContain("search_chunks_fts");
    expect(exp.json.tables.map((t: any) => t.name).some((n: string) => /_(data|idx|docsize|config|content)$/.test(n))).toBe(false);
    const ver = await cli(["verify-backup", p("b.jsonl"), "--db", p("src.db"), "--json"]);
    expect(ver.exitCode, ver.stderr).toBe(0);
    expect(ver.json.backup.verified).toBe(true);
    expect(ver.json.firstDifference).toBe(null);
    // the target: a current-baseline file with the same extra tables, empty
    const tgt = fixtureDb(p("dst.db"));
    tgt.exec(baselineSqlText());
    tgt.exec(TORTURE_DDL);
    tgt.exec("INSERT INTO schema_version VALUES (60, 'x')");
    tgt.close();
    const imp = await cli(["import-legacy", p("b.jsonl"), "--db", p("dst.db"), "--apply", "--json"]);
    expect(imp.exitCode, imp.stderr).toBe(0);
    expect(imp.json.quarantined).toBe(0);
    for (const t of [...TORTURE_TABLES, "search_documents", "search_document_chunks", "schema_version"]) {
      expect(sha3sum(p("dst.db"), t), t).toBe(sha3sum(p("src.db"), t));
    }
    // rowids of rowid tables without an INTEGER PRIMARY KEY
    expect(sqlite(p("dst.db"), "SELECT group_concat(rowid) FROM plain")).toBe(sqlite(p("src.db"), "SELECT group_concat(rowid) FROM plain"));
    expect(sqlite(p("dst.db"), "SELECT _rowid_, rowid FROM shadow_rowid")).toBe(sqlite(p("src.db"), "SELECT _rowid_, rowid FROM shadow_rowid"));
    // storage classes, seen by the independent checker
    const q = "SELECT rowid, typeof(a), quote(a) FROM plain ORDER BY rowid";
    expect(sqlite(p("dst.db"), q)).toBe(sqlite(p("src.db"), q));
    // and by value, including -0.0, 2^63-1 and a 70 kB blob
    const a = typedRows(p("src.db"), "SELECT rowid, a FROM plain ORDER BY rowid");
    const b = typedRows(p("dst.db"), "SELECT rowid, a FROM plain ORDER BY rowid");
    expect(b).toEqual(a);
    expect(b.map((r) => r[1])).toEqual(VALUES);
    expect(Object.is(b.find((r) => Object.is(r[1], -0))?.[1], -0)).toBe(true);
    expect(sqlite(p("dst.db"), "SELECT seq FROM sqlite_sequence WHERE name = 'autoinc'")).toBe("30");
    // FTS: the content-bearing table came through its rows; the external-content index was rebuilt
    expect(sqlite(p("dst.db"), "SELECT count(*) FROM notes_fts WHERE notes_fts MATCH 'survives'")).toBe("1");
    expect(sqlite(p("dst.db"), "SELECT count(*) FROM search_chunks_fts WHERE search_chunks_fts MATCH 'quarantine'")).toBe("20");
    expect(sqlite(p("dst.db"), "PRAGMA integrity_check")).toBe("ok");
  });

  it("the backup is JSONL a person can read, with header, sections and trailer", () => {
    const lines = readFileSync(p("b.jsonl"), "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
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

describe("a legacy database from sample", () => {
  it("every row is imported or quarantined, counted, and unchanged tables are exact", async () => {
    const d = tmp();
    await cli(["sample", join(d, "vox.db"), "--rows", "40"]);
    expect((await cli(["export-legacy", join(d, "b.jsonl"), "--db", join(d, "vox.db")])).exitCode).toBe(0);
    const imp = await cli(["import-legacy", join(d, "b.jsonl"), "--db", join(d, "new.db"), "--apply", "--json"]);
    expect(imp.exitCode, imp.stderr).toBe(0);
    let quarantinedRows = 0;
    for (const t of imp.json.tables) {
      if (t.name === "sqlite_sequence") continue;
      expect(t.loaded + t.quarantined, t.name).toBe(t.rows);
      quarantinedRows += t.quarantined;
    }
    const copies = imp.json.tables.reduce((n: number, t: any) => n + (t.reasons["unknown-columns"] ?? 0), 0);
    expect(Number(sqlite(join(d, "new.db"), "SELECT count(*) FROM legacy_quarantine"))).toBe(quarantinedRows + copies);
    const byName = Object.fromEntries(imp.json.tables.map((t: any) => [t.name, t]));
    expect(byName.gamify_badges.quarantined).toBe(byName.gamify_badges.rows);
    expect(byName.routing_scores.target).toBe("agent_reliability");
    expect(byName.routing_scores.loaded).toBe(byName.routing_scores.rows);
    expect(byName.artifact_reviews.reasons.constraint).toBe(1);
    expect(byName.schema_version.reasons["legacy-schema-version"]).toBe(19);
    expect(copies).toBeGreaterThan(0);
    // the quarantined rows are type-faithful JSON
    const row = JSON.parse(sqlite(join(d, "new.db"), "SELECT row_json FROM legacy_quarantine WHERE reason LIKE 'unknown-columns%' AND row_json LIKE '%9007199254740993%' LIMIT 1"));
    expect(row.karma).toEqual({ i: "9007199254740993" });
    expect(sqlite(join(d, "new.db"), "SELECT group_concat(version) FROM schema_version")).toBe("60");
    expect((await cli(["verify", "--db", join(d, "new.db")])).exitCode).toBe(0);
    for (const t of ["embeddings", "names", "search_document_chunks", "knowledge_nodes", "objects", "package_deps", "news_publish_attempts"]) {
      expect(sha3sum(join(d, "new.db"), t), t).toBe(sha3sum(join(d, "vox.db"), t));
    }
    // the legacy renamed table's values, mapped column by column
    expect(sqlite(join(d, "new.db"), "SELECT agent_id, successes FROM agent_reliability ORDER BY agent_id LIMIT 1")).toBe(sqlite(join(d, "vox.db"), "SELECT agent, wins FROM routing_scores ORDER BY agent LIMIT 1"));
  });

  it("import-legacy dry-run shows per table what apply would clear and load, and creates nothing", async () => {
    const d = tmp();
    await cli(["sample", join(d, "vox.db"), "--rows", "10"]);
    await cli(["export-legacy", join(d, "b.jsonl"), "--db", join(d, "vox.db")]);
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
    expect(sqlite(join(d, "new.db"), "SELECT count(*) FROM legacy_quarantine")).toBe(String(app.json.quarantined + app.json.tables.reduce((n: number, t: any) => n + (t.reasons["unknown-columns"] ?? 0), 0)));
  });
});
