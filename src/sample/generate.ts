import Database from "libsql";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { refused, usage } from "../errors.js";
import { baselineCatalog, readCatalogSync, type TableInfo } from "../db/catalog.js";
import { SIDECAR_NAME } from "../db/diagnose.js";
import { removeOwnDatabaseFiles } from "../db/files.js";
import { allRows, type LibsqlDatabase } from "../db/local.js";
import { quoteIdent, type SqlValue } from "../db/value.js";
import { baselineSql, loadManifest } from "../schema/manifest.js";
import { Prng } from "./prng.js";
import { contentSha3, MANIFEST_CONTENT_FIELDS } from "../stages2to4/news.js";

export interface SampleOptions {
  out: string;
  seed: number;
  rows: number;
}

export interface SampleResult {
  path: string;
  sidecar: string;
  telemetry: string;
  versions: number[];
  tables: { name: string; rows: number }[];
  totalRows: number;
}

/** Incremental-era fragment rows (v1–v17), an ad-hoc flatten and a fork row: a legacy chain. */
export const SAMPLE_VERSIONS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 51, 1001];

const T0 = Date.UTC(2025, 0, 15, 9, 30, 0);

/** Values no careless exporter survives. */
export const AWKWARD_INTEGERS: bigint[] = [9007199254740993n, -9007199254740993n, 9223372036854775807n, -9223372036854775808n, 0n, -1n];
export const AWKWARD_REALS: number[] = [3.0, -0.0, 1e308, 5e-324, 0.1, -2.5e-10, 123456789.125];
export const AWKWARD_TEXTS: string[] = [
  "",
  "Zoë — 東京 🚀 naïve café",
  "base64:SGVsbG8sIHdvcmxkIQ==",
  "tab\there\u0001ctrl\r\nnewline",
  "  leading and trailing spaces  ",
  "'quoted' \"double\" `back` [bracket]",
  "0x1234",
  "3.0",
  "NULL",
];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Legacy shapes that differ from the baseline: what Stage 1 must map, quarantine or keep. */
const LEGACY_DDL = `
DROP TABLE agent_reliability;
CREATE TABLE routing_scores (
  agent TEXT NOT NULL,
  kind TEXT NOT NULL,
  wins INTEGER NOT NULL DEFAULT 0,
  losses INTEGER NOT NULL DEFAULT 0,
  score REAL,
  PRIMARY KEY (agent, kind)
);
DROP TABLE artifact_reviews;
CREATE TABLE artifact_reviews (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  artifact_id INTEGER NOT NULL REFERENCES artifacts(id),
  user_id INTEGER REFERENCES users(id),
  stars INTEGER,
  body TEXT,
  created_at TEXT
);
ALTER TABLE users ADD COLUMN karma INTEGER;
ALTER TABLE publication_manifests DROP COLUMN updated_at;
CREATE TABLE gamify_badges (
  badge_id INTEGER PRIMARY KEY,
  user_id INTEGER,
  badge TEXT NOT NULL,
  awarded_at TEXT,
  icon BLOB
);
CREATE TABLE "legacy notes ""v1""" (
  note TEXT,
  weight REAL
);
`;

/** Tables left empty in the main file (the sidecar era kept these elsewhere) or written by hand below. */
const HAND_WRITTEN = new Set(["schema_version", "cutover_ledger", "legacy_quarantine", "routing_scores", "gamify_badges", 'legacy notes "v1"', "publication_manifests", "published_news", "news_publish_attempts", "publication_attempts"]);

