import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "libsql";
import { parse } from "yaml";
import { baselineDigest, baselineSql, keccakDigestHex, loadManifest } from "../../src/schema/manifest.js";
import { loadPolicy } from "../../src/schema/contract.js";
import { checkDrift } from "../../src/schema/drift.js";
import { baselineCatalog } from "../../src/db/catalog.js";
import { splitSql } from "../../src/db/sqlsplit.js";
import { ROOT } from "../helpers.js";

// Seed 002 (Codex schema domains), seed 000 and the contract's Stage 4, the sidecar's tables and our own.
const REQUIRED: Record<string, string[]> = {
  core_cas: ["objects", "names", "causal", "metadata"],
  packages: ["packages", "package_deps"],
  workflows: ["execution_log", "scheduled", "components"],
  context_memory: ["memories", "session_turns", "builder_sessions", "agent_sessions", "agent_events", "a2a_messages", "cost_records", "agent_metrics"],
  skills: ["skill_manifests"],
  docs_knowledge: ["knowledge_nodes", "knowledge_edges", "snippets"],
  embeddings: ["embeddings"],
  ops_training: ["llm_interactions", "llm_feedback", "research_metrics", "eval_runs", "typed_stream_events", "populi_reviews"],
  users_marketplace: ["users", "user_preferences", "behavior_events", "learned_patterns", "artifacts", "artifact_reviews", "agents"],
  user_chat: ["conversations", "conversation_messages"],
  tool_calls: ["conversation_tool_calls"],
  usage_governance: ["usage_limit_definitions", "usage_counter_snapshots"],
  topics: ["topics", "conversation_topics", "conversation_message_topics"],
  routing_calibration: ["agent_reliability"],
  search_ingest: ["search_documents", "search_document_chunks", "search_indexing_jobs"],
  codex_reactivity: ["codex_schema_lineage", "codex_change_log", "codex_subscriptions", "codex_query_snapshots", "codex_projection_versions"],
  processing_audit: ["processing_runs", "processing_run_steps", "audit_log"],
  conversation_graph: ["research_sessions", "conversation_versions", "conversation_edges", "topic_evolution_events"],
  publication_news: ["published_news", "publication_manifests", "publication_approvals", "publication_attempts", "news_publish_attempts", "news_publish_approvals"],
  training_telemetry: ["training_runs", "training_step_metrics", "training_telemetry_events"],
  cutover_meta: ["schema_version", "cutover_ledger", "legacy_quarantine"],
};

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

describe("baseline schema", () => {
  const m = loadManifest();
  const sql = baselineSql(m.fragments);
  const cat = baselineCatalog(sql);
  const names = new Set(cat.map((t) => t.name));

  it.each(Object.entries(REQUIRED))("domain %s has its fragment and every table", (domain, tables) => {
    const frag = m.fragments.find((f) => f.domain === domain);
    expect(frag, `fragment for ${domain}`).toBeDefined();
    for (const t of tables) {
      expect(names.has(t), `${domain}.${t}`).toBe(true);
      expect(frag!.sql).toContain(`CREATE TABLE IF NOT EXISTS ${t} (`);
    }
  });

  it("has FTS5 over search chunks and knowledge, AUTOINCREMENT sequences and WITHOUT ROWID tables", () => {
    expect(cat.filter((t) => t.virtual).map((t) => t.name).sort()).toEqual(["knowledge_fts", "search_chunks_fts"]);
    expect(cat.find((t) => t.name === "search_chunks_fts")!.sql).toMatch(/fts5/i);
    expect(cat.filter((t) => t.autoincrement).length).toBeGreaterThan(20);
    expect(cat.filter((t) => t.withoutRowid).map((t) => t.name)).toEqual(expect.arrayContaining(["names", "package_deps", "conversation_topics", "usage_counter_snapshots"]));
  });

  it("schema_version and legacy_quarantine have the contract's shape", () => {
    const sv = cat.find((t) => t.name === "schema_version")!;
    expect(sv.columns.map((c) => [c.name, c.type, c.pk])).toEqual([["version", "INTEGER", 1], ["applied_at", "TEXT", 0]]);
    const q = cat.find((t) => t.name === "legacy_quarantine")!;
    expect(q.columns.map((c) => c.name)).toEqual(expect.arrayContaining(["source_table", "source_rowid", "row_json", "reason"]));
  });

  it("every statement is idempotent: the baseline runs twice on one file without error", () => {
    const stmts = splitSql(sql);
    for (const s of stmts) expect(s).toMatch(/^CREATE (TABLE|INDEX|VIRTUAL TABLE|TRIGGER) IF NOT EXISTS /);
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
