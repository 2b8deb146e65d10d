/**
 * Stage 2 when the canonical DB and the sidecar differ in text encoding: since issue 17 a UTF-16
 * vox.db stays UTF-16, and vox writes its sidecar in UTF-8 (SQLite refuses to attach it). The
 * sidecar's rows are carried into the canonical encoding exactly, or quarantined whole with the
 * reason; the dry-run makes the same comparison. Judged by the sqlite3 CLI and Python's sqlite3.
 */
import { describe, expect, it } from "vitest";
import { execaSync } from "execa";
import { copyFileSync, existsSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, interruptAt, sampleInto, sha256, sqlite, tmp } from "../helpers.js";
import { buildCorpusFile } from "../fixtures/corpus.js";
import { setup } from "./fixture.js";
import { allRows, openReadOnly } from "../../src/db/local.js";
import { attachSidecar, detachSidecar } from "../../src/sidecar/carry.js";

const T = 1736933400000;
/** Rows only an exact carry keeps: U+FFFE/U+FFFF inside, a leading U+FEFF, int64 limits; and one that cannot be carried (bytes that are not UTF-8). */
const HARD_ROWS = `
  INSERT INTO populi_training_run(run_id, output_dir, data_dir, status, epoch, global_step, last_loss, created_at, updated_at) VALUES
    ('run-odd', 'x' || char(65534) || char(65535) || 'y', char(65279) || 'bom-led', 'done', 1, -9223372036854775808, 1e308, ${T}, ${T}),
    ('run-bad', CAST(X'ff6f6b' AS TEXT), 'data', 'done', 1, 1, 0.5, ${T}, ${T});`;

const u16 = (s: string) => Buffer.from(s, "utf16le").toString("hex").toUpperCase();

function py(db: string, code: string): any {
  return JSON.parse(execaSync("python3", ["-c", `import sqlite3, json, sys\ncon = sqlite3.connect(sys.argv[1])\n${code}`, db]).stdout);
}

const counts = (tables: any[]) => Object.fromEntries(tables.filter((t) => t.rows > 0).map((t) => [t.name, [t.rows, t.present, t.merged, t.conflicts]]));

/** What the UTF-16le canonical DB must hold after the merge: the carried rows' exact bytes and classes, the uncarried row in quarantine. */
function expectCarried(db: string, runId: string, conflicts: string[]): void {
  expect(sqlite(db, "PRAGMA encoding")).toBe("UTF-16le");
  expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
  expect(
    sqlite(
      db,
      "SELECT hex(CAST(output_dir AS BLOB)), typeof(output_dir), hex(CAST(data_dir AS BLOB)), global_step, typeof(global_step), quote(last_loss) FROM populi_training_run WHERE run_id = 'run-odd'",
    ),
  ).toBe(`${u16("x\uFFFE\uFFFFy")}|text|${u16("\uFEFFbom-led")}|-9223372036854775808|integer|1.0e+308`);
  expect(
    py(
      db,
      `print(json.dumps(con.execute("SELECT output_dir, data_dir, global_step, typeof(global_step), last_loss, typeof(last_loss) FROM populi_training_run WHERE run_id = 'run-new'").fetchone()))`,
    ),
  ).toEqual(["out/\0nul", "données/東京", 9223372036854775807, "integer", 3.0, "real"]);
  expect(sqlite(db, "SELECT hex(CAST(output_dir AS BLOB)) FROM populi_training_run WHERE run_id = 'run-new'")).toBe(u16("out/\0nul"));
  expect(sqlite(db, "SELECT count(*) FROM populi_training_run WHERE run_id = 'run-bad'")).toBe("0");
  const q = py(
    db,
    `print(json.dumps(con.execute("SELECT source_key, row_json, reason, run_id FROM legacy_quarantine WHERE source_table = 'populi_training_run' ORDER BY source_key").fetchall()))`,
  );
  expect(q.map((x: any[]) => JSON.parse(x[0]))).toEqual([["run-bad"], ...conflicts.map((k) => [k])]);
  expect(q[0][2]).toMatch(/^sidecar-rejected: cannot be carried exactly into the UTF-16le database \(output_dir: its bytes are not valid UTF-8 text\)$/);
  // the row whole, its text that is not UTF-8 as its exact bytes
  expect(JSON.parse(q[0][1])).toMatchObject({ run_id: "run-bad", output_dir: { t: Buffer.from("ff6f6b", "hex").toString("base64") }, data_dir: "data" });
  expect(q.slice(1).every((x: any[]) => x[2] === "sidecar-conflict")).toBe(true);
  expect(q.every((x: any[]) => x[3] === runId)).toBe(true);
}