export function generateSample(opts: SampleOptions): SampleResult {
  if (!Number.isInteger(opts.rows) || opts.rows < 1 || opts.rows > 10_000_000) {
    throw usage({ what: `--rows must be a whole number from 1 to 10000000 (got ${opts.rows}).`, untouched: "Nothing was written.", next: "Run again with, e.g., --rows 50." });
  }
  const out = opts.out;
  const sidecar = join(dirname(out), SIDECAR_NAME);
  const telemetry = join(dirname(out), "telemetry.jsonl");
  for (const p of [out, sidecar, telemetry]) {
    if (existsSync(p)) {
      throw refused({
        what: `${p} already exists; sample never overwrites a file.`,
        untouched: "Nothing was written.",
        next: "Choose another OUT path in an empty folder (or move the existing files away).",
      });
    }
  }
  if (!existsSync(dirname(out))) {
    throw usage({ what: `The folder ${dirname(out)} does not exist.`, untouched: "Nothing was written.", next: `Create it first (mkdir -p '${dirname(out)}') or choose another OUT.` });
  }
  const tmp = `${out}.vox-cutover-sample-${process.pid}`;
  const tmpSide = `${sidecar}.vox-cutover-sample-${process.pid}`;
  try {
    const rng = new Prng(opts.seed);
    const sql = baselineSql(loadManifest().fragments);
    const db = new Database(tmp);
    db.defaultSafeIntegers(true);
    let result: SampleResult;
    try {
      db.exec("PRAGMA journal_mode=DELETE");
      db.exec("PRAGMA foreign_keys=OFF"); // legacy files hold orphans; libsql enforces by default
      db.exec(sql);
      db.exec(LEGACY_DDL);
      db.exec("BEGIN");
      const ins = db.prepare("INSERT INTO schema_version(version, applied_at) VALUES (?, ?)");
      SAMPLE_VERSIONS.forEach((v, i) => ins.run(BigInt(v), iso(T0 - (SAMPLE_VERSIONS.length - i) * 86_400_000 * 7)));
      fillGeneric(db, rng, opts.rows);
      fillLegacy(db, rng, opts.rows);
      db.exec("COMMIT");
      const tables = readCatalogSync(db)
        .filter((t) => !t.virtual)
        .map((t) => ({ name: t.name, rows: Number(allRows(db, `SELECT count(*) AS n FROM ${quoteIdent(t.name)}`)[0]!.n) }));
      result = {
        path: out,
        sidecar,
        telemetry,
        versions: SAMPLE_VERSIONS,
        tables,
        totalRows: tables.reduce((n, t) => n + t.rows, 0),
      };
    } finally {
      db.close();
    }
    writeSidecar(tmpSide, new Prng(opts.seed + 1), opts.rows, tmp);
    const telemetryText = telemetryLines(new Prng(opts.seed + 2), Math.max(12, Math.min(opts.rows, 500)));
    renameSync(tmp, out);
    renameSync(tmpSide, sidecar);
    writeFileSync(telemetry, telemetryText);
    return result;
  } finally {
    for (const p of [tmp, tmpSide]) removeOwnDatabaseFiles(p);
  }
}

interface FkInfo {
  from: string;
  table: string;
  to: string | null;
}

function foreignKeys(db: LibsqlDatabase, table: string): FkInfo[] {
  return allRows(db, "SELECT * FROM pragma_foreign_key_list(?)", [table]).map((r) => ({ from: String(r.from), table: String(r.table), to: r.to === null ? null : String(r.to) }));
}

/** Parents before children, so foreign keys can point at rows that exist. */
function orderTables(db: LibsqlDatabase, tables: TableInfo[]): TableInfo[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const done = new Set<string>();
  const out: TableInfo[] = [];
  const visit = (t: TableInfo, stack: Set<string>) => {
    if (done.has(t.name) || stack.has(t.name)) return;
    stack.add(t.name);
    for (const fk of foreignKeys(db, t.name)) {
      const p = byName.get(fk.table);
      if (p) visit(p, stack);
    }
    done.add(t.name);
    out.push(t);
  };
  for (const t of tables) visit(t, new Set());
  return out;
}

