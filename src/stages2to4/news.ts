import { createHash } from "node:crypto";
import { allRows, withWriteTransaction, type LibsqlDatabase } from "../db/local.js";
import { recordLedger } from "../engine/ledger.js";
import type { SqlValue } from "../db/value.js";

export const MANIFEST_CONTENT_FIELDS = ["publication_id", "content_type", "source_ref", "title", "author", "abstract_text", "body_markdown", "citations_json", "metadata_json"] as const;

function jsonValue(v: SqlValue): unknown {
  if (v === null) return null;
  if (typeof v === "bigint") return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  return v;
}

/** Compact JSON (keys sorted, no whitespace, UTF-8 as is) of the given fields. */
export function canonicalContentJson(row: Record<string, SqlValue>, fields: readonly string[]): string {
  const sorted = [...fields].sort();
  return "{" + sorted.map((k) => `${JSON.stringify(k)}:${JSON.stringify(jsonValue(row[k] ?? null))}`).join(",") + "}";
}

/** SHA3-256 (FIPS 202) of the UTF-8 canonical JSON, lowercase hex without 0x. */
export function contentSha3(row: Record<string, SqlValue>, fields: readonly string[] = MANIFEST_CONTENT_FIELDS): string {
  return createHash("sha3-256").update(canonicalContentJson(row, fields), "utf8").digest("hex");
}

export interface NewsReport {
  manifests: number;
  mismatches: { table: string; id: string; stored: string | null; computed: string }[];
  missingDigest: string[];
  legacyAttempts: { pending: number; copied: number };
}

const PENDING_SQL = `
  FROM news_publish_attempts a
  WHERE NOT EXISTS (SELECT 1 FROM publication_attempts p WHERE p.legacy_attempt_id = a.id)`;

export function hasNewsTables(db: LibsqlDatabase): boolean {
  const names = new Set(allRows(db, "SELECT name FROM sqlite_master WHERE type = 'table'").map((r) => String(r.name)));
  return ["publication_manifests", "published_news", "publication_attempts", "news_publish_attempts"].every((t) => names.has(t));
}

export function checkNews(db: LibsqlDatabase): NewsReport {
  const r: NewsReport = { manifests: 0, mismatches: [], missingDigest: [], legacyAttempts: { pending: 0, copied: 0 } };
  const st = db.prepare(`SELECT ${MANIFEST_CONTENT_FIELDS.join(", ")}, content_sha3_256 FROM publication_manifests ORDER BY publication_id`);
  st.raw(true);
  const cols = [...MANIFEST_CONTENT_FIELDS, "content_sha3_256"];
  for (const raw of (st as unknown as { iterate(): IterableIterator<unknown[]> }).iterate()) {
    const row: Record<string, SqlValue> = {};
    cols.forEach((c, i) => (row[c] = (raw[i] instanceof ArrayBuffer ? new Uint8Array(raw[i] as ArrayBuffer) : raw[i]) as SqlValue));
    r.manifests++;
    const computed = contentSha3(row);
    const stored = row.content_sha3_256 === null ? null : String(row.content_sha3_256);
    if (stored !== computed) r.mismatches.push({ table: "publication_manifests", id: String(row.publication_id), stored, computed });
  }
  r.missingDigest = allRows(db, "SELECT news_id FROM published_news WHERE content_sha3_256 IS NULL OR content_sha3_256 = '' ORDER BY news_id").map((x) => String(x.news_id));
  r.legacyAttempts.pending = Number(allRows(db, `SELECT count(*) AS n ${PENDING_SQL}`)[0]!.n);
  return r;
}

/** Copies legacy attempts not yet in publication_attempts (the caller holds the transaction). Never touches a stored digest. */
export function copyLegacyAttempts(db: LibsqlDatabase): number {
  const res = db
    .prepare(
      `INSERT INTO publication_attempts(publication_id, channel, content_sha3_256, outcome_json, attempted_at, legacy_attempt_id)
       SELECT coalesce((SELECT n.publication_id FROM published_news n WHERE n.news_id = a.news_id), a.news_id),
              'legacy_news_publish', a.content_sha3_256, a.result_json, a.attempted_at, a.id
       ${PENDING_SQL}
       ORDER BY a.id`,
    )
    .run();
  return Number(res.changes);
}

/** --apply: copies the pending legacy attempts and records the run, in one transaction. */
export function applyLegacyAttempts(dbPath: string, runId: string, report: NewsReport, opts: { ledgerWhenNothing: boolean }): number {
  return withWriteTransaction(dbPath, (db) => {
    const copied = copyLegacyAttempts(db);
    if (copied || opts.ledgerWhenNothing) {
      recordLedger(db, { runId, command: "news-check", counts: { copied, pendingBefore: report.legacyAttempts.pending, mismatches: report.mismatches.length, missingDigest: report.missingDigest.length } });
    }
    return copied;
  });
}
