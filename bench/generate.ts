/**
 * A deterministic benchmark database: a legacy VoxDB on vox baseline 60's structure, so the cutover
 * is a real 60 → 66 rebuild and Stage 1 runs in full. scale 1 ≈ 1 GB / 1.1 M rows.
 *
 * - Tables, indexes and the two FTS5 tables with vox's sync triggers are built from vox's own schema
 *   facts (schema/vox-reference/schema-60.json, the one copy)
 *   with our DDL-from-facts: no invented column. The FTS triggers stay in place while rows go in, as
 *   vox leaves them, so knowledge_nodes_fts and search_document_chunks_fts hold a real index.
 * - `schema_version` rows 59 and 60 (baselines) and 100, 101 (the user's `apply_migrations`, which
 *   added an ad-hoc table and its index): the chain is `legacy`.
 * - Large TEXT (chat messages, chunk bodies, knowledge content) and BLOB (4 KB float vectors), many
 *   small rows (audit, change log, costs, counters), TEXT primary keys (users, knowledge_nodes,
 *   agent_sessions, publication_approvals' composite key), foreign keys pointing at existing rows,
 *   NOT NULL columns always filled, and the values real files hold: integers beyond 2^53, REAL 3.0
 *   and 1e-7, NULLs, non-ASCII text, a TEXT value that starts with "base64:".
 * - Every other vox 60 table holds a few rows (`max(8, 400 × scale)`), filled by the sample
 *   generator's filler (src/sample/fill.ts): each column's awkward values by its affinity (TEXT with
 *   a NUL, int64 limits, TEXT in INTEGER columns, -0.0, BLOBs with NULs, orphaned foreign keys), as
 *   real vox files hold them in their many small tables.
 */
import Database from "libsql";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { factsToFragments } from "../src/schema/ddl.js";
import type { SchemaFacts } from "../src/schema/facts.js";
import { Prng } from "../src/sample/prng.js";
import { fillTables } from "../src/sample/fill.js";
import { packageRoot } from "../src/util/paths.js";

/** Bump when the generated file changes: a cached file of another version is not reused. */
export const GENERATOR_VERSION = 4;
/** The vox baseline whose structure the file has. */
const BENCH_BASELINE = 60;
const BENCH_VERSIONS = [59, 60, 100, 101];
/** What the user's ad-hoc migrations 100 and 101 did (not vox's). */
const ADHOC_MIGRATIONS = [
  "CREATE TABLE user_bookmarks (id INTEGER PRIMARY KEY, url TEXT NOT NULL, title TEXT, tags_json TEXT, added_at TEXT NOT NULL)",
  "CREATE INDEX idx_user_bookmarks_added ON user_bookmarks (added_at)",
];
/** Every table the generator fills (the row count the benchmark reports is theirs). */
const BENCH_TABLES = [
  "users",
  "conversations",
  "conversation_messages",
  "search_documents",
  "search_document_chunks",
  "embeddings",
  "knowledge_nodes",
  "agent_sessions",
  "audit_log",
  "codex_change_log",
  "cost_records",
  "usage_counter_snapshots",
  "publication_approvals",
  "user_bookmarks",
] as const;

/** vox 60's facts: the one copy, shipped in schema/vox-reference/. */
function benchFacts(): SchemaFacts {
  const root = packageRoot();
  const p = join(root, "schema", "vox-reference", `schema-${BENCH_BASELINE}.json`);
  if (existsSync(p)) return JSON.parse(readFileSync(p, "utf8")) as SchemaFacts;
  throw new Error(`bench: vox ${BENCH_BASELINE} schema facts not found: ${p}`);
}

