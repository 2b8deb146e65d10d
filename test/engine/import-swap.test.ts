/**
 * "Every change is a swap" for `import-legacy`: into a database that already holds tables, replace
 * semantics clear every table the import loads — so the import is made in a copy beside the file
 * and swapped in (stages/stage1-import.ts), the original archived byte for byte, a rollback a rename,
 * a kill at each phase resumed or rolled back by `cutover`, a writer during the copy never losing its
 * row. Values are judged with Python's sqlite3 and files with sha256 (independent readers).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { execa, execaSync } from "execa";
import { copyFileSync, existsSync, rmSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { py, freshCopy, runDir } from "./swap-files.js";
import { BIN, FEWER_TABLES, cli, cliEnv, cutToTables, pausedAt, sampleInto, sha256, sqlite, tmp } from "../helpers.js";
import { shellQuote } from "../../src/util/shell.js";

const MINE = "SELECT user_id, value FROM user_preferences WHERE user_id = 'operator-own'";
/**
 * The legacy files these tests import: the sample cut to sampleWithFewerTables' tables (AUTOINCREMENT, both FTS tables,
 * the schema_version rows that go to quarantine) and the ones these tests name: user_preferences (the operator's row),
 * agent_events (a sequence), names and metadata (objects' children: the orphans test), users and search_documents (the
 * parents of conversations and search_document_chunks: like the whole sample, the backup has no orphans of its own). An
 * import's copy, swap, kills and append-only records do the same for every table; a run costs per table (~180 whole).
 */
const TABLES = [...FEWER_TABLES, "user_preferences", "agent_events", "users", "metadata", "search_documents"];
let backup: string;
let template: string;
let loaded: string;

beforeAll(async () => {
  // A legacy file's verified backup, imported into a new file (created: nothing to lose), which then gains a row of its own.
  const dir = tmp();
  const src = join(dir, "legacy", "vox.db");
  mkdirSync(join(dir, "legacy"));
  await sampleInto(join(dir, "legacy"), 5);
  await cutToTables(src, TABLES);
  backup = join(dir, "backup.jsonl");
  expect((await cli(["export-legacy", backup, "--db", src])).exitCode).toBe(0);
  template = join(dir, "target", "vox.db");
  mkdirSync(join(dir, "target"));
  const created = await cli(["import-legacy", backup, "--db", template, "--apply"]);
  expect(created.exitCode, created.stderr).toBe(0);
  expect(existsSync(join(dir, "target", "vox-cutover-runs")), "a created file needs no swap").toBe(false);
  loaded = py(template, "SELECT count(*) FROM user_preferences");
  execaSync("python3", [
    "-c",
    "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.execute(\"INSERT INTO user_preferences(user_id, key, value) VALUES ('operator-own','theme','dark')\")\nc.commit(); c.close()",
    template,
  ]);
}, 120_000);

const fresh = () => freshCopy(template);