function valueFor(col: TableInfo["columns"][number], table: string, i: number, rng: Prng): SqlValue {
  const name = col.name;
  const type = col.type.toUpperCase();
  const awkward = rng.chance(0.15);
  if (name === "stars") return BigInt(rng.int(1, 5));
  if (name === "op") return rng.pick(["insert", "update", "delete"]);
  if (name === "yanked" || name === "enabled" || name === "optional") return BigInt(rng.int(0, 1));
  if (name.endsWith("_json")) {
    if (!col.notnull && rng.chance(0.1)) return null;
    return JSON.stringify({ i, tag: rng.pick(["α", "b", "c"]), n: rng.int(0, 1000), ok: rng.chance(0.5) });
  }
  if (name.endsWith("_at")) return !col.notnull && rng.chance(0.1) ? null : iso(T0 + i * 60_000 + rng.int(0, 59_999));
  if (name === "ts_ms") return BigInt(T0 + i * 1000);
  if (type.includes("INT")) {
    if (awkward && !col.notnull && rng.chance(0.3)) return null;
    if (awkward) return rng.pick(AWKWARD_INTEGERS);
    return BigInt(rng.int(0, 100_000));
  }
  if (type.includes("REAL") || type.includes("FLOA") || type.includes("DOUB")) {
    if (awkward && !col.notnull && rng.chance(0.3)) return null;
    if (awkward) return rng.pick(AWKWARD_REALS);
    return Math.round(rng.next() * 1e6) / 1e3;
  }
  if (type.includes("BLOB") || (type === "" && rng.chance(0.5))) {
    if (awkward) return rng.pick([new Uint8Array(0), rng.bytes(4096), null]);
    return rng.bytes(rng.int(1, 64));
  }
  // TEXT (and untyped columns)
  if (awkward) {
    const v = rng.pick(AWKWARD_TEXTS);
    if (v === "" && col.notnull) return `${table}-${i}`;
    return rng.chance(0.2) && !col.notnull ? null : v + (col.pk > 0 || /name|slug|uri|handle/.test(name) ? ` #${i}` : "");
  }
  if (col.pk > 0 || /^(name|slug|uri|handle|id)$/.test(name)) return `${name}-${i}-${rng.words(1)}`;
  return rng.words(rng.int(2, 12));
}

function fillGeneric(db: LibsqlDatabase, rng: Prng, rows: number): void {
  const tables = orderTables(
    db,
    readCatalogSync(db).filter((t) => !t.virtual && !HAND_WRITTEN.has(t.name)),
  );
  const keys = new Map<string, SqlValue[]>();
  for (const t of tables) {
    const fks = foreignKeys(db, t.name);
    const cols = t.columns.filter((c) => c.hidden === 0);
    const ins = db.prepare(`INSERT OR IGNORE INTO ${quoteIdent(t.name)} (${cols.map((c) => quoteIdent(c.name)).join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`);
    const n = t.name === "search_document_chunks" ? rows * 3 : rows;
    let nextId = 1n;
    for (let i = 0; i < n; i++) {
      const vals = cols.map((c) => {
        if (c.name === t.rowidAlias) {
          nextId += rng.chance(0.1) ? BigInt(rng.int(2, 40)) : 1n; // gaps: rowids must survive
          return nextId;
        }
        const fk = fks.find((f) => f.from === c.name);
        if (fk) {
          const parent = keys.get(`${fk.table}.${fk.to ?? "rowid"}`);
          if (parent && parent.length) return i === n - 1 && t.name === "snippets" ? 999_999n : rng.pick(parent);
        }
        return valueFor(c, t.name, i, rng);
      });
      ins.run(...(vals as never[]));
    }
    for (const c of cols) {
      keys.set(`${t.name}.${c.name}`, allRows(db, `SELECT ${quoteIdent(c.name)} AS k FROM ${quoteIdent(t.name)} WHERE ${quoteIdent(c.name)} IS NOT NULL LIMIT 500`).map((r) => r.k));
    }
  }
}

