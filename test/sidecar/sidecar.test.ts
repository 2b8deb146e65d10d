import { describe, expect, it } from "vitest";
import { execaSync } from "execa";
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, makeVoxDb, pausedAt, rowCounts, sha256, snapshotDir, sqlite, tmp } from "../helpers.js";
import { setup } from "./fixture.js";
import { quarantineTableRows } from "../../src/db/ledger.js";

function py(db: string, code: string): any {
  return JSON.parse(execaSync("python3", ["-c", `import sqlite3, json, sys\ncon = sqlite3.connect(sys.argv[1])\n${code}`, db]).stdout);
}

function byName(tables: any[]): Record<string, any> {
  return Object.fromEntries(tables.map((t) => [t.name, t]));
}

describe("sidecar (Stage 2) against a vox 60 sidecar and a vox 66 canonical DB", () => {
  it("dry-run: per table rows / present / missing / conflicts with vox's key shapes; the sidecar's chain; nothing changes", async () => {
    const { d, db, side } = setup();
    const before = snapshotDir(d);
    const r = await cli(["sidecar", "--db", db, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.mode).toBe("dry-run");
    expect(r.json.sidecar).toMatchObject({ path: side, exists: true, chain: "behind", versions: ["42", "59", "60"] });
    expect(r.json.archive.path).toBeNull();
    const t = byName(r.json.tables);
    expect(t.populi_training_run).toMatchObject({ rows: 3, present: 1, missing: 1, merged: 1, conflicts: 1, mergeable: true });
    expect(t.training_throughput_profiles).toMatchObject({ rows: 4, present: 1, merged: 2, conflicts: 1 });
    expect(t.grpo_training_run).toMatchObject({ rows: 3, present: 1, merged: 1, conflicts: 1 });
    expect(t.mens_corpus_quality).toMatchObject({ rows: 2, present: 0, merged: 2, conflicts: 0 });
    expect(t.agent_telemetry_flat).toMatchObject({ rows: 1, present: 0, merged: 1, conflicts: 0, mergeable: true });
    expect(t.agent_telemetry_flat.note).toMatch(/legacy_gpu_note/);
    expect(t.old_probe).toMatchObject({ rows: 2, mergeable: false, merged: 0 });
    expect(t.old_probe.note).toMatch(/no such table/);
    expect(t.schema_version).toBeUndefined(); // the sidecar's own version rows are never merged
    const names = r.json.tables.map((x: any) => x.name as string);
    expect(r.json.tables.map((x: any) => x.rows)).toEqual(rowCounts(side, names));
    expect(snapshotDir(d)).toEqual(before);
  });

  it("--apply --merge: verified backup, missing rows copied exactly (storage class, NUL inside text, 2^63-1, 1e308, 5e-324), conflicts quarantined with their key, archive byte-identical; a second run is a no-op", async () => {
    const { d, db, side } = setup();
    const orig = sha256(side);
    const work = join(d, "work");
    const versionsBefore = sqlite(db, "SELECT group_concat(version) FROM schema_version");
    const r = await cli(["sidecar", "--db", db, "--apply", "--merge", "--work-dir", work, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.mode).toBe("apply");
    expect(existsSync(side)).toBe(false);
    expect(r.json.archive.path).toBe(join(work, "archive", "vox_training_telemetry.db"));
    expect(sha256(r.json.archive.path)).toBe(orig);
    expect(r.json.backup.verified).toBe(true);
    expect((await cli(["verify-backup", r.json.backup.path, "--db", r.json.archive.path])).exitCode).toBe(0);
    const t = byName(r.json.tables);
    expect(t.populi_training_run).toMatchObject({ rows: 3, present: 1, merged: 1, conflicts: 1 });
    expect(t.training_throughput_profiles).toMatchObject({ rows: 4, present: 1, merged: 2, conflicts: 1 });
    expect(t.grpo_training_run).toMatchObject({ rows: 3, present: 1, merged: 1, conflicts: 1 });
    // h-taken collides with the canonical row's UNIQUE pair_hash: a conflict; h-free merges
    expect(t.mens_corpus_quality).toMatchObject({ rows: 2, present: 0, merged: 1, conflicts: 1 });
    expect(t.agent_telemetry_flat).toMatchObject({ merged: 1, conflicts: 0 });

    // values, judged by Python's sqlite3: storage classes and exact bytes
    expect(
      py(
        db,
        `print(json.dumps(con.execute("SELECT hex(output_dir), typeof(output_dir), data_dir, global_step, typeof(global_step), last_loss, typeof(last_loss) FROM populi_training_run WHERE run_id = 'run-new'").fetchone()))`,
      ),
    ).toEqual([Buffer.from("out/\0nul").toString("hex").toUpperCase(), "text", "données/東京", 9223372036854775807, "integer", 3.0, "real"]);
    const grpo =
      "SELECT quote(mean_reward), quote(policy_loss), quote(clip_fraction), typeof(mean_reward), hex(CAST(policy_loss AS TEXT)) FROM grpo_training_run WHERE id = 40";
    expect(sqlite(db, grpo)).toBe(sqlite(r.json.archive.path, grpo));
    expect(sqlite(db, grpo)).toMatch(/^0\.0\|1\.0e\+308\|4\.94065645841247e-324\|real\|/); // SQLite itself keeps -0.0 in a REAL column as 0.0
    expect(sqlite(db, "SELECT seq FROM sqlite_sequence WHERE name = 'grpo_training_run'")).toBe("40");
    expect(sqlite(db, "SELECT status, epoch FROM populi_training_run WHERE run_id = 'run-diff'")).toBe("done|3"); // the canonical row stays
    expect(sqlite(db, "SELECT ms_per_step FROM training_throughput_profiles WHERE seq_len = 4096")).toBe("800.0");
    expect(
      sqlite(
        db,
        "SELECT group_concat(gpu_name || '/' || seq_len || '/' || batch_size, ' ') FROM (SELECT * FROM training_throughput_profiles ORDER BY 1, 2, 3)",
      ),
    ).toBe("A100/2048/8 RTX 4090/2048/8 RTX 4090/2048/16 RTX 4090/4096/8");
    expect(sqlite(db, "SELECT id, pair_hash, source FROM mens_corpus_quality ORDER BY id")).toBe("1|h-taken|canon\n8|h-free|sidecar");
    expect(sqlite(db, "SELECT agent_id, quote(tenant_id), input_tokens, cost_usd FROM agent_telemetry_flat")).toBe("mens|NULL|2048|0.0125");
    expect(sqlite(db, "SELECT group_concat(version) FROM schema_version")).toBe(versionsBefore);

    // quarantine: one row per conflict, reason sidecar-conflict, the sidecar's rowid, key and whole row
    const q = py(
      db,
      `con.row_factory = sqlite3.Row\nprint(json.dumps([dict(r) for r in con.execute("SELECT source_table, source_rowid, source_key, row_json, reason, run_id FROM legacy_quarantine ORDER BY source_table")]))`,
    );
    expect(q.map((x: any) => [x.source_table, x.reason.replace(/ \(.*$|: UNIQUE constraint failed: .*$/, ""), JSON.parse(x.source_key)])).toEqual([
      ["agent_telemetry_flat", "sidecar-unknown-columns: legacy_gpu_note", [1]],
      ["grpo_training_run", "sidecar-conflict", [2]],
      ["mens_corpus_quality", "sidecar-conflict", [7]],
      ["populi_training_run", "sidecar-conflict", ["run-diff"]],
      ["training_throughput_profiles", "sidecar-conflict", ["RTX 4090", 4096, 8]],
    ]);
    expect(q.every((x: any) => x.run_id === r.json.runId)).toBe(true);
    // One key per kind, the one the cutover's report counts by (the row the UNIQUE index refused at the merge is a sidecar conflict too).
    expect(quarantineTableRows(db)!.byReason).toEqual({ "sidecar-conflict": 4, "sidecar-unknown-columns": 1 });
    const run = q.find((x: any) => x.source_table === "populi_training_run");
    expect(run.source_rowid).toBe(Number(sqlite(r.json.archive.path, "SELECT rowid FROM populi_training_run WHERE run_id = 'run-diff'")));
    expect(JSON.parse(run.row_json)).toMatchObject({ run_id: "run-diff", status: "failed", epoch: 1, global_step: 17 });
    expect(JSON.parse(q[0].row_json)).toMatchObject({ id: 1, legacy_gpu_note: "ran on the old box" });
    expect(sqlite(db, "SELECT command, json_extract(counts_json, '$.merged'), json_extract(counts_json, '$.conflicts') FROM cutover_ledger")).toBe(
      "sidecar|6|4",
    );

    // a second run: nothing there, nothing changed
    const after = sha256(db);
    const again = await cli(["sidecar", "--db", db, "--apply", "--merge", "--json"]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.json.changed).toBe(false);
    expect(again.stdout + again.stderr).toMatch(/archived by run/);
    expect(sha256(db)).toBe(after);
    expect(readdirSync(d).sort()).toEqual(["vox.db", "work"]);

    // the sidecar put back from its archive (or its archiving failed after the merge committed), merged again:
    // its conflicts are in legacy_quarantine already — counted, not stored twice (the table is append-only)
    copyFileSync(r.json.archive.path, side);
    const redo = await cli(["sidecar", "--db", db, "--apply", "--merge", "--work-dir", join(d, "work2"), "--json"]);
    expect(redo.exitCode, redo.stderr).toBe(0);
    const total = (k: "merged" | "conflicts" | "heldAlready") => redo.json.tables.reduce((n: number, t: Record<string, number>) => n + (t[k] ?? 0), 0);
    expect([total("merged"), total("conflicts"), total("heldAlready")]).toEqual([0, 4, 4]);
    expect(redo.stderr).toMatch(/4 conflict\(s\) in legacy_quarantine \(reason sidecar-conflict\), 4 of them there already from an earlier merge/);
    expect(sqlite(db, "SELECT count(*), count(DISTINCT run_id) FROM legacy_quarantine")).toBe("5|1");
  });

  it("a table with a column named k is counted by its rows (the count grouped by the alias took the column: 2 present / 1 conflict for 1 / 2)", async () => {
    const { db, side } = setup();
    sqlite(db, "CREATE TABLE wr(k TEXT PRIMARY KEY, v) WITHOUT ROWID; INSERT INTO wr VALUES ('a', 1), ('b', 2), ('c', 3);");
    sqlite(side, "CREATE TABLE wr(k TEXT PRIMARY KEY, v) WITHOUT ROWID; INSERT INTO wr VALUES ('a', 1), ('b', 3), ('c', 2), ('d', 4);");
    const r = await cli(["sidecar", "--db", db, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(byName(r.json.tables).wr).toMatchObject({ rows: 4, present: 1, missing: 1, conflicts: 2 });
  });

  it("a legacy_quarantine of an older shape (no source_key) in the canonical DB: the dry-run compares as ever (it failed: 'no such column: q.source_key')", async () => {
    const { db } = setup();
    sqlite(
      db,
      `DROP TABLE legacy_quarantine;
       CREATE TABLE legacy_quarantine (id INTEGER PRIMARY KEY AUTOINCREMENT, source_table TEXT NOT NULL, source_rowid INTEGER, row_json TEXT NOT NULL, reason TEXT NOT NULL, run_id TEXT, quarantined_at TEXT);
       INSERT INTO legacy_quarantine(source_table, row_json, reason) VALUES ('notes', '{}', 'unknown-table: notes');`,
    );
    const r = await cli(["sidecar", "--db", db, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(byName(r.json.tables).training_throughput_profiles).toMatchObject({ rows: 4, present: 1, merged: 2, conflicts: 1 });
  });

  it("an archive that cannot be made: a work dir on another filesystem is refused (3) before anything; one that fails after the merge committed says so (never 'No change was committed'), and the run again adds nothing twice", async (ctx) => {
    const { d, db, side } = setup();
    const orig = { db: sha256(db), side: sha256(side) };
    const shm = "/dev/shm";
    if (!existsSync(shm) || statSync(shm).dev === statSync(d).dev) return ctx.skip("no other filesystem at /dev/shm");
    const away = join(shm, `vox-sidecar-${process.pid}`);
    ctx.onTestFinished(() => rmSync(away, { recursive: true, force: true })); // made only by a build without the check
    const refused = await cli(["sidecar", "--db", db, "--apply", "--merge", "--work-dir", away]);
    expect(refused.exitCode, refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/is on another filesystem than the sidecar: the archive move could not be an atomic rename/);
    expect([sha256(db), sha256(side), existsSync(away)]).toEqual([orig.db, orig.side, false]);
    // The archive's name taken while the run waits after its backup: the merge commits, the move fails.
    const work = join(d, "work");
    const { child, release } = await pausedAt(["sidecar", "--db", db, "--apply", "--merge", "--work-dir", work], "sidecar-backup-written");
    mkdirSync(join(work, "archive"), { recursive: true });
    writeFileSync(join(work, "archive", "vox_training_telemetry.db"), "not the sidecar");
    release();
    const failed = await child;
    expect(failed.exitCode, String(failed.stderr)).toBe(1);
    expect(String(failed.stderr)).toMatch(/could not be moved into the archive .*after its rows were merged \(run /s);
    expect(String(failed.stderr)).toMatch(/The sidecar is still at /);
    expect(String(failed.stderr)).not.toMatch(/No change was committed|Unexpected failure/);
    expect(sha256(side)).toBe(orig.side);
    const quarantined = sqlite(db, "SELECT count(*) FROM legacy_quarantine");
    expect(Number(quarantined)).toBeGreaterThan(0);
    const again = await cli(["sidecar", "--db", db, "--apply", "--merge", "--work-dir", join(d, "work2"), "--json"]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.json.tables.reduce((n: number, t: { merged: number }) => n + t.merged, 0)).toBe(0);
    expect(sqlite(db, "SELECT count(*) FROM legacy_quarantine")).toBe(quarantined);
    expect(existsSync(side)).toBe(false);
  });

  it("--apply --merge with the canonical file's own triggers refusing rows: a RAISE(FAIL) after the insert, an error evaluating the row (integer overflow) and a RAISE(IGNORE) that skips it each quarantine the row, which is not also left in the table; the merge finishes", async () => {
    const { d, db } = setup();
    const counts =
      "SELECT (SELECT count(*) FROM agent_telemetry_flat) || ',' || (SELECT count(*) FROM populi_training_run) || ',' || (SELECT count(*) FROM training_throughput_profiles)";
    const before = sqlite(db, counts);
    sqlite(
      db,
      `CREATE TRIGGER vox_test_fail AFTER INSERT ON agent_telemetry_flat BEGIN SELECT RAISE(FAIL, 'held by the operator''s trigger'); END;
       CREATE TRIGGER vox_test_overflow BEFORE INSERT ON populi_training_run BEGIN SELECT abs(-9223372036854775808); END;
       CREATE TRIGGER vox_test_skip BEFORE INSERT ON training_throughput_profiles BEGIN SELECT RAISE(IGNORE); END;`,
    );
    const r = await cli(["sidecar", "--db", db, "--apply", "--merge", "--work-dir", join(d, "work"), "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(sqlite(db, counts)).toBe(before);
    // The skipped rows (it was an error at the text check, after the swap in a cutover): kept whole, counted with the conflicts.
    expect(sqlite(db, "SELECT source_table || ' ' || reason FROM legacy_quarantine WHERE reason LIKE 'sidecar-rejected%' ORDER BY 1")).toBe(
      [
        "agent_telemetry_flat sidecar-rejected: held by the operator's trigger",
        "populi_training_run sidecar-rejected: integer overflow",
        ...Array(2).fill("training_throughput_profiles sidecar-rejected: a trigger on the canonical table skipped it (RAISE(IGNORE))"),
      ].join("\n"),
    );
    expect(byName(r.json.tables).training_throughput_profiles).toMatchObject({ merged: 0, conflicts: 3 });
  });

  it("--apply without --merge only archives: no row copied, none quarantined, a ledger row", async () => {
    const { d, db, side } = setup();
    const orig = sha256(side);
    const rowsBefore = sqlite(db, "SELECT (SELECT count(*) FROM populi_training_run) || ',' || (SELECT count(*) FROM grpo_training_run)");
    const r = await cli(["sidecar", "--db", db, "--apply", "--work-dir", join(d, "w"), "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(sha256(r.json.archive.path)).toBe(orig);
    expect(r.json.tables.every((t: any) => t.merged === 0 && t.conflicts === 0)).toBe(true);
    expect(byName(r.json.tables).populi_training_run.missing).toBe(1);
    expect(sqlite(db, "SELECT (SELECT count(*) FROM populi_training_run) || ',' || (SELECT count(*) FROM grpo_training_run)")).toBe(rowsBefore);
    expect(sqlite(db, "SELECT count(*) FROM legacy_quarantine")).toBe("0");
    expect(sqlite(db, "SELECT command, json_extract(counts_json, '$.archivedOnly') FROM cutover_ledger")).toBe("sidecar|1");
  });

  it("refuses (exit 3) a --sidecar that is the primary itself, a symbolic link or a hard link to it, or its -wal: the live database stays where it is", async () => {
    const { d, db } = setup();
    symlinkSync(db, join(d, "link.db"));
    linkSync(db, join(d, "hard.db"));
    const before = snapshotDir(d);
    for (const p of [db, join(d, "link.db"), join(d, "hard.db"), `${db}-wal`]) {
      for (const extra of [[], ["--apply"], ["--apply", "--merge"]]) {
        const r = await cli(["sidecar", "--db", db, "--sidecar", p, ...extra]);
        expect(r.exitCode, `${p} ${extra.join(" ")}: ${r.stderr}`).toBe(3);
        expect(r.stderr).toMatch(/archiving it would move the live database away/);
        expect(r.stderr).toMatch(/Nothing was changed/);
        expect(snapshotDir(d)).toEqual(before);
      }
    }
    // and the other way round: the database given as a link, the sidecar its real path
    const r = await cli(["sidecar", "--db", join(d, "link.db"), "--sidecar", db, "--apply"]);
    expect(r.exitCode).toBe(3);
    expect(snapshotDir(d)).toEqual(before);
  });

  it("refuses (exit 3) while the primary is legacy, touching nothing", async () => {
    const d = tmp();
    const db = join(d, "vox.db");
    makeVoxDb(db, "60", [5, 60]); // row 5: not a vox baseline → legacy
    makeVoxDb(join(d, "vox_training_telemetry.db"), "60", [60]);
    const before = snapshotDir(d);
    const r = await cli(["sidecar", "--db", db, "--apply", "--merge"]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/Stage 1 first/);
    expect(snapshotDir(d)).toEqual(before);
  });

  it("a corrupt sidecar: exit 1, untouched", async () => {
    const { d, db, side } = setup();
    writeFileSync(side, "garbage".repeat(200));
    const before = snapshotDir(d);
    const r = await cli(["sidecar", "--db", db, "--apply"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/not-a-database/);
    expect(snapshotDir(d)).toEqual(before);
  });
});
