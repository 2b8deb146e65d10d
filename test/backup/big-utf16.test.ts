/**
 * A UTF-16 vox file holding a big TEXT (issue 17, the settings item: a file we cut over keeps its
 * encoding). Its TEXT is read from the pages in slices by the export and written in slices by the
 * import (UTF-16 in the pages, UTF-8 in the backup: src/backup/big-utf16.ts, and
 * test/backup/utf16-slices.test.ts): the cutover's dry-run names nothing as read whole, and the
 * value lands exact in a UTF-16 new file. Big-value size lowered to 64 KB (test hook); the file is
 * made UTF-16 by the sqlite3 CLI from vox's sample and judged by Python's sqlite3.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { execaSync } from "execa";
import { cli, sampleInto, tmp } from "../helpers.js";

const env = { VOX_CUTOVER_BIG_VALUE_BYTES: String(64 << 10) };
let dir: string;
let db: string;

const TEXT = `"héllo 東京 🚀 \\u0000-free" + " naïve line " * 12000`;

beforeAll(async () => {
  dir = tmp("vox-big-u16-");
  ({ db } = await sampleInto(dir, 10));
  // vox's sample, rewritten into a UTF-16le file by the sqlite3 CLI (.dump read into a new file set to UTF-16le first).
  const u16 = join(dir, "u16.db");
  execaSync("sqlite3", [u16], { input: "PRAGMA encoding = 'UTF-16le';\n" + execaSync("sqlite3", [db, ".dump"]).stdout });
  rmSync(db, { force: true });
  for (const s of ["-wal", "-shm"]) rmSync(db + s, { force: true });
  execaSync("python3", [
    "-c",
    `import sqlite3, shutil, sys\nshutil.move(sys.argv[1], sys.argv[2])\nc = sqlite3.connect(sys.argv[2])\nc.execute("UPDATE agent_sessions SET context_summary = ? WHERE rowid = (SELECT min(rowid) FROM agent_sessions)", (${TEXT},))\nc.commit()`,
    u16,
    db,
  ]);
}, 120_000);

describe("a UTF-16 file's big TEXT", () => {
  it("is not named in the cutover's dry-run as read whole (read in slices), and lands exact in a UTF-16 new file", async () => {
    const j = await cli(["cutover", "--db", db, "--json"], { env });
    expect(j.exitCode, j.stderr).toBe(0);
    expect((j.json as { trial?: { readWhole?: unknown } }).trial?.readWhole).toBeUndefined();
    const b = join(dir, "b.jsonl");
    expect((await cli(["export-legacy", b, "--db", db], { env })).exitCode).toBe(0);
    const out = join(dir, "new.db");
    const r = await cli(["import-legacy", b, "--db", out, "--apply"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    const judge = String.raw`
import sqlite3, sys, json
src = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
new = sqlite3.connect(f"file:{sys.argv[2]}?mode=ro", uri=True)
q = "SELECT typeof(context_summary), CAST(context_summary AS BLOB), context_summary FROM agent_sessions ORDER BY rowid"
a, b = src.execute(q).fetchall(), new.execute(q).fetchall()
print(json.dumps([new.execute("PRAGMA encoding").fetchone()[0], a == b, max(len(r[1] or b"") for r in b), b[0][2] == ${TEXT}, new.execute("PRAGMA integrity_check").fetchone()[0]]))`;
    const got = JSON.parse(execaSync("python3", ["-c", judge, db, out]).stdout) as unknown[];
    expect(got).toEqual(["UTF-16le", true, expect.any(Number), true, "ok"]);
    expect(got[2] as number).toBeGreaterThan(64 << 10);
  }, 240_000);

  it("an own-content FTS5 table's big text is named too (read in slices by the export, but SQLite holds it whole as the FTS index takes it)", async () => {
    const d = tmp("vox-big-fts-");
    const { db: fdb } = await sampleInto(d, 10);
    const add = String.raw`
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("CREATE VIRTUAL TABLE own_notes USING fts5(body)")
c.execute("INSERT INTO own_notes(rowid, body) VALUES (1, ?), (2, 'short')", ("word " * 30000 + "needle",))
c.commit()`;
    execaSync("python3", ["-c", add, fdb]);
    const j = await cli(["cutover", "--db", fdb, "--json"], { env });
    expect(j.exitCode, j.stderr).toBe(0);
    const readWhole = (j.json as { trial?: { readWhole?: unknown } }).trial?.readWhole;
    expect(readWhole).toEqual([
      {
        table: "own_notes",
        values: 1,
        reason: expect.stringMatching(/^virtual table: SQLite holds each value above 64 KB whole as the import inserts it/) as unknown,
      },
    ]);
  }, 240_000);
});