/** Hand-written legacy rows: renamed table, unknown table/column, a constraint violation, news. */
function fillLegacy(db: LibsqlDatabase, rng: Prng, rows: number): void {
  const rs = db.prepare("INSERT INTO routing_scores(agent, kind, wins, losses, score) VALUES (?, ?, ?, ?, ?)");
  for (let i = 0; i < Math.max(3, Math.ceil(rows / 5)); i++) rs.run(`agent-${i}`, rng.pick(["code", "search", "chat"]) + `-${i}`, BigInt(rng.int(0, 99)), BigInt(rng.int(0, 99)), i === 0 ? 3.0 : rng.next());
  const gb = db.prepare("INSERT INTO gamify_badges(badge_id, user_id, badge, awarded_at, icon) VALUES (?, ?, ?, ?, ?)");
  for (let i = 0; i < Math.max(2, Math.ceil(rows / 10)); i++) gb.run(BigInt(10 + i * 3), BigInt(i + 1), rng.pick(["first-cutover", "streak", "🏅 gold"]), iso(T0 + i * 3600_000), i === 0 ? new Uint8Array(0) : rng.bytes(16));
  const ln = db.prepare(`INSERT INTO ${quoteIdent('legacy notes "v1"')}(note, weight) VALUES (?, ?)`);
  ln.run("a table whose name has a space and quotes", 1.5);
  ln.run("base64:bm90IGEgYmxvYg==", 3.0);
  // Constraint violations the baseline rejects: they must land in legacy_quarantine, counted.
  db.prepare("UPDATE artifact_reviews SET stars = 7 WHERE id = (SELECT MIN(id) FROM artifact_reviews)").run();
  db.prepare("UPDATE users SET karma = ? WHERE id IN (SELECT id FROM users ORDER BY id LIMIT 3)").run(9007199254740993n);
  const pm = db.prepare(
    "INSERT INTO publication_manifests(publication_id, content_type, source_ref, title, author, abstract_text, body_markdown, citations_json, metadata_json, content_sha3_256, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
  );
  const pn = db.prepare("INSERT INTO published_news(news_id, publication_id, title, body_markdown, content_sha3_256, published_at) VALUES (?,?,?,?,?,?)");
  const na = db.prepare("INSERT INTO news_publish_attempts(id, news_id, channel, content_sha3_256, result_json, attempted_at) VALUES (?,?,?,?,?,?)");
  const n = Math.max(4, Math.ceil(rows / 5));
  for (let i = 0; i < n; i++) {
    const pid = `pub-${i}`;
    const content: Record<string, SqlValue> = { publication_id: pid, content_type: "article", source_ref: `src/${i}`, title: `Release notes ${i} — Zoë`, author: i % 3 === 0 ? null : "ops", abstract_text: "abstract " + rng.words(5), body_markdown: "# Title\n\n" + rng.words(20), citations_json: "[]", metadata_json: i % 2 ? "{}" : null };
    // Every fourth manifest's stored digest is stale (content edited after hashing): news-check finds it.
    const digest = i % 4 === 3 ? contentSha3({ ...content, title: `Release notes ${i}` }) : contentSha3(content);
    pm.run(...(MANIFEST_CONTENT_FIELDS.map((f) => content[f]) as never[]), digest, iso(T0 + i * 86_400_000));
    pn.run(`news-${i}`, pid, `News ${i}`, rng.words(10), i % 4 === 1 ? null : i % 4 === 2 ? "" : digest, iso(T0 + i * 86_400_000 + 1000));
    na.run(BigInt(i * 2 + 1), `news-${i}`, rng.pick(["mastodon", "rss", "email"]), digest, JSON.stringify({ status: i % 3 ? "ok" : "error", code: 200 + i }), iso(T0 + i * 86_400_000 + 5000));
  }
}

