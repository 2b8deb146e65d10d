import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "libsql";
import { parse } from "yaml";
import { baselineDigest, baselineSql, keccakDigestHex, loadManifest } from "../../src/schema/manifest.js";
import { loadPolicy } from "../../src/schema/contract.js";
import { checkDrift } from "../../src/schema/drift.js";
import { readFacts, type SchemaFacts } from "../../src/schema/facts.js";
import { compareFacts, structureFingerprint } from "../../src/schema/compare.js";
import { splitSql } from "../../src/db/sqlsplit.js";
import { ROOT } from "../helpers.js";

describe("Keccak-256 digest", () => {
  it("matches independently known Keccak-256 vectors (not FIPS SHA3)", () => {
    expect(keccakDigestHex("")).toBe("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    expect(keccakDigestHex("abc")).toBe("0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    // SHA3-256("abc") would be 3a985da7…; make sure we are not computing that.
    expect(keccakDigestHex("abc")).not.toContain("3a985da74fe225b2");
  });

  it("builds the baseline SQL exactly as the contract defines it", () => {
    expect(baselineSql([{ sql: "  A;\n" }, { sql: "\n\n" }, { sql: "B;" }])).toBe("A;\n\nB;\n");
    expect(baselineSql([{ sql: "" }])).toBe("\n");
  });

  it("the contract's digest and integer equal the ones computed from the fragments (a fragment change without the contract fails here)", () => {
    const m = loadManifest();
    const p = loadPolicy();
    expect(p.baselineInteger).toBe(m.baselineVersion);
    expect(p.digestHex).toBe(baselineDigest(m));
    expect(checkDrift(m, p).ok).toBe(true);
    const text = m.fragments.map((f) => readFileSync(join(ROOT, "schema", f.file), "utf8").trim()).filter(Boolean).join("\n\n") + "\n";
    expect(keccakDigestHex(text)).toBe(p.digestHex);
  });

  it("the policy YAML has the contract's keys", () => {
    const raw = parse(readFileSync(join(ROOT, "contracts/db/baseline-version-policy.yaml"), "utf8"));
    expect(Object.keys(raw).sort()).toEqual(["baseline_history", "digest_source", "repository_baseline_digest_hex", "repository_baseline_integer"]);
    expect(raw.baseline_history).not.toContain(raw.repository_baseline_integer);
  });
});

describe("baseline schema = vox baseline 66, exactly", () => {
  const m = loadManifest();
  const sql = baselineSql(m.fragments);
  const want = JSON.parse(readFileSync(join(ROOT, "schema/vox-reference/schema-66.json"), "utf8")) as SchemaFacts;
  const db = new Database(":memory:");
  db.defaultSafeIntegers(true);
  db.exec(sql);
  const got = readFacts(db, { seedRows: true });
  const own = readFacts(db, { includeOwn: true });
  db.close();

  it("has every table of vox 66 and no table of its own design besides cutover_ledger and legacy_quarantine", () => {
    expect(Object.keys(got.tables).sort()).toEqual(Object.keys(want.tables).sort());
    expect(Object.keys(own.tables).filter((t) => !(t in want.tables)).sort()).toEqual(["cutover_ledger", "legacy_quarantine"]);
    expect(Object.keys(want.tables)).toHaveLength(189);
  });

  it.each(Object.keys(want.tables))("%s: columns (name, type, NOT NULL, default, key position), keys, unique sets, foreign keys, indexes, seed rows", (name) => {
    const g = got.tables[name]!;
    const w = want.tables[name]!;
    expect(g.columns).toEqual(w.columns);
    expect(!!g.without_rowid).toBe(!!w.without_rowid);
    expect(!!g.autoincrement).toBe(!!w.autoincrement);
    expect((g.unique ?? []).map((u) => u.join(",")).sort()).toEqual((w.unique ?? []).map((u) => u.join(",")).sort());
    const fk = (f: { from: string; table: string; to: string; on_delete: string; on_update: string }) => [f.from, f.table, f.to, f.on_delete, f.on_update].join("|");
    expect((g.foreign_keys ?? []).map(fk).sort()).toEqual((w.foreign_keys ?? []).map(fk).sort());
    const idx = (i: { name: string; unique: boolean; columns: string[]; desc?: boolean[]; where?: string }) => JSON.stringify([i.name, i.unique, i.columns, i.desc ?? null, i.where ?? null]);
    expect((g.indexes ?? []).map(idx).sort()).toEqual((w.indexes ?? []).map(idx).sort());
    expect(g.seed_rows ?? null).toEqual(w.seed_rows ?? null);
  });

  it("has both FTS5 tables with vox's options and their AFTER INSERT/DELETE/UPDATE sync triggers", () => {
    expect(got.fts5).toEqual(want.fts5);
    const d2 = new Database(":memory:");
    d2.exec(sql);
    const triggers = d2.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name").all().map((r: any) => r.name);
    expect(triggers).toEqual(["knowledge_nodes_fts_ad", "knowledge_nodes_fts_ai", "knowledge_nodes_fts_au", "search_document_chunks_fts_ad", "search_document_chunks_fts_ai", "search_document_chunks_fts_au"]);
    // The triggers keep the index in sync: insert, update, delete.
    d2.exec("INSERT INTO knowledge_nodes (id, label, content) VALUES ('k1', 'alpha', 'first words')");
    expect(d2.prepare("SELECT id FROM knowledge_nodes_fts WHERE knowledge_nodes_fts MATCH 'first'").all()).toEqual([{ id: "k1" }]);
    d2.exec("UPDATE knowledge_nodes SET content = 'second words' WHERE id = 'k1'");
    expect(d2.prepare("SELECT id FROM knowledge_nodes_fts WHERE knowledge_nodes_fts MATCH 'first'").all()).toEqual([]);
    d2.exec("DELETE FROM knowledge_nodes WHERE id = 'k1'");
    expect(d2.prepare("SELECT id FROM knowledge_nodes_fts WHERE knowledge_nodes_fts MATCH 'second'").all()).toEqual([]);
    d2.close();
  });

  it("its structure fingerprint equals the facts' (the check diagnose and verify make)", () => {
    const c = compareFacts(got, want);
    expect(c.equal).toBe(true);
    expect(c.diffs).toEqual([]);
    expect(c.fingerprint).toBe(structureFingerprint(want));
  });

  it("schema_version has vox's shape and the policy integer is vox's", () => {
    expect(got.tables.schema_version!.columns).toEqual([
      { name: "version", type: "INTEGER", notnull: false, default: null, pk: 1 },
      { name: "applied_at", type: "TEXT", notnull: true, default: "datetime('now')", pk: 0 },
    ]);
    expect(m.baselineVersion).toBe(66);
    expect(loadPolicy().history).toEqual([1, 33, 35, 37, 38, 40, 41, 42, 59, 60, 61, 62, 63, 64]);
    expect(m.foldSteps).toEqual([]);
  });

  it("every statement is idempotent: the baseline runs twice on one file without error", () => {
    const stmts = splitSql(sql);
    for (const s of stmts) expect(s).toMatch(/^(CREATE (TABLE|INDEX|UNIQUE INDEX|VIRTUAL TABLE|TRIGGER) IF NOT EXISTS |INSERT OR IGNORE INTO )/);
    const db = new Database(":memory:");
    db.exec(sql);
    db.exec(sql);
    for (const s of stmts) db.exec(s);
    db.close();
  });

  it("splits triggers as one statement", () => {
    const parts = splitSql("CREATE TABLE a(x); -- c;\nCREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO a VALUES(';'); SELECT 1; END; CREATE INDEX i ON a(x);");
    expect(parts).toHaveLength(3);
    expect(parts[1]).toMatch(/^CREATE TRIGGER t .* END$/s);
  });
});