describe("Stage 2 across text encodings, and what would stop it found before the swap", () => {
  it("sidecar dry-run and --apply --merge: the same counts; rows carried byte-exact (U+FFFE/U+FFFF, leading U+FEFF, NUL, int64 limits), a row that is not UTF-8 quarantined whole", async () => {
    const { d, db, side } = setup("UTF-16le", HARD_ROWS);
    expect(sqlite(side, "PRAGMA encoding")).toBe("UTF-8");
    const dry = await cli(["sidecar", "--db", db, "--json"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const want = {
      populi_training_run: [5, 1, 2, 2],
      training_throughput_profiles: [4, 1, 2, 1],
      grpo_training_run: [3, 1, 1, 1],
      mens_corpus_quality: [2, 0, 2, 0], // the dry-run compares keys; the UNIQUE pair_hash refuses one at the merge
      agent_telemetry_flat: [1, 0, 1, 0],
      old_probe: [2, 0, 0, 0],
    };
    expect(counts(dry.json.tables)).toMatchObject(want);
    const r = await cli(["sidecar", "--db", db, "--apply", "--merge", "--work-dir", join(d, "work"), "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(counts(r.json.tables)).toEqual({ ...counts(dry.json.tables), mens_corpus_quality: [2, 0, 1, 1] });
    expectCarried(db, r.json.runId, ["run-diff"]);
    const grpo = "SELECT quote(mean_reward), quote(policy_loss), quote(clip_fraction), typeof(mean_reward) FROM grpo_training_run WHERE id = 40";
    expect(sqlite(db, grpo)).toBe(sqlite(r.json.archive.path, grpo));
    expect(sqlite(db, "SELECT command, json_extract(counts_json, '$.merged'), json_extract(counts_json, '$.conflicts') FROM cutover_ledger")).toBe(
      "sidecar|7|5",
    );
    expect(readdirSync(d).sort()).toEqual(["vox.db", "work"]);
  });

  it("both UTF-16le, the sidecar holding a long text that starts with U+FEFF (SQLite reads it without): that row is quarantined with the reason, never merged short; the others merge", async () => {
    const long = "\uFEFF" + "long-bom ".repeat(2000);
    const { d, db, side } = setup(
      "UTF-16le",
      `INSERT INTO populi_training_run(run_id, output_dir, data_dir, status, epoch, global_step, last_loss, created_at, updated_at) VALUES
         ('run-long', '${long}', 'data', 'done', 1, 1, 0.5, ${T}, ${T});`,
      "UTF-16le",
    );
    expect(sqlite(side, "PRAGMA encoding")).toBe("UTF-16le");
    expect(sqlite(side, "SELECT hex(substr(output_dir, 1, 1)), length(output_dir) FROM populi_training_run WHERE run_id = 'run-long'")).toBe(
      `FFFE|${long.length}`,
    );
    // found in the comparison's own transaction: rolled back, the sidecar carried instead (the dry-run alike)
    const dry = await cli(["sidecar", "--db", db, "--json"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(counts(dry.json.tables).populi_training_run).toEqual([4, 1, 1, 2]);
    const r = await cli(["sidecar", "--db", db, "--apply", "--merge", "--work-dir", join(d, "work"), "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(counts(r.json.tables).populi_training_run).toEqual([4, 1, 1, 2]);
    expect(sqlite(db, "SELECT count(*) FROM populi_training_run WHERE run_id IN ('run-long', 'run-new')")).toBe("1");
    expect(sqlite(db, "SELECT hex(CAST(output_dir AS BLOB)) FROM populi_training_run WHERE run_id = 'run-new'")).toBe(u16("out/\0nul"));
    const reason = sqlite(db, "SELECT reason FROM legacy_quarantine WHERE source_key = '[\"run-long\"]'");
    expect(reason).toMatch(
      /^sidecar-rejected: cannot be carried exactly .*output_dir: a long UTF-16le text starting with U\+FEFF or U\+FFFE, which SQLite reads without that character/,
    );
    // the exact value stays in the archived sidecar (and its verified backup)
    expect(sqlite(r.json.archive.path, "SELECT hex(substr(output_dir, 1, 1)), length(output_dir) FROM populi_training_run WHERE run_id = 'run-long'")).toBe(
      `FFFE|${long.length}`,
    );
  });

  it("a UTF-16le canonical DB's long text led by U+FEFF/U+FFFE (SQLite reads it without): compared on the stored bytes, identical rows present, differing ones quarantined", async () => {
    const row = (id: string, text: string) =>
      `INSERT INTO populi_training_run(run_id, output_dir, data_dir, status, epoch, global_step, last_loss, created_at, updated_at) VALUES ('${id}', ${text}, 'data', 'done', 1, 1, 0.5, ${T}, ${T});`;
    const x = (c: string) => `printf('%.*c', 5000, '${c}')`;
    // the sidecar is UTF-8 (char() is exact there); the canonical's U+FFFE is written as its UTF-16le bytes (FE FF)
    const { d, db } = setup(
      "UTF-16le",
      [
        row("bom-same", `char(65279) || ${x("x")}`),
        row("bom-diff", x("y")),
        row("fffe-same", `char(65534) || ${x("z")}`),
        row("lead-swap", `char(65279) || ${x("w")}`),
      ].join("\n"),
    );
    execaSync("sqlite3", [
      db,
      [
        row("bom-same", `char(65279) || ${x("x")}`),
        row("bom-diff", `char(65279) || ${x("y")}`),
        row("fffe-same", `CAST(X'FEFF' AS TEXT) || ${x("z")}`),
        row("lead-swap", `CAST(X'FEFF' AS TEXT) || ${x("w")}`),
      ].join("\n"),
    ]);
    const lead =
      "SELECT run_id, hex(substr(CAST(output_dir AS BLOB), 1, 4)) FROM populi_training_run WHERE run_id IN ('bom-same', 'bom-diff', 'fffe-same', 'lead-swap') ORDER BY run_id";
    expect(sqlite(db, lead)).toBe("bom-diff|FFFE7900\nbom-same|FFFE7800\nfffe-same|FEFF7A00\nlead-swap|FEFF7700");
    const r = await cli(["sidecar", "--db", db, "--apply", "--merge", "--work-dir", join(d, "work"), "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    // run-same and the two *-same rows present; run-diff, bom-diff and lead-swap conflicts; run-new merged
    expect(counts(r.json.tables).populi_training_run).toEqual([7, 3, 1, 3]);
    expect(
      sqlite(
        db,
        "SELECT group_concat(json_extract(source_key, '$[0]'), ',') FROM (SELECT source_key FROM legacy_quarantine WHERE source_table = 'populi_training_run' ORDER BY 1)",
      ),
    ).toBe("bom-diff,lead-swap,run-diff");
    // the canonical rows stay as they were
    expect(sqlite(db, lead)).toBe("bom-diff|FFFE7900\nbom-same|FFFE7800\nfffe-same|FEFF7A00\nlead-swap|FEFF7700");
  });

  it("carried: only the tables Stage 2 merges; a table the canonical DB lacks is counted on the sidecar, not copied", () => {
    const { db, side } = setup("UTF-16le");
    const c = openReadOnly(db);
    try {
      const a = attachSidecar(c, side);
      expect(a.counted.get("old_probe")).toBe(2);
      expect(Number(allRows(c, "SELECT count(*) AS n FROM vox_sidecar.old_probe")[0]!.n)).toBe(0);
      expect(a.counted.has("populi_training_run")).toBe(false);
      expect(Number(allRows(c, "SELECT count(*) AS n FROM vox_sidecar.populi_training_run")[0]!.n)).toBe(3);
      detachSidecar(c);
    } finally {
      c.close();
    }
  });

  it("cutover: the dry-run shows what Stage 2 will do; --apply stopped before Stage 2 and --resume merge exactly that into the UTF-16le file", async () => {
    const d = tmp();
    const db = join(d, "vox.db");
    buildCorpusFile("vox66-adhoc", db, { seed: 5, rows: 3, settings: { encoding: "UTF-16le" } });
    copyFileSync(setup("UTF-8", HARD_ROWS).side, join(d, "vox_training_telemetry.db"));
    const dry = await cli(["cutover", "--db", db, "--json"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout + dry.stderr).not.toMatch(/same text encoding/);
    const planned = counts(dry.json.sidecar.tables);
    expect(planned.populi_training_run).toEqual([5, 0, 4, 1]); // run-bad cannot be carried: a conflict
    const stopped = await interruptAt(["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest], "after:ledger", "SIGINT");
    expect(stopped.res.exitCode, stopped.res.stderr).toBe(130);
    const app = await cli(["cutover", "--db", db, "--resume", "--apply", "--json"]);
    expect(app.exitCode, app.stderr).toBe(0);
    expect(app.json.after.chain).toBe("current");
    expect(counts(app.json.sidecar.tables)).toEqual(planned);
    expectCarried(db, app.json.runId, []);
  });

  it("a sidecar Stage 2 could not read stops the dry-run (1) and the apply before the swap (1, the primary untouched); moved away, --resume finishes", async () => {
    const { dir, db, orig } = await sampleInto(tmp(), 10);
    const side = join(dir, "vox_training_telemetry.db");
    writeFileSync(side, "garbage".repeat(200));
    const dry = await cli(["cutover", "--db", db]);
    expect(dry.exitCode).toBe(1);
    expect(dry.stderr).toMatch(/Stage 2 would stop on the sidecar .*not-a-database.*Nothing was changed \(dry-run\)/s);
    const app = await cli(["cutover", "--db", db, "--apply"]);
    expect(app.exitCode).toBe(1);
    expect(app.stderr).toMatch(/Stage 2 would stop on the sidecar .*The primary .* was not changed/s);
    expect(app.stderr).not.toMatch(/\bat .*\.js:\d+/);
    expect(sha256(db)).toBe(orig);
    renameSync(side, join(dir, "moved-away.db"));
    const res = await cli(["cutover", "--db", db, "--resume", "--apply", "--json"]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.json.after.chain).toBe("current");
    expect(existsSync(side)).toBe(false);
  });
});