function writeSidecar(path: string, rng: Prng, rows: number, mainPath: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const main = new Database(mainPath);
  main.defaultSafeIntegers(true);
  const sql = baselineSql(loadManifest().fragments);
  const cat = baselineCatalog(sql).filter((t) => t.name.startsWith("training_"));
  const db = new Database(path);
  db.defaultSafeIntegers(true);
  try {
    db.exec("PRAGMA journal_mode=DELETE");
    db.exec("CREATE TABLE schema_version(version INTEGER PRIMARY KEY, applied_at TEXT)");
    db.exec("INSERT INTO schema_version VALUES (1, '2024-06-01T00:00:00Z'), (2, '2024-09-01T00:00:00Z')");
    for (const t of cat) db.exec(t.sql);
    db.exec("BEGIN");
    // Rows already in the main file (present), rows the main file lacks (new), rows whose key exists with other values (conflict).
    const runs = allRows(main, "SELECT * FROM training_runs ORDER BY run_id");
    const insRun = db.prepare("INSERT INTO training_runs(run_id, model, config_json, status, started_at, finished_at) VALUES (?,?,?,?,?,?)");
    runs.slice(0, Math.ceil(runs.length / 2)).forEach((r, i) => {
      insRun.run(r.run_id, i === 0 ? "conflicting-model" : r.model, r.config_json, r.status, r.started_at, r.finished_at);
    });
    const newRuns = Math.max(2, Math.ceil(rows / 10));
    for (let i = 0; i < newRuns; i++) insRun.run(`sidecar-run-${i}`, rng.pick(["mens-small", "mens-large"]), "{}", "complete", iso(T0 + i * 1000), iso(T0 + i * 1000 + 9999));
    const insStep = db.prepare("INSERT INTO training_step_metrics(run_id, step, loss, learning_rate, steps_per_sec, ts_ms) VALUES (?,?,?,?,?,?)");
    for (let i = 0; i < newRuns; i++) for (let s = 0; s < 5; s++) insStep.run(`sidecar-run-${i}`, BigInt(s), 3.0 - s * 0.25, 1e-4, s === 0 ? null : 12.5, BigInt(T0 + s * 1000));
    const insEv = db.prepare("INSERT INTO training_telemetry_events(id, run_id, event, payload_json, ts_ms) VALUES (?,?,?,?,?)");
    for (let i = 0; i < rows; i++) insEv.run(BigInt(100_000 + i), `sidecar-run-${i % newRuns}`, rng.pick(["step", "epoch_complete", "gpu_fallback"]), JSON.stringify({ i }), BigInt(T0 + i));
    db.exec("COMMIT");
  } finally {
    db.close();
    main.close();
  }
}

/** A telemetry JSONL with mostly valid lines and a few bad ones (line numbers are stable per seed). */
export function telemetryLines(rng: Prng, n: number): string {
  const lines: string[] = [];
  const ts = (i: number) => T0 + i * 250;
  lines.push(JSON.stringify({ event: "train_start", payload: { run_id: "run-1", model: "mens-small", total_steps: n }, ts_ms: ts(0) }));
  for (let i = 1; i < n; i++) {
    lines.push(JSON.stringify({ event: "step", payload: { run_id: "run-1", step: i, loss: 3 - i / n, steps_per_sec_ema: i === 1 ? null : 10 + rng.next() }, ts_ms: ts(i) }));
    if (i % 5 === 0) lines.push(JSON.stringify({ event: "epoch_complete", payload: { run_id: "run-1", epoch: i / 5, eta_seconds_remaining: i === 5 ? null : (n - i) * 0.1 }, ts_ms: ts(i) }));
  }
  lines.push(JSON.stringify({ event: "gpu_fallback", payload: { run_id: "run-1", reason: "CUDA OOM" }, ts_ms: ts(n) }));
  lines.push(JSON.stringify({ event: "routing_efficiency", payload: { agent_id: "agent-1", efficiency: 0.75 }, ts_ms: ts(n) }));
  // The bad lines a real file from an old release has.
  lines.push('{"event": "step", "payload": {"run_id": "run-1", "step": 3, "loss": 1.2, "steps_per_sec_ema": 9.5}, "ts_ms": ');
  lines.push(JSON.stringify({ event: "step", payload: { run_id: "run-1", step: "4", loss: 1.1, steps_per_sec_ema: 9.5 }, ts_ms: ts(n) }));
  lines.push(JSON.stringify({ event: "train_complete", payload: { run_id: "run-1", steps: n }, ts_ms: String(ts(n)) }));
  lines.push(JSON.stringify({ event: "custom_probe", payload: { note: "unknown events are warnings" }, ts_ms: ts(n) }));
  lines.push(JSON.stringify({ event: "train_complete", payload: { run_id: "run-1", steps: n, final_loss: 0.5 }, ts_ms: ts(n + 1), extra: true }));
  lines.push(JSON.stringify({ event: "train_complete", payload: { run_id: "run-1", steps: n, final_loss: 0.5 }, ts_ms: ts(n + 2) }));
  return lines.join("\n") + "\n";
}
