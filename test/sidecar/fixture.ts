/** The sidecar tests' files: a vox 66 canonical DB (in a text encoding of choice) and a vox 60 sidecar beside it (UTF-8, as vox writes it). */
import { execaSync } from "execa";
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fixtureDb, makeBaselineDb, makeVoxDb, tmp } from "../helpers.js";

const T = 1736933400000;

/**
 * Canonical: vox 66 (the product's baseline) with training rows. Sidecar: a vox 60 file (the older
 * release that opened it), rows present / missing / conflicting in tables with vox's key shapes:
 * TEXT primary key (rowid table without alias), composite key, INTEGER PRIMARY KEY AUTOINCREMENT,
 * a UNIQUE column beside the key, a table vox 66 gave a new column, and an ad-hoc table vox 66 lacks.
 */
type Encoding = "UTF-8" | "UTF-16le" | "UTF-16be";

/** An empty database file in `encoding` (written into the file with its first table; Python's sqlite3: an independent writer). */
function withEncoding(path: string, encoding: Encoding): void {
  if (encoding === "UTF-8") return;
  const py = `import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.execute("PRAGMA encoding='${encoding}'")\nc.execute("CREATE TABLE enc_probe(x)")\nc.execute("DROP TABLE enc_probe")\nc.commit()`;
  execaSync("python3", ["-c", py, path]);
}

/**
 * The two files for these arguments in a new folder: built once per file (the folder the first build
 * went to lives until the file ends; test/file-setup.ts removes it) and copied for every later call,
 * so each test still gets files of its own to change.
 */
const built = new Map<string, { db: string; side: string }>();
export function setup(encoding: Encoding = "UTF-8", sidecarSql = "", sidecarEncoding: Encoding = "UTF-8"): { d: string; db: string; side: string } {
  const key = JSON.stringify([encoding, sidecarSql, sidecarEncoding]);
  let from = built.get(key);
  if (!from || !existsSync(from.db) || !existsSync(from.side)) {
    from = build(encoding, sidecarSql, sidecarEncoding);
    built.set(key, from);
  }
  const d = tmp();
  const db = join(d, "vox.db");
  const side = join(d, "vox_training_telemetry.db");
  copyFileSync(from.db, db);
  copyFileSync(from.side, side);
  return { d, db, side };
}

function build(encoding: Encoding, sidecarSql: string, sidecarEncoding: Encoding): { d: string; db: string; side: string } {
  const d = tmp();
  const db = join(d, "vox.db");
  withEncoding(db, encoding);
  makeBaselineDb(db, [59, 60, 66]);
  const c = fixtureDb(db);
  c.exec(`
    INSERT INTO populi_training_run(run_id, output_dir, data_dir, status, epoch, global_step, last_loss, created_at, updated_at) VALUES
      ('run-same', 'out/a', 'data', 'done', 3, 1200, 0.5, ${T}, ${T}),
      ('run-diff', 'out/b', 'data', 'done', 3, 1200, 0.5, ${T}, ${T});
    INSERT INTO training_throughput_profiles(gpu_name, seq_len, batch_size, ms_per_step, sample_count, last_updated) VALUES
      ('RTX 4090', 2048, 8, 412.5, 10, '2025-01-15T09:30:00Z'),
      ('RTX 4090', 4096, 8, 800.0, 3, '2025-01-15T09:30:00Z');
    INSERT INTO grpo_training_run(id, run_id, step, mean_reward, policy_loss, clip_fraction, parse_rate, created_at) VALUES
      (1, 'g1', 1, 0.25, 1.5, 0.1, 0.9, '2025-01-15 09:30:00'),
      (2, 'g1', 2, 0.5, 1.25, 0.1, 0.95, '2025-01-15 09:31:00');
    INSERT INTO mens_corpus_quality(id, pair_hash, source, parse_valid, ast_depth, construct_count, reward_score, split, created_at) VALUES
      (1, 'h-taken', 'canon', 1, 4, 9, 0.75, 'training', '2025-01-15 09:30:00');`);
  c.close();
  const side = join(d, "vox_training_telemetry.db");
  withEncoding(side, sidecarEncoding);
  makeVoxDb(side, "60", [42, 59, 60]);
  const s = fixtureDb(side);
  s.exec(`
    INSERT INTO populi_training_run(run_id, output_dir, data_dir, status, epoch, global_step, last_loss, created_at, updated_at) VALUES
      ('run-same', 'out/a', 'data', 'done', 3, 1200, 0.5, ${T}, ${T}),
      ('run-diff', 'out/b', 'data', 'failed', 1, 17, 9.25, ${T}, ${T}),
      ('run-new', 'out/' || char(0) || 'nul', 'données/東京', 'done', 2, 9223372036854775807, 3.0, ${T}, ${T});
    INSERT INTO training_throughput_profiles(gpu_name, seq_len, batch_size, ms_per_step, sample_count, last_updated) VALUES
      ('RTX 4090', 2048, 8, 412.5, 10, '2025-01-15T09:30:00Z'),
      ('RTX 4090', 4096, 8, 812.0, 4, '2025-01-16T09:30:00Z'),
      ('RTX 4090', 2048, 16, 790.25, 2, '2025-01-16T09:30:00Z'),
      ('A100', 2048, 8, 201.0, 7, '2025-01-16T09:30:00Z');
    INSERT INTO grpo_training_run(id, run_id, step, mean_reward, policy_loss, clip_fraction, parse_rate, created_at) VALUES
      (1, 'g1', 1, 0.25, 1.5, 0.1, 0.9, '2025-01-15 09:30:00'),
      (2, 'g0', 2, 0.125, 2.5, 0.2, 0.5, '2025-01-14 09:31:00'),
      (40, 'g9', 40, -0.0, 1e308, 5e-324, 1.0, '2025-01-16 09:30:00');
    INSERT INTO mens_corpus_quality(id, pair_hash, source, parse_valid, ast_depth, construct_count, reward_score, split, created_at) VALUES
      (7, 'h-taken', 'sidecar', 1, 4, 9, 0.5, 'training', '2025-01-16 09:30:00'),
      (8, 'h-free', 'sidecar', 0, 2, 3, 0.25, 'eval', '2025-01-16 09:30:00');
    -- a column vox 66 does not have (as if a later vox removed it): the merged row's value goes to quarantine
    ALTER TABLE agent_telemetry_flat ADD COLUMN legacy_gpu_note TEXT;
    INSERT INTO agent_telemetry_flat(id, agent_id, session_id, repository_id, event_kind, model_id, input_tokens, cost_usd, payload_json, recorded_at_ms, legacy_gpu_note) VALUES
      (1, 'mens', 's1', 'repo', 'train_step', 'qwen', 2048, 0.0125, '{"loss":2.5}', ${T}, 'ran on the old box');
    CREATE TABLE old_probe (x);
    INSERT INTO old_probe VALUES (1), (X'00ff');`);
  if (sidecarSql) s.exec(sidecarSql);
  s.close();
  return { d, db, side };
}
