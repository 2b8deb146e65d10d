/**
 * The file's settings are kept by every route (issue 17 item 2; contract "Every change is a swap"):
 * the rebuild is in test/db/file-settings.test.ts and the fold of a `behind` file in
 * fold-swap.test.ts; here the repair of a `current` file whose structure drifted, the baseline of a
 * file that holds rows (no schema_version rows), and the baseline of an empty file. Judged by
 * Python's sqlite3 (corpus_tool.py settings) and the sqlite3 CLI.
 */
import { describe, expect, it } from "vitest";
import { execaSync } from "execa";
import { join } from "node:path";
import { buildCorpusFile, fileSettingsOf } from "../fixtures/corpus.js";
import { cli, sha256, sqlite, tmp } from "../helpers.js";

const SETTINGS = { pageSize: 65536, autoVacuum: "full", encoding: "UTF-8", userVersion: 7, applicationId: 0x766f7821, wal: true } as const;
const WANT = { page_size: 65536, auto_vacuum: 1, encoding: "UTF-8", journal_mode: "wal", user_version: 7, application_id: 0x766f7821 };

const py = (db: string, code: string) => execaSync("python3", ["-c", `import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\n${code}\nc.commit(); c.close()`, db]);

async function cutover(db: string): Promise<{ stage1: string[]; archive: string | null }> {
  const dry = await cli(["cutover", "--db", db, "--json"]);
  expect(dry.exitCode, dry.stderr).toBe(0);
  const app = await cli(["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest, "--json"]);
  expect(app.exitCode, app.stderr).toBe(0);
  expect(app.json.after.chain).toBe("current");
  const stage1 = (app.json.steps as { id: string; stage: number }[]).filter((s) => s.stage === 1).map((s) => s.id);
  return { stage1, archive: app.json.archive?.path ?? null };
}

describe("the file's settings on the routes other than the rebuild", () => {
  it("repair (current, an index dropped): a fold in a copy, swapped; settings, the operator's objects and the rows kept", async () => {
    const db = join(tmp(), "vox.db");
    buildCorpusFile("vox66-fresh", db, { seed: 3, rows: 3, settings: SETTINGS, operatorObjects: true });
    py(db, 'c.execute("DROP INDEX idx_account_config_account")');
    const orig = sha256(db);
    const users = sqlite(db, "SELECT hex(sha3_query('SELECT rowid, * FROM users ORDER BY rowid'))");
    const r = await cutover(db);
    expect(r.stage1).toEqual(["export", "verify-backup", "fold", "primary-unchanged", "swap", "ledger"]);
    expect(sha256(r.archive!)).toBe(orig);
    expect(fileSettingsOf(db)).toEqual(WANT);
    expect(
      sqlite(db, "SELECT count(*) FROM sqlite_schema WHERE name IN ('idx_account_config_account', 'op_users_display', 'op_user_names', 'op_users_touch')"),
    ).toBe("4");
    expect(sqlite(db, "SELECT hex(sha3_query('SELECT rowid, * FROM users ORDER BY rowid'))")).toBe(users);
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
  }, 120_000);

  it("baseline of a file that holds rows (schema_version empty): made in a copy, swapped; settings and rows kept", async () => {
    const db = join(tmp(), "vox.db");
    buildCorpusFile("vox66-fresh", db, { seed: 4, rows: 3, settings: SETTINGS });
    py(db, 'c.execute("DELETE FROM schema_version")');
    const orig = sha256(db);
    const users = sqlite(db, "SELECT hex(sha3_query('SELECT rowid, * FROM users ORDER BY rowid'))");
    const r = await cutover(db);
    expect(r.stage1).toContain("swap");
    expect(sha256(r.archive!)).toBe(orig);
    expect(fileSettingsOf(db)).toEqual(WANT);
    expect(sqlite(db, "SELECT group_concat(version) FROM schema_version")).toBe("66");
    expect(sqlite(db, "SELECT hex(sha3_query('SELECT rowid, * FROM users ORDER BY rowid'))")).toBe(users);
  }, 120_000);

  it("baseline of an empty file (no table): its page size, auto-vacuum, WAL, user_version and application_id stay", async () => {
    const db = join(tmp(), "vox.db");
    py(
      db,
      'c.execute("PRAGMA page_size=65536"); c.execute("PRAGMA auto_vacuum=FULL"); c.execute("PRAGMA user_version=7"); c.execute("PRAGMA application_id=1987016737"); c.execute("VACUUM"); c.execute("PRAGMA journal_mode=WAL")',
    );
    const r = await cutover(db);
    expect(r.stage1).toContain("baseline");
    expect(fileSettingsOf(db)).toEqual(WANT);
    expect(sqlite(db, "SELECT group_concat(version) FROM schema_version")).toBe("66");
  }, 120_000);
});
