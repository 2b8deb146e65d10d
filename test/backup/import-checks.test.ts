/**
 * The import's last phases with the proof worker (issue 18, session 10). Once every table copied
 * inside SQLite is proven, the worker closes its connection so that the build leaves WAL (the index
 * builds, FTS rebuild and checks are written once). The new file's checks then run on two
 * connections: the import commits the rows, and its own connection and the worker's read connection
 * share the parts — integrity_check as quick_check of the whole file and integrity_check(T) of each
 * table (session 21), and the foreign keys. The answers must be what one connection finds (the
 * sqlite3 CLI is the independent reader), and a check that fails must fail the import as before:
 * nothing at the target, no private build file left — an index that disagrees with its table (only a
 * table's part sees it) and a page nothing uses (only the whole-file part sees it) alike.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeSync, openSync, readdirSync, readSync, rmSync, writeSync } from "node:fs";
import { basename, join } from "node:path";
import { execaSync } from "execa";
// The proof worker is a built file: the import that starts it runs from dist/.
import { importBackup } from "../../dist/src/backup/import.js";
import { baselineImport } from "../fixtures/baseline-import.js";
import { appendUnusedPage, bumpChangeCounter } from "../fixtures/damage.js";
import { cli, rowCounts, sampleInto, sqlite, tmp } from "../helpers.js";

let dir: string;
let db: string;
const backup = () => join(dir, "sample.jsonl");

function importBeside(target: string, onChecking?: (building: string) => void, onCommitted?: (path: string) => void) {
  // The proof worker and the checks' worker at any size (with `onCommitted`, as a kept dry-run trial: the checks on one
  // connection after the commit, backup/import-parity.ts committedChecks, where no checks' worker runs).
  Object.assign(process.env, { VOX_CUTOVER_PROOF_WORKER_BYTES: "0", VOX_CUTOVER_CHECKS_BESIDE_BYTES: onCommitted ? "99999999999" : "0" });
  return importBackup({
    backupPath: backup(),
    targetPath: target,
    ...baselineImport(),
    source: db,
    ...(onCommitted ? { onCommitted } : {}),
    onProgress: (p) => {
      if (p.phase !== "checking foreign keys and integrity" || !onChecking) return;
      const building = readdirSync(dir).filter((f) => f.startsWith(`.${basename(target)}.`) && !/-(wal|shm|journal)$/.test(f));
      expect(building).toHaveLength(1);
      onChecking(join(dir, building[0]!));
    },
  }).finally(() => {
    delete process.env.VOX_CUTOVER_PROOF_WORKER_BYTES;
    delete process.env.VOX_CUTOVER_CHECKS_BESIDE_BYTES;
  });
}

/** The target and any private build file of it. */
const leftovers = (target: string) => readdirSync(dir).filter((f) => f === basename(target) || f.startsWith(`.${basename(target)}.`));

