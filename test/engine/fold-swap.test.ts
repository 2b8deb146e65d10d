/**
 * Issue 16 point 4, "every change is a swap": the fold route (a `behind` file, vox 60 → 66) is made
 * in a copy beside the file and swapped in like a rebuild. The original is archived byte for byte;
 * a rollback is a rename back (sha256 equal); a kill at each phase resumes or rolls back; a writer
 * committing during the fold's copy never loses its row. Values are judged with Python's sqlite3.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { execa, execaSync } from "execa";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { py, freshCopy, runDir } from "./swap-files.js";
import { cli, makeVoxDb, pausedAt, sampleInto, sha256, tmp } from "../helpers.js";

const SETTINGS = "SELECT * FROM pragma_page_size, pragma_auto_vacuum, pragma_encoding, pragma_journal_mode, pragma_user_version, pragma_application_id";
const USERS = "SELECT rowid, id, display_name, typeof(display_name) FROM users ORDER BY rowid";

let template: string;
beforeAll(() => {
  // A vox 60 file the way an operator might keep it: its own page size, auto-vacuum, user_version,
  // application_id, WAL mode; rowids with gaps in a table whose key is not the rowid.
  template = join(tmp(), "vox.db");
  makeVoxDb(template, "60", [59, 60]);
  const setup = [
    "import sqlite3,sys",
    "c=sqlite3.connect(sys.argv[1]); c.isolation_level=None",
    "c.execute('PRAGMA page_size=8192'); c.execute('PRAGMA auto_vacuum=INCREMENTAL'); c.execute('VACUUM')",
    "c.execute('PRAGMA user_version=7'); c.execute('PRAGMA application_id=1234567')",
    "for i in range(1,41): c.execute('INSERT INTO users(id, display_name) VALUES (?,?)', ('u%d' % i, 'name %d' % i if i % 5 else bytes([0, i, 255])))",
    "c.execute(\"DELETE FROM users WHERE id IN ('u3','u17')\")",
    "c.execute('PRAGMA journal_mode=WAL')",
    "c.close()",
  ].join("\n");
  execaSync("python3", ["-c", setup, template]);
}, 60_000);

const fresh = () => freshCopy(template);

describe("the fold route is a copy, then a swap", () => {
  it("dry-run shows the plan; apply archives the original byte for byte, keeps settings and rowids; rollback renames it back", async () => {
    const { dir, db, orig } = fresh();
    const usersBefore = py(db, USERS);
    const settingsBefore = py(db, SETTINGS);
    const dry = await cli(["cutover", "--db", db, "--json"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const ids = dry.json.steps.map((s: any) => s.id);
    expect(ids.slice(ids.indexOf("export"), ids.indexOf("ledger") + 1)).toEqual(["export", "verify-backup", "fold", "primary-unchanged", "swap", "ledger"]);
    expect(dry.json.steps.find((s: any) => s.id === "fold").summary).toMatch(/VACUUM INTO.*the primary is not written/);
    expect(dry.json.steps.find((s: any) => s.id === "swap").summary).toMatch(/hard-link it into .*archive/);
    expect(sha256(db)).toBe(orig);

    const r = await cli(["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.after.chain).toBe("current");
    expect(r.json.archive.path).toBe(join(runDir(dir), "archive", "vox.db"));
    expect(sha256(r.json.archive.path)).toBe(orig); // the original, archived untouched
    expect(py(db, "SELECT group_concat(version) FROM (SELECT version FROM schema_version ORDER BY 1)")).toBe("('59,60,66',)");
    expect(py(db, USERS)).toBe(usersBefore); // rowids (with their gaps), values and storage classes kept
    expect(py(db, SETTINGS)).toBe(settingsBefore); // page size, auto-vacuum, encoding, WAL, user_version, application_id
    expect(py(db, "PRAGMA integrity_check")).toBe("('ok',)");
    expect(existsSync(join(dir, ".vox.db.vox-cutover-new"))).toBe(false);

    const rb = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(rb.exitCode, rb.stderr).toBe(0);
    expect(sha256(db)).toBe(orig); // a rename back: byte for byte the original
    expect(py(db, "SELECT max(version) FROM schema_version")).toBe("(60,)");
  });

  it("a kill at each phase of the fold, then --resume or --rollback: the original is never lost", async () => {
    // point → what the next command does
    const cases: [string, "resume" | "rollback"][] = [
      ["fold-copied", "rollback"],
      ["after:fold", "resume"],
      ["swap-archived", "resume"],
      ["after:swap", "rollback"],
    ];
    for (const [point, then] of cases) {
      const { dir, db, orig } = fresh();
      const { child } = await pausedAt(["cutover", "--db", db, "--apply"], point);
      child.kill("SIGKILL");
      await child;
      // Killed: the name holds the original (byte-identical) or the finished new file.
      const mid = sha256(db) === orig ? "old" : "new";
      if (mid === "new") expect(py(db, "SELECT max(version) FROM schema_version")).toBe("(66,)");
      const r = await cli(["cutover", "--db", db, then === "resume" ? "--resume" : "--rollback", "--apply", "--json"]);
      expect(r.exitCode, `${point} → ${then}: ${r.stderr}`).toBe(0);
      if (then === "rollback") {
        expect(sha256(db), point).toBe(orig);
        expect(
          readdirSync(dir).filter((f) => f.startsWith(".vox.db.vox-cutover")),
          point,
        ).toEqual([]);
      } else {
        expect(py(db, "SELECT max(version) FROM schema_version"), point).toBe("(66,)");
        expect(sha256(join(runDir(dir), "archive", "vox.db")), point).toBe(orig);
        expect(py(db, "SELECT count(*) FROM users"), point).toBe("(38,)");
      }
    }
  }, 180_000);

  it("a python3 writer commits during the fold's copy: the run refuses (3) and the row is in the primary", async () => {
    const { db } = fresh();
    const { child, release } = await pausedAt(["cutover", "--db", db, "--apply"], "fold-copied");
    const write =
      "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.execute(\"INSERT INTO users(id, display_name) VALUES ('u-late','written during the fold')\")\nc.commit(); c.close()";
    await execa("python3", ["-c", write, db]);
    release(); // the copy was made before the write: the run goes on and must notice it
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/changed since the export/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(py(db, "SELECT display_name FROM users WHERE id = 'u-late'")).toBe("('written during the fold',)");
    expect(py(db, "SELECT max(version) FROM schema_version")).toBe("(60,)");
    // Undoing the run keeps the primary (with the row) and removes only the run's own copy.
    const rb = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(rb.exitCode, rb.stderr).toBe(0);
    expect(py(db, "SELECT count(*) FROM users WHERE id = 'u-late'")).toBe("(1,)");
    expect(existsSync(join(db, "..", ".vox.db.vox-cutover-new"))).toBe(false);
  }, 60_000);
});

describe("a file this tool cut over before, behind once the baseline moves on", () => {
  it("folds: its ledger gains the fold's rows and its AUTOINCREMENT counter rises (sqlite_sequence is held to 'never lowered', not to equal); every other table as it was", async () => {
    const { db } = await sampleInto(tmp(), 10);
    const cut = await cli(["cutover", "--db", db, "--apply"]);
    expect(cut.exitCode, cut.stderr).toBe(0);
    // What a later baseline makes of it: the version it was cut over to is no longer the newest.
    execaSync("sqlite3", [db], { input: "UPDATE schema_version SET version = 64 WHERE version = 66;\n" });
    const seq = py(db, "SELECT seq FROM sqlite_sequence WHERE name = 'cutover_ledger'");
    const names = py(db, "SELECT rowid, * FROM names ORDER BY rowid");
    const r = await cli(["migrate", "--db", db, "--apply"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(py(db, "SELECT version FROM schema_version ORDER BY version")).toBe("(59,)\n(60,)\n(64,)\n(66,)");
    expect(Number(/\d+/.exec(py(db, "SELECT seq FROM sqlite_sequence WHERE name = 'cutover_ledger'"))![0])).toBeGreaterThan(Number(/\d+/.exec(seq)![0]));
    expect(py(db, "SELECT rowid, * FROM names ORDER BY rowid")).toBe(names);
    expect(py(db, "PRAGMA integrity_check")).toBe("('ok',)");
  });
});

describe("the fold only adds rows", () => {
  it("a trigger of the operator's that the fold's inserts fire changes a backed-up row of a table the fold adds rows to: the run fails, the primary untouched", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    makeVoxDb(
      db,
      "60",
      [59, 60],
      "CREATE TRIGGER mine_touch AFTER INSERT ON schema_version BEGIN UPDATE schema_version SET applied_at = 'touched' WHERE version = 59; END;",
    );
    const before = py(db, "SELECT version, applied_at FROM schema_version ORDER BY version");
    const orig = sha256(db);
    const r = await cli(["cutover", "--db", db, "--apply"]);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/table schema_version of the copy has rows added, but not every backed-up row as it was/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(sha256(db)).toBe(orig);
    expect(py(db, "SELECT version, applied_at FROM schema_version ORDER BY version")).toBe(before);
    expect(readdirSync(dir).filter((f) => f.startsWith(".vox.db"))).toEqual([]); // no copy left
  });
});