export function generateBenchDb(path: string, scale: number, onProgress?: (table: string, done: number, total: number) => void): { rows: number } {
  const facts = benchFacts();
  const db = new Database(path);
  db.defaultSafeIntegers(true);
  db.exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA foreign_keys=OFF; PRAGMA cache_size=-65536;");
  db.exec("BEGIN");
  for (const frag of factsToFragments(facts)) for (const s of frag.statements) db.exec(s);
  for (const s of ADHOC_MIGRATIONS) db.exec(s);
  const sv = db.prepare("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)");
  BENCH_VERSIONS.forEach((v, i) => sv.run(BigInt(v), `2024-0${i + 1}-01 09:00:00`));
  db.exec("COMMIT");

  const rng = new Prng(20261123);
  const n = (x: number) => Math.max(10, Math.round(x * scale));
  const T0 = Date.UTC(2025, 0, 1);
  /** `datetime('now')` as vox stores it. */
  const ts = (i: number) => new Date(T0 + i * 1000).toISOString().replace("T", " ").slice(0, 19);
  const words = (k: number) => rng.words(k);
  const hex = (k: number) => {
    let s = "";
    while (s.length < k)
      s += Math.floor(rng.next() * 4294967296)
        .toString(16)
        .padStart(8, "0");
    return s.slice(0, k);
  };
  const uuid = () => {
    const h = hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
  };
  const TWO53 = 9007199254740992n;
  let rows = 0;
  const fill = (table: string, count: number, cols: string[], make: (i: number) => unknown[]) => {
    db.exec("BEGIN");
    const st = db.prepare(`INSERT INTO ${table} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`);
    for (let i = 0; i < count; i++) {
      (st as unknown as { run(...a: unknown[]): unknown }).run(...make(i));
      if (i % 50_000 === 0) onProgress?.(table, i, count);
    }
    db.exec("COMMIT");
    rows += count;
  };

  const users = n(20_000);
  const userIds = Array.from({ length: users }, () => uuid());
  fill("users", users, ["id", "display_name", "email", "avatar_url", "role", "created_at"], (i) => [
    userIds[i],
    i % 13 ? `User ${i} ${words(2)}` : `Zoë ${i} — 日本語 ✓`,
    i % 7 ? `u${i}@example.org` : null,
    i % 5 ? null : `https://avatars.example.org/${userIds[i]}.png`,
    i % 100 ? "user" : "admin",
    ts(i),
  ]);

  const convs = n(20_000);
  fill(
    "conversations",
    convs,
    ["id", "user_id", "title", "code_version", "repository_id", "external_session_id", "thread_id", "origin_surface", "created_at", "updated_at"],
    (i) => [
      BigInt(i + 1),
      i % 9 ? userIds[i % users] : null,
      words(5),
      i % 3 ? `0.${i % 40}.${i % 7}` : null,
      i % 4 ? `repo-${i % 200}` : null,
      i % 4 ? `sess-${i}` : null,
      i % 2 ? `thr-${hex(12)}` : null,
      rng.pick(["cli", "mcp", "vscode", "web"]),
      ts(i),
      ts(i + 3600),
    ],
  );

  fill(
    "conversation_messages",
    n(200_000),
    ["id", "conversation_id", "role", "content_text", "payload_json", "external_turn_id", "model_used", "token_count", "context_files_json", "created_at"],
    (i) => [
      BigInt(i + 1),
      BigInt((i % convs) + 1),
      i % 2 ? "assistant" : "user",
      words(rng.int(100, 250)) + (i % 11 ? "" : " — café ✓ 漢字"),
      i % 4 ? null : `{"tool_calls":[],"finish":"stop","i":${i}}`,
      i % 3 ? `turn-${i}` : null,
      i % 2 ? rng.pick(["claude-sonnet", "gpt-4o", "qwen2.5-coder"]) : null,
      i % 2 ? BigInt(rng.int(50, 4000)) : null,
      i % 6 ? null : `["src/lib.rs","crates/vox-db/src/schema/mod.rs"]`,
      ts(i),
    ],
  );

  const docs = n(15_000);
  fill("search_documents", docs, ["id", "source_uri", "title", "mime_type", "content_hash", "ingested_at"], (i) => [
    BigInt(i + 1),
    `file:///repo/docs/${i}.md`,
    words(6),
    i % 5 ? "text/markdown" : "text/plain",
    i % 10 ? hex(64) : "",
    ts(i),
  ]);

  const chunks = n(150_000);
  fill("search_document_chunks", chunks, ["id", "document_id", "chunk_index", "body_text", "embedding_ref", "created_at"], (i) => [
    BigInt(i + 1),
    BigInt((i % docs) + 1),
    BigInt(Math.floor(i / docs)),
    words(rng.int(80, 200)),
    i % 3 ? null : `emb:${i + 1}`,
    ts(i),
  ]);

  const vec = Buffer.alloc(4096);
  fill("embeddings", n(60_000), ["id", "source_type", "source_id", "dim", "vector", "metadata", "created_at"], (i) => {
    for (let k = 0; k < 1024; k++) vec.writeFloatLE(rng.next() - 0.5, k * 4);
    return [
      BigInt(i + 1),
      i % 10 ? "search_document_chunks" : null,
      String((i % chunks) + 1),
      1024n,
      Buffer.from(vec),
      i % 2 ? `{"model":"emb-1024","norm":1.0}` : null,
      ts(i),
    ];
  });

  fill("knowledge_nodes", n(25_000), ["id", "label", "content", "node_type", "media_url", "media_type", "metadata", "created_at"], (i) => [
    `kn-${uuid()}`,
    words(3),
    i % 20 ? words(rng.int(40, 160)) : null,
    rng.pick(["concept", "concept", "entity", "document", "media"]),
    i % 25 ? null : `https://media.example.org/${i}.png`,
    i % 25 ? null : "image/png",
    i % 3 ? null : `{"source":"ingest","weight":${(i % 17) / 4}}`,
    ts(i),
  ]);

  fill("agent_sessions", n(10_000), ["id", "agent_id", "agent_name", "started_at", "ended_at", "status", "task_snapshot", "context_summary"], (i) => [
    `as-${uuid()}`,
    `agent-${i % 64}`,
    i % 4 ? `Agent ${i % 64}` : null,
    ts(i),
    i % 3 ? ts(i + 900) : null,
    i % 3 ? "completed" : "active",
    i % 2 ? `{"task":"${words(4)}","step":${i % 30}}` : null,
    i % 5 ? null : words(rng.int(20, 60)),
  ]);

  fill(
    "audit_log",
    n(300_000),
    ["id", "actor_kind", "actor_id", "action", "resource_kind", "resource_id", "scope_kind", "scope_id", "payload_json", "created_at"],
    (i) => [
      BigInt(i + 1),
      i % 5 ? "user" : "agent",
      i % 5 ? userIds[i % users] : `agent-${i % 64}`,
      rng.pick(["login", "export", "publish", "delete"]),
      rng.pick(["conversation", "document", "publication"]),
      i % 10007 ? `obj/${i}` : "base64:not-a-blob", // a TEXT value that merely starts so
      i % 2 ? "repo" : "",
      i % 2 ? `repo-${i % 200}` : "",
      i % 3 ? `{"ip":"10.0.${i % 255}.${i % 200}","ok":true}` : null,
      ts(i),
    ],
  );

  fill("codex_change_log", n(250_000), ["id", "topic", "entity_kind", "entity_id", "change_kind", "payload_json", "created_at"], (i) => [
    BigInt(i + 1),
    rng.pick(["chat", "search", "skills"]),
    i % 8 ? "conversation_messages" : null,
    i % 8 ? String(i) : null,
    rng.pick(["insert", "update", "delete"]),
    `{"v":${i},"r":${(i / 7).toFixed(3)}}`,
    ts(i),
  ]);

  fill("cost_records", n(50_000), ["id", "agent_id", "session_id", "provider", "model", "input_tokens", "output_tokens", "cost_usd", "timestamp"], (i) => [
    BigInt(i + 1),
    `agent-${i % 64}`,
    i % 6 ? `s${i % 1000}` : null,
    rng.pick(["anthropic", "openai", "ollama"]),
    i % 9 ? "m" : null,
    BigInt(rng.int(10, 5000)),
    BigInt(rng.int(10, 5000)),
    i % 10 ? rng.next() : i % 20 ? 3.0 : 1e-7,
    ts(i),
  ]);

  // amount: every fifth row beyond 2^53 (a double would round it), the rest small.
  fill("usage_counter_snapshots", n(30_000), ["id", "metric_key", "scope_kind", "scope_id", "period_start", "amount", "updated_at"], (i) => [
    BigInt(i + 1),
    `m${i % 50}`,
    i % 2 ? "user" : "repo",
    `scope${i % 37}`,
    ts(i * 60),
    i % 5 ? BigInt(rng.int(0, 1_000_000)) : TWO53 + 1n + BigInt(i) * 1_000_003n,
    ts(i * 60 + 30),
  ]);

  // vox 66 adds approver_role NOT NULL DEFAULT 'human' here: the rebuild fills it.
  fill("publication_approvals", n(5_000), ["publication_id", "content_sha3_256", "approver", "approved_at_ms"], (i) => [
    `pub-${Math.floor(i / 2)}`,
    hex(64),
    i % 2 ? "editor@example.org" : "reviewer@example.org",
    BigInt(T0 + i * 60_000),
  ]);

  fill("user_bookmarks", n(2_000), ["id", "url", "title", "tags_json", "added_at"], (i) => [
    BigInt(i + 1),
    `https://example.org/${i}`,
    i % 4 ? words(4) : null,
    i % 2 ? `["vox","${i % 9}"]` : null,
    ts(i),
  ]);

  // The many small tables real files hold: the sample filler's value mix, a few rows each.
  db.exec("BEGIN");
  const small = Math.max(8, Math.round(400 * scale));
  const filled = fillTables(db, facts, new Prng(20261202), { rows: small, orphans: true, skip: new Set<string>(BENCH_TABLES) });
  db.exec("COMMIT");
  rows += filled.tables.reduce((k, t) => k + t.rows, 0);
  onProgress?.("small tables", filled.tables.length, filled.tables.length);

  db.exec("ANALYZE");
  db.close();
  return { rows };
}