beforeAll(async () => {
  dir = tmp("vox-checks-");
  ({ db } = await sampleInto(dir, 10));
  const e = await cli(["export-legacy", backup(), "--db", db]);
  expect(e.exitCode, e.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the import's last phases with the proof worker", () => {
  it("leave WAL once every table is proven, and count the same foreign-key orphans as sqlite3's foreign_key_check", async () => {
    const target = join(dir, "beside.db");
    let header: number[] = [];
    let sides: string[] = [];
    let committed = "";
    const r = await importBeside(target, (building) => {
      // The worker's connection was closed, so the index builds, FTS rebuild and checks were written
      // once, without WAL. Read from the file's header, not through SQLite: bytes 18 and 19 are 1 in
      // a rollback-journal mode, 2 in WAL.
      const fd = openSync(building, "r");
      const head = Buffer.alloc(2);
      readSync(fd, head, 0, 2, 18);
      closeSync(fd);
      header = [...head];
      sides = readdirSync(dir).filter((f) => f.startsWith(basename(building)) && f !== basename(building));
      // The rows are committed before the checks read them (a second connection sees them).
      committed = sqlite(building, "SELECT count(*) FROM cutover_ledger");
    });
    expect(header).toEqual([1, 1]);
    expect(sides).toEqual([]);
    expect(committed).toBe("1");
    expect(r.integrity).toBe("ok");
    const cliCounts = sqlite(target, 'SELECT "table", count(*) FROM pragma_foreign_key_check GROUP BY 1 ORDER BY 1')
      .split("\n")
      .filter(Boolean)
      .map((l) => ({ table: l.split("|")[0]!, count: Number(l.split("|")[1]) }));
    expect(cliCounts.length).toBeGreaterThan(0); // the sample carries orphans
    expect([...r.foreignKeyViolations].sort((a, b) => a.table.localeCompare(b.table))).toEqual(cliCounts);
    expect(sqlite(target, "PRAGMA integrity_check")).toBe("ok");
    // The planner's statistics (ANALYZE samples up to 1000 rows an index: exact for the sample's
    // tables): every index of a table with rows has its sqlite_stat1 row, counting those rows (the
    // run's ledger row is written after them; a partial index counts the rows it holds).
    const stat = new Map(
      sqlite(target, "SELECT idx || '|' || stat FROM sqlite_stat1 WHERE idx IS NOT NULL")
        .split("\n")
        .map((l) => [l.split("|")[0]!, Number(l.split("|")[1]!.split(" ")[0])]),
    );
    const full = sqlite(
      target,
      "SELECT name || '|' || tbl_name FROM sqlite_master WHERE type = 'index' AND tbl_name <> 'cutover_ledger' AND coalesce(sql, '') NOT LIKE '% WHERE %'",
    )
      .split("\n")
      .map((l) => l.split("|") as [string, string]);
    const rows = rowCounts(
      target,
      full.map(([, table]) => table),
    );
    let counted = 0;
    full.forEach(([index], i) => {
      if (rows[i] === 0) return;
      expect(stat.get(index), index).toBe(rows[i]);
      counted++;
    });
    expect(counted).toBeGreaterThan(10);
  });

  it("an index that disagrees with its table after the rows are committed fails the import: no new file, no build file", async () => {
    const target = join(dir, "corrupt.db");
    let index = "";
    const done = importBeside(target, (building) => (index = emptyLeafIndex(building)));
    await expect(done).rejects.toThrow(/integrity_check of the imported file says: .*(missing from index|wrong # of entries in index)/);
    expect(index).not.toBe("");
    expect(leftovers(target)).toEqual([]);
  });

  it("the integrity_check's parts on two connections still see the whole file: a page no b-tree uses (only a whole-file check sees it) fails the import, no new file, no build file", async () => {
    const target = join(dir, "unused-page.db");
    let grown = 0;
    const done = importBeside(target, (building) => (grown = appendUnused(building)));
    await expect(done).rejects.toThrow(/integrity_check of the imported file says: [\s\S]*never used/);
    expect(grown).toBeGreaterThan(0);
    expect(leftovers(target)).toEqual([]);
  });

  it("a kept trial's checks after its commit (onCommitted, one connection): told the build file once its rows are committed; the same emptied index fails the import, no new file, no build file", async () => {
    const target = join(dir, "corrupt-committed.db");
    const heard: string[] = [];
    const done = importBeside(
      target,
      (building) => {
        expect(heard).toEqual([building]); // committed before the checks, and said so
        expect(sqlite(building, "SELECT count(*) > 0 FROM conversations")).toBe("1"); // another connection reads the committed rows
        emptyLeafIndex(building);
      },
      (path) => heard.push(path),
    );
    await expect(done).rejects.toThrow(/integrity_check of the imported file says: .*(missing from index|wrong # of entries in index)/);
    expect(leftovers(target)).toEqual([]);
  });
});

/**
 * Empties a non-unique index of a table with rows that sits on one leaf page (a valid page with no cells:
 * the b-tree stays sound, only the index-against-table checks can see it) and moves the file change
 * counter (a connection's cached pages are read again). Returns the index's name.
 */
function emptyLeafIndex(building: string): string {
  const [name, root, pageSize] = leafIndex(building).split("|");
  const page = Buffer.alloc(Number(pageSize));
  const fd = openSync(building, "r+");
  try {
    const at = (Number(root) - 1) * Number(pageSize);
    readSync(fd, page, 0, page.length, at);
    expect(page[0]).toBe(0x0a); // a leaf index page
    page.fill(0);
    page[0] = 0x0a;
    page.writeUInt16BE(Number(pageSize) & 0xffff, 5); // cell content area starts at the end: no cells
    writeSync(fd, page, 0, page.length, at);
    bumpChangeCounter(fd);
  } finally {
    closeSync(fd);
  }
  return name!;
}

/** A page nothing uses appended to the file (test/fixtures/damage.ts), which Python's sqlite3 confirms the whole-file check names. */
function appendUnused(building: string): number {
  const page = appendUnusedPage(building, Number(sqlite(building, "PRAGMA page_size")));
  const script = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchall())";
  expect(execaSync("python3", ["-c", script, building]).stdout).toContain(`Page ${page}`);
  return page;
}

/** A non-unique index on one leaf page of a table with rows, found by Python's sqlite3: `name|rootpage|page_size`. */
function leafIndex(file: string): string {
  const script = `
import sqlite3, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
ps = c.execute("PRAGMA page_size").fetchone()[0]
data = open(sys.argv[1], "rb")
for name, tbl, root in c.execute("SELECT name, tbl_name, rootpage FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND sql NOT LIKE '%UNIQUE%' ORDER BY name").fetchall():
    if c.execute('SELECT count(*) FROM "%s"' % tbl.replace('"', '""')).fetchone()[0] < 2: continue
    data.seek((root - 1) * ps)
    if data.read(1) == b"\\x0a":
        print("%s|%d|%d" % (name, root, ps)); break
`;
  return execaSync("python3", ["-c", script, file]).stdout.trim();
}