describe("import-legacy into a database that holds tables is a copy, then a swap", () => {
  it("the dry-run says so; the apply archives the original byte for byte and replaces the loaded tables in the new file; rollback renames it back", async () => {
    const { dir, db, orig } = fresh();
    const inode = statSync(db).ino;
    const dry = await cli(["import-legacy", backup, "--db", db]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/holds tables, so it is not written in place: .* into a copy beside it .* the original is archived in the work dir/);
    const digest = /--plan ([0-9a-f]{16})/.exec(dry.stdout)![1]!;
    expect(sha256(db)).toBe(orig);

    const r = await cli(["import-legacy", backup, "--db", db, "--apply", "--plan", digest, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ command: "import-legacy", ok: true, mode: "apply", chain: "current" });
    expect(j.message).toMatch(/^import-legacy run complete: /); // it said "cutover complete"
    expect(j.loaded).toBeGreaterThan(0);
    const archive = join(runDir(dir), "archive", "vox.db");
    expect(j.archive.path).toBe(archive);
    // The name holds a new file; the original, with the operator's own row, is the archive, byte for byte.
    expect(statSync(db).ino).not.toBe(inode);
    expect(sha256(archive)).toBe(orig);
    expect(py(archive, MINE)).toBe("('operator-own', 'dark')");
    expect(py(db, MINE)).toBe(""); // replace semantics: the table holds the backup's rows
    expect(py(db, "SELECT count(*) FROM user_preferences")).toBe(loaded);
    expect(py(db, "PRAGMA integrity_check")).toBe("('ok',)");
    expect(readdirSync(dir).filter((f) => f.startsWith(".vox.db.vox-cutover"))).toEqual([]);

    const rb = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(rb.exitCode, rb.stderr).toBe(0);
    expect(sha256(db)).toBe(orig);
    expect((rb.stdout + rb.stderr).match(/rolled back the finished run/g)).toHaveLength(1); // said once (it was printed twice: a note and the message)
  }, 120_000);

  it("orphans the import makes in the target's own tables are named so, not as the backup's (helper-105: 'as they were in the legacy file')", async () => {
    const { dir, db } = fresh();
    // A backup without names and metadata (children of objects), from another sample: the import replaces objects under the target's own rows.
    const other = join(dir, "other", "vox.db");
    mkdirSync(join(dir, "other"));
    expect((await cli(["sample", other, "--rows", "5", "--seed", "7"])).exitCode).toBe(0);
    await cutToTables(other, TABLES);
    sqlite(other, "DROP TABLE names; DROP TABLE metadata;");
    const b = join(dir, "other.jsonl");
    expect((await cli(["export-legacy", b, "--db", other])).exitCode).toBe(0);
    const dry = await cli(["import-legacy", b, "--db", db]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(
      /foreign_key_check: (metadata \d+, names \d+) orphan row\(s\) of the target's own, in tables this import does not load: it replaces the tables their parents are in/,
    );
    expect(dry.stdout).not.toMatch(/(names|metadata) \d+[^\n]*from the backup/);
  }, 60_000);

  it("an AUTOINCREMENT table's sequence never goes below what the target held: an id it gave out is not given out again", async () => {
    const { db } = fresh();
    execaSync("python3", [
      "-c",
      "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.execute(\"UPDATE sqlite_sequence SET seq = 9007199254741008 WHERE name = 'agent_events'\")\nc.execute(\"UPDATE sqlite_sequence SET seq = '5000' WHERE name = 'conversations'\")\nc.commit()",
      db,
    ]);
    expect(py(db, "SELECT seq FROM sqlite_sequence WHERE name = 'agent_events'")).toBe("(9007199254741008,)");
    const r = await cli(["import-legacy", backup, "--db", db, "--apply"]);
    expect(r.exitCode, r.stderr).toBe(0);
    // The backup's own sequence is lower (helper-105: it became 42, and ids the old rows had could come again); a TEXT one as SQLite reads it (helper-106).
    expect(py(db, "SELECT seq FROM sqlite_sequence WHERE name = 'agent_events'")).toBe("(9007199254741008,)");
    expect(py(db, "SELECT CAST(seq AS INTEGER) FROM sqlite_sequence WHERE name = 'conversations'")).toBe("(5000,)");
    expect(Number(py(db, "SELECT count(*) FROM agent_events").replace(/\D/g, ""))).toBeGreaterThan(0);
  }, 60_000);

  it("a row an append-only table holds is 'held already' only when the whole backup row is that row: values the target has no column for are kept (helper-106)", async () => {
    const { dir, db } = fresh();
    // A copy of the target whose ledger and quarantine rows carry a column the baseline lacks, exported: the same ids, more values.
    const other = join(dir, "other.db");
    copyFileSync(db, other);
    sqlite(other, "ALTER TABLE cutover_ledger ADD COLUMN note TEXT; UPDATE cutover_ledger SET note = 'important-' || id;");
    const b = join(dir, "noted.jsonl");
    expect((await cli(["export-legacy", b, "--db", other])).exitCode).toBe(0);
    const ledger = Number(py(db, "SELECT count(*) FROM cutover_ledger").replace(/\D/g, ""));
    const r = await cli(["import-legacy", b, "--db", db, "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.tables.find((t: { name: string }) => t.name === "cutover_ledger")).toMatchObject({ present: 0, quarantined: ledger });
    expect(py(db, "SELECT count(*) FROM legacy_quarantine WHERE source_table = 'cutover_ledger' AND row_json LIKE '%important-%'")).toBe(`(${ledger},)`);
  }, 60_000);

  it("a kill at each phase, then cutover --resume or --rollback: the original is never lost", async () => {
    const cases: [string, "resume" | "rollback"][] = [
      ["import-copied", "rollback"],
      ["after:import", "resume"],
      ["swap-archived", "resume"],
    ];
    for (const [point, then] of cases) {
      const { dir, db, orig } = fresh();
      const { child } = await pausedAt(["import-legacy", backup, "--db", db, "--apply"], point);
      child.kill("SIGKILL");
      await child;
      expect(sha256(db), `${point}: killed before the rename, the name holds the original`).toBe(orig);
      if (point === "after:import") {
        // Named as what the operator ran (it said "An unfinished cutover"), resumed and rolled back with cutover.
        const d = await cli(["diagnose", "--db", db, "--json"]);
        expect(d.json.unfinishedRun.what).toMatch(/^An unfinished import-legacy run of this database is recorded in .* \(stopped after import\)/);
      }
      const r = await cli(["cutover", "--db", db, then === "resume" ? "--resume" : "--rollback", "--apply"]);
      expect(r.exitCode, `${point} → ${then}: ${r.stderr}`).toBe(0);
      if (then === "rollback") expect(sha256(db), point).toBe(orig);
      else {
        expect(sha256(join(runDir(dir), "archive", "vox.db")), point).toBe(orig);
        expect(py(db, MINE), point).toBe("");
        expect(py(db, "SELECT count(*) FROM user_preferences"), point).toBe(loaded);
      }
      expect(
        readdirSync(dir).filter((f) => f.startsWith(".vox.db.vox-cutover")),
        point,
      ).toEqual([]);
    }
  }, 180_000);

  it("a python3 writer commits during the copy: the run refuses (3), the row stays in the primary, nothing was swapped", async () => {
    const { db } = fresh();
    const { child, release } = await pausedAt(["import-legacy", backup, "--db", db, "--apply"], "import-copied");
    await execa("python3", [
      "-c",
      "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.execute(\"INSERT INTO user_preferences(user_id, key, value) VALUES ('late','theme','light')\")\nc.commit(); c.close()",
      db,
    ]);
    release();
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/changed since the export/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(py(db, "SELECT value FROM user_preferences WHERE user_id = 'late'")).toBe("('light',)");
    expect(py(db, MINE)).toBe("('operator-own', 'dark')");
  }, 60_000);

  it("the product's own records (legacy_quarantine, cutover_ledger) are append-only: never cleared, the same rows not added twice", async () => {
    const { dir, db } = fresh();
    const num = (sql: string) => Number(py(db, sql).replace(/\D/g, ""));
    const held = num("SELECT count(*) FROM legacy_quarantine");
    expect(held).toBeGreaterThan(0);
    // The export of a cut-over file carries its quarantine and ledger rows; then the ledger gains a run the export does not hold.
    const again = join(dir, "again.jsonl");
    expect((await cli(["export-legacy", again, "--db", db])).exitCode).toBe(0);
    const first = await cli(["import-legacy", backup, "--db", db, "--apply"]);
    expect(first.exitCode, first.stderr).toBe(0);
    const runsBefore = py(db, "SELECT group_concat(run_id || ':' || command, ' ') FROM (SELECT * FROM cutover_ledger ORDER BY id)");
    const ledgerBefore = num("SELECT count(*) FROM cutover_ledger");
    expect(ledgerBefore).toBeGreaterThanOrEqual(2);
    const dry = await cli(["import-legacy", again, "--db", db, "--json"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const table = (j: any, name: string) => j.tables.find((t: { name: string }) => t.name === name);
    expect([table(dry.json, "legacy_quarantine").cleared, table(dry.json, "cutover_ledger").cleared]).toEqual([0, 0]);
    const r = await cli(["import-legacy", again, "--db", db, "--apply", "--plan", dry.json.planDigest, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    // Every run the ledger held is still there (helper-105: replace semantics cleared them), and this import's is added.
    expect(py(db, "SELECT group_concat(run_id || ':' || command, ' ') FROM (SELECT * FROM cutover_ledger WHERE id <= " + ledgerBefore + " ORDER BY id)")).toBe(
      runsBefore,
    );
    expect(num("SELECT count(*) FROM cutover_ledger")).toBe(ledgerBefore + 1);
    // The backup's quarantine rows are the ones the file holds: not added twice, none quarantined again.
    expect(num("SELECT count(*) FROM legacy_quarantine")).toBe(held);
    expect(table(r.json, "legacy_quarantine")).toMatchObject({ present: held, loaded: 0, quarantined: 0 });
    // The dry-run said what the apply did, table by table: its trial loaded into a copy of the target, whose rows the backup's meet.
    const counts = (j: { tables: { name: string; loaded: number; quarantined: number; present: number }[] }) =>
      j.tables.map((t) => `${t.name} ${t.loaded} ${t.quarantined} ${t.present}`);
    expect(counts(r.json)).toEqual(counts(dry.json));
    // The run's ledger row counts them too, read by the sqlite3 CLI: rows = loaded + quarantined + present (it left `present` out).
    const ledger = JSON.parse(sqlite(db, "SELECT counts_json FROM cutover_ledger ORDER BY id DESC LIMIT 1"));
    const present = r.json.tables.reduce((n: number, t: { present: number }) => n + t.present, 0);
    expect(ledger).toMatchObject({ rows: r.json.totalRows, loaded: r.json.loaded, quarantined: r.json.quarantined, present });
    expect(ledger.present).toBeGreaterThanOrEqual(held);
    expect(ledger.loaded + ledger.quarantined + ledger.present).toBe(ledger.rows);
  }, 90_000);

  it("a run in a work dir of the operator's choosing prints its resume and rollback with --work-dir, and they work as printed; a resumed import run's ledger row is import-legacy's", async () => {
    const { dir, db, orig } = fresh();
    const work = join(tmp(), "my run");
    const r = await cli(["import-legacy", backup, "--db", db, "--apply", "--work-dir", work], { env: { VOX_CUTOVER_FAULT_AFTER_ROWS: "10" } });
    expect(r.exitCode).toBe(1);
    const printed = /Resume: (vox-cutover cutover .*) · Roll back: (vox-cutover cutover .*)$/m.exec(r.stderr);
    expect(printed?.[1]).toContain(`--resume --apply --work-dir '${work}'`);
    expect(printed?.[2]).toContain(`--rollback --apply --work-dir '${work}'`);
    // Run as printed, through sh (its quoted --work-dir holds a space).
    const resumed = await execa("sh", ["-c", printed![1]!.replace(/^vox-cutover /, `node ${shellQuote(BIN)} `)], {
      env: cliEnv(),
      extendEnv: false,
      reject: false,
    });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(sha256(join(work, "archive", "vox.db"))).toBe(orig);
    expect(py(db, "SELECT group_concat(DISTINCT command) FROM cutover_ledger WHERE command IN ('cutover', 'import-legacy')")).toBe("('import-legacy',)");
    expect(readdirSync(dir).filter((f) => f.startsWith(".vox.db.vox-cutover"))).toEqual([]);
  }, 60_000);

  it("the file to import gone at a resume: refused (3) saying so, the rollback closes the run", async () => {
    const { db, orig } = fresh();
    const gone = join(tmp(), "in.jsonl");
    copyFileSync(backup, gone);
    const { child } = await pausedAt(["import-legacy", gone, "--db", db, "--apply"], "import-copied");
    child.kill("SIGKILL");
    await child;
    rmSync(gone);
    const r = await cli(["cutover", "--db", db, "--resume", "--apply"]);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/The backup to import, .*in\.jsonl, is gone/);
    expect((await cli(["cutover", "--db", db, "--rollback", "--apply"])).exitCode).toBe(0);
    expect(sha256(db)).toBe(orig);
  }, 60_000);

  it("a file with tables not on the target's structure (no schema_version) is refused (3): migrate first", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    execaSync("sqlite3", [db, "CREATE TABLE users(id TEXT PRIMARY KEY, nick TEXT); INSERT INTO users VALUES ('u1', 'x')"]);
    const before = sha256(db);
    const r = await cli(["import-legacy", backup, "--db", db, "--apply"]);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/holds tables that are not on the target's structure .*migrate --db/s);
    expect(sha256(db)).toBe(before);
    expect(readdirSync(dir)).toEqual(["vox.db"]);
  }, 60_000);
});
