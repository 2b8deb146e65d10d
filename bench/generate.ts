/**
 * A deterministic benchmark database in the baseline schema (legacy chain, so Stage 1 runs in
 * full): large TEXT and BLOB columns, many small rows, FTS content. scale 1 ≈ 1 GB / 1 M rows.
 */
import Database from "libsql";
import { baselineSql, loadManifest } from "../src/schema/manifest.js";
import { Prng } from "../src/sample/prng.js";

export const GENERATOR_VERSION = 2;

export function generateBenchDb(path: string, scale: number, onProgress?: (table: string, done: number, total: number) => void): { rows: number } {
  const db = new Database(path);
  db.defaultSafeIntegers(true);
  db.exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA foreign_keys=OFF; PRAGMA cache_size=-65536;");
  db.exec(baselineSql(loadManifest().fragments));
  const rng = new Prng(20261123);
  const n = (x: number) => Math.max(10, Math.round(x * scale));
  const T0 = Date.UTC(2025, 0, 1);
  const iso = (i: number) => new Date(T0 + i * 1000).toISOString();
  const words = (k: number) => rng.words(k);
  let rows = 0;
  const fill = (table: string, count: number, sql: string, make: (i: number) => unknown[]) => {
    db.exec("BEGIN");
    const st = db.prepare(sql);
    for (let i = 0; i < count; i++) {
      (st as unknown as { run(...a: unknown[]): unknown }).run(...make(i));
      if (i % 50_000 === 0) onProgress?.(table, i, count);
    }
    db.exec("COMMIT");
    rows += count;
  };
  db.exec("INSERT INTO schema_version(version, applied_at) VALUES (1,'2024-01-01'),(2,'2024-01-02'),(17,'2024-03-01'),(51,'2024-06-01')");
  const users = n(20_000);
  fill("users", users, "INSERT INTO users(id, handle, email, display_name, created_at) VALUES (?,?,?,?,?)", (i) => [BigInt(i + 1), `user${i}`, i % 7 ? `u${i}@example.org` : null, `User ${i} — ${words(2)}`, iso(i)]);
  const convs = n(20_000);
  fill("conversations", convs, "INSERT INTO conversations(id, user_id, title, created_at, updated_at) VALUES (?,?,?,?,?)", (i) => [BigInt(i + 1), BigInt((i % users) + 1), words(5), iso(i), iso(i + 60)]);
  fill("conversation_messages", n(200_000), "INSERT INTO conversation_messages(id, conversation_id, role, content, created_at) VALUES (?,?,?,?,?)", (i) => [BigInt(i + 1), BigInt((i % convs) + 1), i % 2 ? "assistant" : "user", words(rng.int(120, 300)), iso(i)]);
  const docs = n(15_000);
  fill("search_documents", docs, "INSERT INTO search_documents(id, uri, title, content_hash, ingested_at) VALUES (?,?,?,?,?)", (i) => [BigInt(i + 1), `doc://${i}`, words(6), null, iso(i)]);
  fill("search_document_chunks", n(150_000), "INSERT INTO search_document_chunks(id, document_id, ordinal, text, token_count) VALUES (?,?,?,?,?)", (i) => [BigInt(i + 1), BigInt((i % docs) + 1), BigInt(Math.floor(i / docs)), words(rng.int(80, 200)), BigInt(rng.int(100, 400))]);
  const vec = Buffer.alloc(4096);
  fill("embeddings", n(60_000), "INSERT INTO embeddings(id, owner_table, owner_id, model, dims, vector, created_at) VALUES (?,?,?,?,?,?,?)", (i) => {
    for (let k = 0; k < 1024; k++) vec.writeFloatLE(rng.next() - 0.5, k * 4);
    return [BigInt(i + 1), "search_document_chunks", BigInt(i + 1), "emb-1024", 1024n, Buffer.from(vec), iso(i)];
  });
  fill("audit_log", n(300_000), "INSERT INTO audit_log(id, actor, action, target, detail_json, at) VALUES (?,?,?,?,?,?)", (i) => [BigInt(i + 1), `user${i % users}`, rng.pick(["login", "export", "publish", "delete"]), `obj/${i}`, i % 3 ? `{"ip":"10.0.${i % 255}.${i % 200}","ok":true}` : null, iso(i)]);
  fill("codex_change_log", n(250_000), "INSERT INTO codex_change_log(id, topic, entity, entity_id, op, payload_json, created_at) VALUES (?,?,?,?,?,?,?)", (i) => [BigInt(i + 1), rng.pick(["chat", "search", "skills"]), "conversation_messages", String(i), rng.pick(["insert", "update", "delete"]), `{"v":${i},"r":${(i / 7).toFixed(3)}}`, iso(i)]);
  fill("cost_records", n(50_000), "INSERT INTO cost_records(id, session_id, model, input_tokens, output_tokens, cost_usd, recorded_at) VALUES (?,?,?,?,?,?,?)", (i) => [BigInt(i + 1), `s${i % 1000}`, "m", BigInt(rng.int(10, 5000)), BigInt(rng.int(10, 5000)), i % 10 ? rng.next() : 3.0, iso(i)]);
  fill("usage_counter_snapshots", n(30_000), "INSERT INTO usage_counter_snapshots(metric, scope, window_start, value) VALUES (?,?,?,?)", (i) => [`m${i % 50}`, `scope${i % 37}`, iso(i), BigInt(i) * 9007199254n]);
  db.exec("ANALYZE");
  db.close();
  return { rows };
}
