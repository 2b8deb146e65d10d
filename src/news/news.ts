/**
 * Stage 4: publication/news on vox's own tables (facts: schema/vox-reference/schema-66.json).
 *   publication_manifests(publication_id TEXT PK, content_type, source_ref, title, author, abstract_text,
 *     body_markdown, citations_json, metadata_json, …, content_sha3_256 TEXT NOT NULL, …)
 *   published_news(news_id TEXT PK, published_at_ms INTEGER NOT NULL, …, content_sha3_256 TEXT)
 *   news_publish_attempts(id, news_id, content_sha3_256, attempted_at_ms, result_json)   -- legacy, no writer
 *   publication_attempts(id, publication_id, content_sha3_256, channel, attempted_at_ms, outcome_json)
 * Values are read as their exact bytes (hex) so a NUL inside TEXT is hashed as stored.
 */
import { createHash } from "node:crypto";
import { allRows, withWriteTransaction, type LibsqlDatabase } from "../db/local.js";
import { quoteIdent, type SqlValue } from "../db/value.js";
import { recordLedger } from "../db/ledger.js";
import { loadManifest } from "../schema/manifest.js";

export const MANIFEST_CONTENT_FIELDS = [
  "publication_id",
  "content_type",
  "source_ref",
  "title",
  "author",
  "abstract_text",
  "body_markdown",
  "citations_json",
  "metadata_json",
] as const;

/** The channel a legacy attempt gets in publication_attempts. */
export const LEGACY_CHANNEL = "legacy_news_publish";

/** The columns each news table must have for news-check to use it (vox's columns, nothing else). */
const NEWS_COLUMNS: Record<string, readonly string[]> = {
  publication_manifests: [...MANIFEST_CONTENT_FIELDS, "content_sha3_256"],
  published_news: ["news_id", "content_sha3_256"],
  news_publish_attempts: ["id", "news_id", "content_sha3_256", "attempted_at_ms", "result_json"],
  publication_attempts: ["publication_id", "content_sha3_256", "channel", "attempted_at_ms", "outcome_json"],
};

function jsonValue(v: SqlValue): unknown {
  if (v === null) return null;
  if (typeof v === "bigint") return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  return v;
}

/** Compact JSON (keys sorted, no whitespace, UTF-8 as is) of the given fields; NULL → null. */
function canonicalContentJson(row: Record<string, SqlValue>, fields: readonly string[]): string {
  const sorted = [...fields].sort();
  return "{" + sorted.map((k) => `${JSON.stringify(k)}:${JSON.stringify(jsonValue(row[k] ?? null))}`).join(",") + "}";
}

/** SHA3-256 (FIPS 202, not Keccak) of the UTF-8 canonical JSON, lowercase hex without 0x. */
export function contentSha3(row: Record<string, SqlValue>, fields: readonly string[] = MANIFEST_CONTENT_FIELDS): string {
  return createHash("sha3-256").update(canonicalContentJson(row, fields), "utf8").digest("hex");
}

interface NewsReport {
  manifests: number;
  mismatches: { table: string; id: string; stored: string | null; computed: string }[];
  missingDigest: string[];
  legacyAttempts: { pending: number; copied: number };
  /** News tables (or `table.column`) this file does not have: what could not be checked. */
  absent: string[];
}

function tableColumns(db: LibsqlDatabase, table: string): Set<string> | null {
  const exists = allRows(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).length > 0;
  if (!exists) return null;
  return new Set(allRows(db, "SELECT name FROM pragma_table_xinfo(?)", [table]).map((r) => String(r.name)));
}

/** Which news tables are missing (`table`) or lack a column news-check uses (`table.column`). */
function absentNewsParts(db: LibsqlDatabase): string[] {
  const out: string[] = [];
  for (const [t, cols] of Object.entries(NEWS_COLUMNS)) {
    const have = tableColumns(db, t);
    if (!have) out.push(t);
    else for (const c of cols) if (!have.has(c)) out.push(`${t}.${c}`);
  }
  return out;
}

/** True when the file has at least one of the news tables. */
export function hasNewsTables(db: LibsqlDatabase): boolean {
  return Object.keys(NEWS_COLUMNS).some((t) => tableColumns(db, t) !== null);
}

function usable(absent: readonly string[], table: string): boolean {
  return !absent.some((a) => a === table || a.startsWith(table + "."));
}

/** `typeof` and exact bytes of a column, decoded back into a value (TEXT as UTF-8, NUL kept). */
function exactSelect(col: string): string {
  const c = quoteIdent(col);
  return `typeof(${c}), CASE WHEN typeof(${c}) IN ('text', 'blob') THEN hex(${c}) ELSE ${c} END`;
}

function exactValue(type: unknown, v: unknown): SqlValue {
  if (type === "text") return Buffer.from(String(v), "hex").toString("utf8");
  if (type === "blob") return new Uint8Array(Buffer.from(String(v), "hex"));
  if (type === "null") return null;
  return v as SqlValue;
}

