/**
 * `vox-cutover sample OUT`: a legacy VoxDB the way real vox leaves one.
 *
 * - vox baseline 60's tables, built from vox's own schema facts (schema/vox-reference/schema-60.json,
 *   a copy of ../shared/vox-reference) with our DDL-from-facts: nothing invented.
 * - `schema_version` as vox writes it, rows 59 and 60 (baselines) plus 100, 101 and 110 from the
 *   user's `apply_migrations` (so the chain is `legacy`); those created two ad-hoc tables.
 * - Rows in every vox table with the values real files hold (see VALUE_CASES in ./fill.ts); foreign
 *   keys point at existing rows except a few orphans, as in files written with enforcement off.
 * - `vox_training_telemetry.db` beside it: a vox baseline-42 database (rows 41, 42) holding training
 *   rows, some already in the main file, some new, one conflicting.
 * - `telemetry.jsonl` as vox's trainers write it (`{"event","payload","ts_ms"}`), with a few bad lines.
 */
import Database from "libsql";
import { accessSync, constants, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { refused, usage } from "../errors.js";
import { SIDECAR_NAME } from "../layout.js";
import { removeOwnDatabaseFiles } from "../db/files.js";
import { allRows, type LibsqlDatabase } from "../db/local.js";
import { quoteIdent, type SqlValue } from "../db/value.js";
import { factsToFragments } from "../schema/ddl.js";
import { readTableList, type SchemaFacts } from "../schema/facts.js";
import { packageRoot } from "../util/paths.js";
import { contentSha3, MANIFEST_CONTENT_FIELDS } from "../news/news.js";
import { fillTables, T0 } from "./fill.js";
import { Prng } from "./prng.js";

interface SampleOptions {
  out: string;
  seed: number;
  rows: number;
}

interface SampleResult {
  path: string;
  sidecar: string;
  telemetry: string;
  versions: number[];
  tables: { name: string; rows: number }[];
  totalRows: number;
  /** The vox baseline whose tables the file has. */
  baseline: number;
  /** Tables the user's ad-hoc migrations added (not vox's). */
  adhocTables: string[];
}

/** vox baselines 59 and 60, then the user's `apply_migrations` rows: a `legacy` chain. */
const SAMPLE_VERSIONS = [59, 60, 100, 101, 110];
const SAMPLE_BASELINE = 60;
const SIDECAR_BASELINE = 42;
const SIDECAR_VERSIONS = [41, 42];
/** The training tables the sidecar holds rows in (vox 42's own). */
const SIDECAR_TABLES = ["local_train_log", "training_throughput_profiles"];

/** What the user's ad-hoc migrations 100, 101 and 110 did. */
export const ADHOC_MIGRATIONS: { version: number; sql: string }[] = [
  { version: 100, sql: "CREATE TABLE user_bookmarks (id INTEGER PRIMARY KEY, url TEXT NOT NULL, title TEXT, tags_json TEXT, added_at TEXT NOT NULL)" },
  { version: 101, sql: "CREATE INDEX idx_user_bookmarks_added ON user_bookmarks (added_at)" },
  { version: 110, sql: "CREATE TABLE user_kv (k TEXT PRIMARY KEY, v)" },
];
export const ADHOC_TABLES = ["user_bookmarks", "user_kv"];

/** vox facts kept inside the package (schema/vox-reference/schema-N.json). */
function voxReferenceFacts(version: number): SchemaFacts {
  return JSON.parse(readFileSync(join(packageRoot(), "schema", "vox-reference", `schema-${version}.json`), "utf8")) as SchemaFacts;
}

/** `datetime('now')` as vox's `INSERT INTO schema_version (version)` leaves it, on a fixed clock. */
function appliedAt(i: number, n: number): string {
  return new Date(T0 - (n - i) * 86_400_000 * 9).toISOString().replace("T", " ").slice(0, 19);
}

/** Every statement of a facts file (tables, indexes, seed rows, FTS5 with its triggers) into `db`. */
function buildFromFacts(db: LibsqlDatabase, facts: SchemaFacts): void {
  for (const frag of factsToFragments(facts)) for (const s of frag.statements) db.exec(s);
}

export function writeVersions(db: LibsqlDatabase, versions: number[]): void {
  const ins = db.prepare("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)");
  versions.forEach((v, i) => ins.run(BigInt(v), appliedAt(i, versions.length)));
}

export function generateSample(opts: SampleOptions): SampleResult {
  if (!Number.isInteger(opts.rows) || opts.rows < 1 || opts.rows > 10_000_000) {
    throw usage({
      what: `--rows must be a whole number from 1 to 10000000 (got ${opts.rows}).`,
      untouched: "Nothing was written.",
      next: "Run again with, e.g., --rows 50.",
    });
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
    throw usage({
      what: `The folder ${dirname(out)} does not exist.`,
      untouched: "Nothing was written.",
      next: `Create it first (mkdir -p '${dirname(out)}') or choose another OUT.`,
    });
  }
  try {
    accessSync(dirname(out), constants.W_OK | constants.X_OK);
  } catch (e) {
    // It was "Unexpected failure in sample: ConnectionFailed(… 14)": SQLite could not make the file.
    throw usage({
      what: `The folder ${dirname(out)} is not writable by this user (${(e as NodeJS.ErrnoException).code ?? "EACCES"}): sample writes OUT, its sidecar and telemetry.jsonl there.`,
      untouched: "Nothing was written.",
      next: "Choose an OUT in a folder you may write (e.g. a new folder under your home or /tmp).",
    });
  }
  const tmp = `${out}.vox-cutover-sample-${process.pid}`;
  const tmpSide = `${sidecar}.vox-cutover-sample-${process.pid}`;
  try {
    const facts = voxReferenceFacts(SAMPLE_BASELINE);
    const db = new Database(tmp);
    db.defaultSafeIntegers(true);
    let result: SampleResult;
    try {
      db.exec("PRAGMA journal_mode=DELETE");
      db.exec("PRAGMA foreign_keys=OFF"); // vox's files hold orphans; libsql enforces by default
      db.exec("BEGIN");
      buildFromFacts(db, facts);
      for (const m of ADHOC_MIGRATIONS) db.exec(m.sql);
      writeVersions(db, SAMPLE_VERSIONS);
      const rng = new Prng(opts.seed);
      fillTables(db, facts, rng, { rows: opts.rows, orphans: true });
      fillAdhoc(db, rng, opts.rows);
      stampDigests(db);
      db.exec("COMMIT");
      const tables = readTableList(db)
        .filter((t) => t.type === "table" && !t.name.startsWith("sqlite_"))
        .map((t) => t.name)
        .sort()
        .map((name) => ({ name, rows: Number(allRows(db, `SELECT count(*) AS n FROM ${quoteIdent(name)}`)[0]!.n) }));
      result = {
        path: out,
        sidecar,
        telemetry,
        versions: SAMPLE_VERSIONS,
        tables,
        totalRows: tables.reduce((n, t) => n + t.rows, 0),
        baseline: SAMPLE_BASELINE,
        adhocTables: ADHOC_TABLES,
      };
    } finally {
      db.close();
    }
    writeSidecar(tmpSide, new Prng(opts.seed + 1), opts.rows, tmp);
    const telemetryText = telemetryLines(new Prng(opts.seed + 2), Math.max(12, Math.min(opts.rows, 500)));
    renameSync(tmp, out);
    renameSync(tmpSide, sidecar);
    writeFileSync(telemetry, telemetryText, { flag: "wx" });
    return result;
  } finally {
    for (const p of [tmp, tmpSide]) removeOwnDatabaseFiles(p);
  }
}

/** The user's own tables: bookmarks, and a key/value table whose untyped column holds anything (even -0.0). */
export function fillAdhoc(db: LibsqlDatabase, rng: Prng, rows: number): void {
  const b = db.prepare("INSERT INTO user_bookmarks (id, url, title, tags_json, added_at) VALUES (?, ?, ?, ?, ?)");
  for (let i = 0; i < Math.max(3, Math.ceil(rows / 5)); i++) {
    b.run(
      BigInt(i + 1),
      `https://example.org/${rng.words(1)}/${i}`,
      i === 1 ? "Zoë’s notes — 東京" : rng.words(3),
      i % 3 === 2 ? null : JSON.stringify([rng.words(1), "ünï"]),
      new Date(T0 + i * 3_600_000).toISOString(),
    );
  }
  const kv = db.prepare("INSERT INTO user_kv (k, v) VALUES (?, ?)");
  const vals: SqlValue[] = [-0.0, 3.0, 9223372036854775807n, "base64:bm90IGEgYmxvYg==", Uint8Array.from([0, 0, 1]), null, "text\u0000nul", 1e308];
  vals.forEach((v, i) => kv.run(`key-${i}`, v));
}

/**
 * vox's publication digests: right for most manifests, stale for every fourth (content edited after
 * hashing). Text is read as bytes (`CAST … AS BLOB`): the driver cuts a TEXT value at a NUL.
 */
function stampDigests(db: LibsqlDatabase): void {
  const sel = MANIFEST_CONTENT_FIELDS.map(
    (f) => `typeof(${f}) AS "t:${f}", CASE WHEN typeof(${f}) = 'text' THEN CAST(${f} AS BLOB) ELSE ${f} END AS "v:${f}"`,
  ).join(", ");
  const rows = allRows(db, `SELECT rowid AS rid, ${sel} FROM publication_manifests ORDER BY rowid`);
  const up = db.prepare("UPDATE publication_manifests SET content_sha3_256 = ? WHERE rowid = ?");
  rows.forEach((r, i) => {
    const content: Record<string, SqlValue> = {};
    for (const f of MANIFEST_CONTENT_FIELDS) {
      const v = r[`v:${f}`]!;
      content[f] = r[`t:${f}`] === "text" ? Buffer.from(v as Uint8Array).toString("utf8") : v;
    }
    if (i % 4 === 3) content.title = `${String(content.title)} (before an edit)`;
    up.run(contentSha3(content), r.rid as bigint);
  });
}

/**
 * The sidecar: a vox 42 database holding training rows. Half of the main file's training rows are
 * here unchanged (present), one with another value (a conflict), and new ones the main file lacks.
 */
function writeSidecar(path: string, rng: Prng, rows: number, mainPath: string): void {
  const facts = voxReferenceFacts(SIDECAR_BASELINE);
  const db = new Database(path);
  db.defaultSafeIntegers(true);
  try {
    db.exec("PRAGMA journal_mode=DELETE");
    db.exec("PRAGMA foreign_keys=OFF");
    db.exec("BEGIN");
    buildFromFacts(db, facts);
    writeVersions(db, SIDECAR_VERSIONS);
    fillTables(db, facts, rng, { rows: Math.max(2, Math.ceil(rows / 2)) }, SIDECAR_TABLES);
    // New rows get ids the main file does not use.
    db.exec("UPDATE local_train_log SET id = id + 1000000 WHERE id < 1000000");
    db.exec("COMMIT");
    db.prepare("ATTACH DATABASE ? AS main_db").run(mainPath);
    db.exec("BEGIN");
    for (const t of SIDECAR_TABLES) {
      const cols = facts.tables[t]!.columns.map((c) => quoteIdent(c.name)).join(", ");
      db.exec(`INSERT OR IGNORE INTO main.${quoteIdent(t)} (${cols}) SELECT ${cols} FROM main_db.${quoteIdent(t)} WHERE rowid % 2 = 1`);
    }
    const conflict = allRows(db, "SELECT id FROM main_db.local_train_log WHERE rowid % 2 = 0 ORDER BY rowid LIMIT 1")[0];
    if (conflict) {
      db.prepare(
        "INSERT INTO main.local_train_log (id, gpu_name, model_id, preset, wall_secs, total_steps, total_tokens, ms_per_step, created_at) SELECT id, gpu_name, model_id, 'preset edited in the sidecar', wall_secs, total_steps, total_tokens, ms_per_step, created_at FROM main_db.local_train_log WHERE id = ?",
      ).run(conflict.id as bigint);
    }
    db.exec("COMMIT");
    db.exec("DETACH DATABASE main_db");
  } finally {
    db.close();
  }
}

/**
 * A telemetry JSONL as vox's trainers write it: an older writer's run (the key subset of vox's
 * telemetry_schema.rs), then a run by the Candle trainer at vox HEAD (train_start, step lines with
 * nulls during warm-up, train_complete), then a few bad lines (line numbers stable per seed).
 */
function telemetryLines(rng: Prng, n: number): string {
  const lines: string[] = [];
  let ts = T0;
  const tick = () => (ts += rng.int(180, 420));
  const emit = (event: string, payload: Record<string, unknown>) => lines.push(JSON.stringify({ event, payload, ts_ms: tick() }));
  // An older writer: run metadata keys of telemetry_schema.rs.
  emit("train_start", {
    train_file: "data/train.jsonl",
    output: "runs/older",
    seed: 7,
    grad_accum: 4,
    pairs_loaded: 1200,
    execution_kernel: "burn-wgpu",
    contract_digest: "sha3:" + "ab".repeat(16),
    telemetry_schema: 1,
    candle_compat_mode: "off",
    epochs: 1,
    planned_steps_per_epoch: 3,
    planned_steps_total: 3,
  });
  for (let s = 1; s <= 3; s++) emit("step", { epoch: 0, step: s, loss: 2.5 - s * 0.1, lr: 2e-4 });
  emit("gpu_fallback", { reason: "CUDA out of memory; continuing on CPU" });
  // vox HEAD's Candle trainer.
  const warmup = 3;
  const total = n;
  const runId = `run-${hexOf(rng, 6)}`;
  emit("train_start", {
    train_file: "data/train.jsonl",
    output: "runs/latest",
    seed: 42,
    grad_accum: 2,
    epochs: 2,
    planned_steps_total: total,
    planned_optimizer_steps_total: Math.ceil(total / 2),
    compute_device: "cuda:0",
    warmup_steps: warmup,
    n_heads: 16,
    n_kv_heads: 4,
    run_id: runId,
  });
  let ema: number | null = null;
  for (let s = 1; s <= total; s++) {
    const lr = s <= warmup ? (2e-4 * s) / warmup : 2e-4;
    if (s > 1) ema = ema === null ? 10 + rng.next() : ema * 0.9 + (10 + rng.next()) * 0.1;
    const warm = s <= warmup;
    const valid = rng.int(900, 1024);
    emit("step", {
      epoch: Math.floor(((s - 1) * 2) / total),
      step: s,
      optimizer_step: Math.ceil(s / 2),
      loss: Math.round((3 - (2 * s) / total + rng.next() * 0.05) * 1e6) / 1e6,
      lr,
      learning_rate: lr,
      eta_seconds_remaining: warm ? null : Math.round(((total - s) / (ema ?? 10)) * 100) / 100,
      progress_fraction: s / total,
      steps_per_sec_ema: ema,
      tokens_per_sec: ema === null ? null : Math.round(ema * valid * 100) / 100,
      tokens_per_sec_is_proxy: true,
      valid_tokens: valid,
      theoretical_tokens: 1024,
      supervised_ratio_pct: Math.round((valid / 1024) * 10000) / 100,
    });
  }
  emit("train_complete", { global_step: total, optimizer_step: Math.ceil(total / 2), final_adapter: "runs/latest/adapter.safetensors", run_id: runId });
  // The bad lines a real file collects: a line cut by a crash, wrong types, a line that is not an object.
  lines.push('{"event":"step","payload":{"epoch":1,"step":' + (total + 1) + ',"loss":0.91');
  lines.push(JSON.stringify({ event: "step", payload: { step: "7", loss: 1.1 }, ts_ms: tick() }));
  lines.push(JSON.stringify({ event: "train_complete", payload: { global_step: total }, ts_ms: String(tick()) }));
  lines.push(JSON.stringify({ event: "step", payload: [1, 2, 3], ts_ms: tick() }));
  lines.push(JSON.stringify({ event: "", payload: {}, ts_ms: tick() }));
  lines.push(JSON.stringify({ event: "step", payload: { step: total + 2, loss: 0.9 }, ts_ms: tick() + 0.5 }));
  return lines.join("\n") + "\n";
}

function hexOf(rng: Prng, n: number): string {
  return Array.from(rng.bytes(n), (b) => b.toString(16).padStart(2, "0")).join("");
}
