import { afterEach, describe, expect, it } from "vitest";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { execaSync } from "execa";
import Database from "libsql";
import { readFacts } from "../../src/schema/facts.js";
import { compareFacts, structureOnly } from "../../src/schema/compare.js";
import { cli, ROOT, sampleInto, sha256, snapshotDir, sqlite, tmp } from "../helpers.js";
import { checkCorpus, corpusCases, loadFacts } from "../fixtures/corpus.js";

const dirs: string[] = [];
const mk = () => {
  const d = tmp("vox-sample-");
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function factsOf(path: string) {
  const db = new Database(path, { readonly: true });
  db.defaultSafeIntegers(true);
  try {
    return readFacts(db);
  } finally {
    db.close();
  }
}

describe("sample", () => {
  it("writes vox 60's tables with vox's schema_version, ad-hoc rows, a user's tables and real-world values", async () => {
    const dir = mk();
    const db = join(dir, "vox.db");
    const r = await cli(["sample", db, "--seed", "7", "--rows", "16", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.sidecar).toBe(join(dir, "vox_training_telemetry.db"));
    expect(r.json.telemetry).toBe(join(dir, "telemetry.jsonl"));
    expect(r.json.versions).toEqual([59, 60, 100, 101, 110]);
    expect(r.json.baseline).toBe(60);
    const d = await cli(["diagnose", "--db", db, "--json"]);
    expect(d.json.chain).toBe("legacy");

    const c = await checkCorpus(db);
    expect(c.integrity).toEqual(["ok"]);
    expect(c.schemaVersion.map((v) => v[0])).toEqual([59, 60, 100, 101, 110]);
    expect(c.schemaVersion.every((v) => v[2] === "text" && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(v[1]))).toBe(true);
    expect(c.schemaVersionSql).toMatch(/version INTEGER PRIMARY KEY,\s*applied_at TEXT NOT NULL DEFAULT \(datetime\('now'\)\)/);
    // The package's copy of vox's facts is the shared one (where the project's shared/ lies beside the checkout).
    const shared = join(ROOT, "..", "shared", "vox-reference", "schema-60.json");
    if (existsSync(shared)) expect(readFileSync(join(ROOT, "schema/vox-reference/schema-60.json"), "utf8")).toBe(readFileSync(shared, "utf8"));
    // vox 60's structure exactly, nothing invented; the user's ad-hoc tables beside it.
    const cmp = compareFacts(factsOf(db), structureOnly(loadFacts("60")));
    expect(cmp.equal, JSON.stringify(cmp.diffs.slice(0, 3))).toBe(true);
    expect(cmp.diffs.flatMap((x) => x.extraColumns)).toEqual([]);
    expect(cmp.extraTables.sort()).toEqual(["user_bookmarks", "user_kv"]);
    expect(r.json.tables.length).toBe(Object.keys(loadFacts("60").tables).length + 2);
    // Rows in every table; foreign keys point at existing rows, but for a few orphans.
    const empty = Object.entries(c.counts).filter(([, n]) => n === 0);
    expect(empty).toEqual([]);
    const orphans = Object.values(c.foreignKeyViolations).reduce((a, b) => a + b, 0);
    const total = Object.values(c.counts).reduce((a, b) => a + b, 0);
    expect(total).toBe(r.json.totalRows);
    expect(orphans).toBeGreaterThan(0);
    expect(orphans / total).toBeLessThan(0.05);

    // The awkward values, where real data has them, with their storage class (Python's sqlite3).
    const cases = await corpusCases(db);
    for (const name of [
      "int beyond 2^53",
      "int64 max",
      "int64 min",
      "NULL",
      "unicode text",
      "NUL inside text",
      "text starting base64:",
      "3.0",
      "1e308",
      "5e-324",
      "-0.0",
      "JSON text",
      "TEXT in an INTEGER column",
      "REAL in an INTEGER column",
      "blob with NUL bytes",
      "empty blob",
    ]) {
      expect(cases[name]?.count ?? 0, name).toBeGreaterThan(0);
    }
    expect(cases["TEXT in an INTEGER column"]!.where.every((w) => w[2].toUpperCase().includes("INT") && w[3] === "text")).toBe(true);
    expect(cases["REAL in an INTEGER column"]!.where.every((w) => w[2].toUpperCase().includes("INT") && w[3] === "real")).toBe(true);
    expect(cases["JSON text"]!.where.every((w) => w[1].endsWith("_json"))).toBe(true);
    expect(cases["-0.0"]!.where).toEqual([["user_kv", "v", "", "real"]]); // a REAL-affinity column keeps 0.0 without its sign
    expect(sqlite(db, "SELECT count(*) FROM pragma_table_list WHERE name = 'knowledge_nodes_fts'")).toBe("1");

    // vox's publication digests (SHA3-256 of the key-sorted compact JSON): right except every fourth.
    const py = `
import sqlite3, json, hashlib, sys
c = sqlite3.connect(sys.argv[1])
F = ["publication_id","content_type","source_ref","title","author","abstract_text","body_markdown","citations_json","metadata_json"]
ok = bad = 0
for row in c.execute("SELECT " + ",".join(F) + ", content_sha3_256 FROM publication_manifests ORDER BY rowid"):
    doc = json.dumps(dict(zip(F, row[:-1])), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if hashlib.sha3_256(doc.encode("utf-8")).hexdigest() == row[-1]: ok += 1
    else: bad += 1
print(ok, bad)`;
    expect(execaSync("python3", ["-c", py, db]).stdout).toBe("12 4");
  });

  it("the sidecar is a vox 42 database holding training rows: present, new and one conflict", async () => {
    const dir = mk();
    const db = join(dir, "vox.db");
    const side = join(dir, "vox_training_telemetry.db");
    expect((await cli(["sample", db, "--seed", "3", "--rows", "10"])).exitCode).toBe(0);
    const c = await checkCorpus(side);
    expect(c.integrity).toEqual(["ok"]);
    expect(c.schemaVersion.map((v) => v[0])).toEqual([41, 42]);
    expect(compareFacts(factsOf(side), structureOnly(loadFacts("42"))).equal).toBe(true);
    const q = (sql: string) => execaSync("sqlite3", [side, `ATTACH '${db}' AS m; ${sql}`]).stdout;
    const cols = "gpu_name, model_id, preset, wall_secs, total_steps, total_tokens, ms_per_step, created_at";
    const present = Number(
      q(
        `SELECT count(*) FROM local_train_log s WHERE EXISTS (SELECT 1 FROM m.local_train_log x WHERE x.id = s.id AND (${cols
          .split(", ")
          .map((k) => `x.${k} IS s.${k}`)
          .join(" AND ")}))`,
      ),
    );
    const conflict = Number(
      q(
        `SELECT count(*) FROM local_train_log s JOIN m.local_train_log x ON x.id = s.id WHERE NOT (${cols
          .split(", ")
          .map((k) => `x.${k} IS s.${k}`)
          .join(" AND ")})`,
      ),
    );
    const fresh = Number(q("SELECT count(*) FROM local_train_log s WHERE s.id NOT IN (SELECT id FROM m.local_train_log)"));
    expect(present).toBeGreaterThan(0);
    expect(conflict).toBe(1);
    expect(fresh).toBeGreaterThan(0);
    expect(Number(q("SELECT count(*) FROM training_throughput_profiles"))).toBeGreaterThan(0);
  });

  it("telemetry.jsonl as vox's trainers write it, with a few bad lines", async () => {
    const dir = mk();
    await sampleInto(dir, 20); // what `sample DIR/vox.db --rows 20` wrote (run once per worker; throws unless it exited 0), copied
    const lines = readFileSync(join(dir, "telemetry.jsonl"), "utf8").split("\n");
    expect(lines.pop()).toBe("");
    const good: { event: string; payload: Record<string, unknown>; ts_ms: number }[] = [];
    let bad = 0;
    for (const l of lines) {
      let o: any;
      try {
        o = JSON.parse(l);
      } catch {
        bad++;
        continue;
      }
      const shape =
        o &&
        typeof o === "object" &&
        !Array.isArray(o) &&
        Object.keys(o).sort().join() === "event,payload,ts_ms" &&
        typeof o.event === "string" &&
        o.event !== "" &&
        o.payload &&
        typeof o.payload === "object" &&
        !Array.isArray(o.payload) &&
        Number.isInteger(o.ts_ms) &&
        (o.payload.step === undefined || Number.isInteger(o.payload.step));
      if (shape) good.push(o);
      else bad++;
    }
    expect(bad).toBe(6);
    const starts = good.filter((g) => g.event === "train_start");
    expect(starts).toHaveLength(2);
    const head = starts[1]!.payload;
    expect(Object.keys(head).sort()).toEqual([
      "compute_device",
      "epochs",
      "grad_accum",
      "n_heads",
      "n_kv_heads",
      "output",
      "planned_optimizer_steps_total",
      "planned_steps_total",
      "run_id",
      "seed",
      "train_file",
      "warmup_steps",
    ]);
    const steps = good.filter((g) => g.event === "step" && "optimizer_step" in g.payload);
    expect(steps).toHaveLength(20);
    for (const k of [
      "epoch",
      "step",
      "optimizer_step",
      "loss",
      "lr",
      "learning_rate",
      "eta_seconds_remaining",
      "progress_fraction",
      "steps_per_sec_ema",
      "tokens_per_sec",
      "tokens_per_sec_is_proxy",
      "valid_tokens",
      "theoretical_tokens",
      "supervised_ratio_pct",
    ]) {
      expect(steps[0]!.payload, k).toHaveProperty(k);
    }
    expect(steps[0]!.payload.steps_per_sec_ema).toBeNull();
    expect(steps[0]!.payload.tokens_per_sec).toBeNull();
    expect(steps[0]!.payload.eta_seconds_remaining).toBeNull();
    expect(typeof steps[10]!.payload.eta_seconds_remaining).toBe("number");
    const done = good.filter((g) => g.event === "train_complete");
    expect(Object.keys(done[0]!.payload).sort()).toEqual(["final_adapter", "global_step", "optimizer_step", "run_id"]);
    expect(good.map((g) => g.ts_ms)).toEqual([...good.map((g) => g.ts_ms)].sort((a, b) => a - b));
  });

  it("is deterministic for a seed and different for another", async () => {
    const a = mk(),
      b = mk(),
      c = mk();
    await cli(["sample", join(a, "vox.db"), "--seed", "3", "--rows", "12"]);
    await cli(["sample", join(b, "vox.db"), "--seed", "3", "--rows", "12"]);
    await cli(["sample", join(c, "vox.db"), "--seed", "4", "--rows", "12"]);
    for (const f of ["vox.db", "vox_training_telemetry.db", "telemetry.jsonl"]) expect(sha256(join(a, f)), f).toBe(sha256(join(b, f)));
    expect(sha256(join(a, "vox.db"))).not.toBe(sha256(join(c, "vox.db")));
    expect(sqlite(join(a, "vox.db"), "SELECT group_concat(id) FROM users")).not.toBe(sqlite(join(c, "vox.db"), "SELECT group_concat(id) FROM users"));
  });

  it("--rows scales it", async () => {
    const dir = mk();
    await cli(["sample", join(dir, "vox.db"), "--rows", "200"]);
    expect(sqlite(join(dir, "vox.db"), "SELECT count(*) FROM users")).toBe("200");
    expect(sqlite(join(dir, "vox.db"), "SELECT count(*) FROM conversation_messages")).toBe("200");
  });

  it("refuses to overwrite (exit 3) and a missing folder (exit 2), writing nothing", async () => {
    const dir = mk();
    await sampleInto(dir, 10); // a sample already at that path: the worker's, copied
    const before = snapshotDir(dir);
    const r = await cli(["sample", join(dir, "vox.db")]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/never overwrites/);
    expect(snapshotDir(dir)).toEqual(before);
    const r2 = await cli(["sample", join(dir, "nope", "vox.db")]);
    expect(r2.exitCode).toBe(2);
    expect(snapshotDir(dir)).toEqual(before);
  });
});
