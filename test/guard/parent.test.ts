/**
 * The holder scan sees the process that started us (issue 16): an application (here python3 with
 * its sqlite3 module) that holds the database open — inside a read or a write transaction — and
 * runs `vox-cutover cutover --apply` as its child is refused (3), named by pid, nothing moved.
 * Judged with the sqlite3 CLI and sha256, never with the product's own reader.
 */
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, cleanEnv, sampleInto, sha256, snapshotDir, sqlite, tmp } from "../helpers.js";
import { lockFileOf } from "../../src/safety/lock.js";

/** The parent: opens the database, starts a transaction, runs the CLI as its child, then commits. */
const PARENT = `
import json, os, sqlite3, subprocess, sys
db, node, cli, mode = sys.argv[1:5]
c = sqlite3.connect(db, isolation_level=None)
if mode == 'read':
    c.execute('BEGIN'); c.execute('SELECT count(*) FROM users').fetchall()
else:
    c.execute('BEGIN IMMEDIATE'); c.execute("INSERT INTO users(id, display_name) VALUES ('from-parent', 'written by the parent')")
r = subprocess.run([node, cli, 'cutover', '--db', db, '--apply'], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
c.execute('COMMIT'); c.close()
print(json.dumps({'pid': os.getpid(), 'code': r.returncode, 'stderr': r.stderr}))
`;

async function parentRuns(db: string, mode: "read" | "write", env: Record<string, string | undefined>) {
  const r = await execa("python3", ["-c", PARENT, db, process.execPath, BIN, mode], { env, extendEnv: false, stdin: "ignore" });
  return JSON.parse(r.stdout) as { pid: number; code: number; stderr: string };
}

/**
 * The lock file keyed on the database's identity, as it is (null: none). The lock folder is host-wide
 * and keyed on device + inode: a killed run of another test may have left a dead holder's lock for an
 * inode this new file reuses, so "no lock" means the refused run left none of its own: unchanged.
 */
const lockState = (db: string) => (existsSync(lockFileOf(db)) ? readFileSync(lockFileOf(db), "utf8") : null);

const versions = (db: string) => sqlite(db, "SELECT group_concat(version) FROM (SELECT version FROM schema_version ORDER BY 1)");

describe("the parent process holding the database", () => {
  it("a parent in an open read transaction (rollback journal): the child's --apply is refused (3) naming the parent; not a byte changed", async () => {
    const { dir, db, orig } = await sampleInto(tmp());
    const before = snapshotDir(dir);
    const lock = lockState(db);
    // The inherited test hook names the test process (the parent's parent): it must hide nothing here.
    const r = await parentRuns(db, "read", cleanEnv());
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`Another process holds the database .* open .*: pid ${r.pid} \\(\\S*python3`));
    expect(r.stderr).toMatch(/Nothing was moved or changed/);
    expect(sha256(db)).toBe(orig);
    expect(snapshotDir(dir)).toEqual(before);
    expect(lockState(db)).toBe(lock);
  });

  it("a parent in an open write transaction (WAL): refused (3) naming the parent; its row, committed after, is in the primary; nothing moved", async () => {
    const { dir, db } = await sampleInto(tmp());
    expect(sqlite(db, "PRAGMA journal_mode=WAL")).toBe("wal");
    const legacy = versions(db);
    const rows = Number(sqlite(db, "SELECT count(*) FROM users"));
    const lock = lockState(db);
    const r = await parentRuns(db, "write", cleanEnv({ VOX_CUTOVER_IGNORE_PARENT_PID: undefined }));
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`pid ${r.pid} \\(\\S*python3`));
    expect(r.stderr).toMatch(/Nothing was moved or changed/);
    // The parent's write landed in the primary, which is still the legacy file (no cutover happened).
    expect(sqlite(db, "SELECT typeof(display_name) || ':' || display_name FROM users WHERE id = 'from-parent'")).toBe("text:written by the parent");
    expect(Number(sqlite(db, "SELECT count(*) FROM users"))).toBe(rows + 1);
    expect(versions(db)).toBe(legacy);
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
    expect(existsSync(join(dir, "vox-cutover-runs"))).toBe(false);
    expect(lockState(db)).toBe(lock);
  });
});