/** Legacy attempts not yet in publication_attempts, counted as a multiset (two identical legacy rows need two copies). */
const PENDING_CTE = `
  WITH legacy AS (
    SELECT a.id, a.news_id, a.content_sha3_256, a.attempted_at_ms, a.result_json,
           row_number() OVER (PARTITION BY a.news_id, a.content_sha3_256, a.attempted_at_ms, a.result_json ORDER BY a.id) AS k
    FROM news_publish_attempts a
  ),
  pending AS (
    SELECT l.* FROM legacy l
    WHERE l.k > (SELECT count(*) FROM publication_attempts p
                 WHERE p.channel = '${LEGACY_CHANNEL}' AND p.publication_id IS l.news_id AND p.content_sha3_256 IS l.content_sha3_256
                   AND p.attempted_at_ms IS l.attempted_at_ms AND p.outcome_json IS l.result_json)
  )`;

export function checkNews(db: LibsqlDatabase): NewsReport {
  const absent = absentNewsParts(db);
  const r: NewsReport = { manifests: 0, mismatches: [], missingDigest: [], legacyAttempts: { pending: 0, copied: 0 }, absent };
  if (usable(absent, "publication_manifests")) {
    const cols = [...MANIFEST_CONTENT_FIELDS, "content_sha3_256"];
    const st = db.prepare(`SELECT ${cols.map(exactSelect).join(", ")} FROM publication_manifests ORDER BY publication_id`);
    st.raw(true);
    st.safeIntegers(true);
    for (const raw of (st as unknown as { iterate(): IterableIterator<unknown[]> }).iterate()) {
      const row: Record<string, SqlValue> = {};
      cols.forEach((c, i) => (row[c] = exactValue(raw[2 * i], raw[2 * i + 1])));
      r.manifests++;
      const computed = contentSha3(row);
      const s = row.content_sha3_256;
      const stored = s === null ? null : s instanceof Uint8Array ? Buffer.from(s).toString("hex") : String(s);
      if (stored !== computed) r.mismatches.push({ table: "publication_manifests", id: String(jsonValue(row.publication_id)), stored, computed });
    }
  }
  if (usable(absent, "published_news")) {
    r.missingDigest = allRows(db, "SELECT news_id FROM published_news WHERE content_sha3_256 IS NULL OR content_sha3_256 = '' ORDER BY news_id").map((x) =>
      String(jsonValue(x.news_id as SqlValue)),
    );
  }
  r.legacyAttempts.pending = pendingLegacyAttempts(db, absent);
  return r;
}

/** Legacy news_publish_attempts rows not yet in publication_attempts: what Stage 4 (`news-check --apply`) copies. */
export function pendingLegacyAttempts(db: LibsqlDatabase, absent = absentNewsParts(db)): number {
  if (!usable(absent, "news_publish_attempts")) return 0;
  return usable(absent, "publication_attempts")
    ? Number(allRows(db, `${PENDING_CTE} SELECT count(*) AS n FROM pending`)[0]!.n)
    : Number(allRows(db, "SELECT count(*) AS n FROM news_publish_attempts")[0]!.n);
}

/**
 * Copies legacy attempts not yet in publication_attempts (the caller holds the transaction):
 * publication_id ← news_id, channel 'legacy_news_publish', same digest and time, outcome_json ←
 * result_json. The legacy rows are kept; no stored digest is ever rewritten.
 */
function copyLegacyAttempts(db: LibsqlDatabase): number {
  const absent = absentNewsParts(db);
  if (!usable(absent, "news_publish_attempts") || !usable(absent, "publication_attempts")) return 0;
  const res = db
    .prepare(
      `INSERT INTO publication_attempts(publication_id, content_sha3_256, channel, attempted_at_ms, outcome_json)
       ${PENDING_CTE}
       SELECT news_id, content_sha3_256, '${LEGACY_CHANNEL}', attempted_at_ms, result_json FROM pending ORDER BY id`,
    )
    .run();
  return Number(res.changes);
}

/** Creates vox-cutover's own tables (cutover_ledger, legacy_quarantine) in a file vox made, where they are absent. */
export function ensureOwnTables(db: LibsqlDatabase): void {
  const have = new Set(
    allRows(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('cutover_ledger', 'legacy_quarantine')").map((r) => String(r.name)),
  );
  if (have.size === 2) return;
  const meta = loadManifest().fragments.find((f) => /CREATE TABLE IF NOT EXISTS cutover_ledger/i.test(f.sql));
  if (!meta) throw new Error("the schema manifest has no fragment creating cutover_ledger");
  db.exec(meta.sql);
}

/** --apply: copies the pending legacy attempts and records the run, in one transaction. */
export function applyLegacyAttempts(dbPath: string, runId: string, report: NewsReport, opts: { ledgerWhenNothing: boolean }): number {
  return withWriteTransaction(dbPath, (db) => {
    const copied = copyLegacyAttempts(db);
    if (copied || opts.ledgerWhenNothing) {
      ensureOwnTables(db);
      recordLedger(db, {
        runId,
        command: "news-check",
        counts: {
          copied,
          pendingBefore: report.legacyAttempts.pending,
          mismatches: report.mismatches.length,
          missingDigest: report.missingDigest.length,
          absent: report.absent,
        },
      });
    }
    return copied;
  });
}
