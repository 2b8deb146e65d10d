import { execa, execaSync } from "execa";
import { createHash } from "node:crypto";
import { constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { afterAll, inject } from "vitest";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import Database from "libsql";
import { factsToFragments } from "../src/schema/ddl.js";
import { shellQuote } from "../src/util/shell.js";

export const ROOT = resolve(import.meta.dirname, "..");
export const BIN = join(ROOT, "dist", "src", "cli", "main.js");

/**
 * test/fixtures/no-opt.cjs turns V8's optimizing compiler off in the CLI processes the tests start. Their
 * runs are a second or two on files of a few MB, where TurboFan's compiles cost more CPU than they save:
 * 16–20 % less CPU a run, ~800 runs a suite (docs/testing.md, session 28). What a run does is the same; the
 * product's own speed is measured by `npm run bench`.
 */
const NO_OPT = join(ROOT, "test", "fixtures", "no-opt.cjs");

/** Node's arguments before BIN for a test that starts `node` itself with options of its own (`node …NODE_ARGS BIN …`). */
export const NODE_ARGS = ["--require", NO_OPT];

/**
 * How the tests start the CLI: `execa(...launch(args), { env: cliEnv(…) })` runs `sh BIN args`, as the
 * installed command runs (its launch line, src/cli/main.ts: V8's young generation and glibc's arenas as
 * an operator's run has them, then `exec node`: the same pid, its signals and exit code), with no-opt.cjs
 * preloaded through NODE_OPTIONS. Launched so, the files that start many runs take ~10 % less CPU than
 * under `node BIN` (fewer fresh pages: docs/testing.md, session 32).
 */
export function launch(args: string[]): [string, string[]] {
  return ["sh", [BIN, ...args]];
}

/** cleanEnv(extra) with no-opt.cjs preloaded (before any NODE_OPTIONS of `extra`'s): the environment of `launch`. */
export function cliEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const env = cleanEnv(extra);
  env.NODE_OPTIONS = [`--require=${JSON.stringify(NO_OPT)}`, env.NODE_OPTIONS].filter(Boolean).join(" ");
  return env;
}

/**
 * The run's own lock folder (test/global-setup.ts), as a word for a shell command line: a process
 * started through tmux gets its environment from the tmux server, which may be older than this run.
 */
export function lockDirEnv(): string {
  const d = process.env.VOX_CUTOVER_LOCK_DIR;
  return d ? `VOX_CUTOVER_LOCK_DIR=${shellQuote(d)}` : "";
}

/**
 * What the processes the tests start go without (cleanEnv; the tmux wizards, test/wizard/tmux.ts). This
 * sandbox points NODE_EXTRA_CA_CERTS at the system's CA bundle (for its egress proxy): every Node process
 * reads and parses that file as it starts, ~40 ms of CPU, a third of Node's own start here (session 34),
 * and the tests start ~900. None of their processes makes a TLS connection.
 */
export const NOT_IN_TEST_PROCESSES = ["NODE_EXTRA_CA_CERTS"];

/** Environment without anything that would resolve a database by accident (the run's lock folder kept). */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(VOX_|TURSO_)/.test(k) && k !== "VOX_CUTOVER_LOCK_DIR") env[k] = undefined;
  }
  env.NO_COLOR = "1";
  for (const k of NOT_IN_TEST_PROCESSES) env[k] = undefined;
  // Test hook: this process keeps libsql fixtures open until collected (libsql-js#228); the CLI,
  // started as its child, must not take it for an application holding the database.
  env.VOX_CUTOVER_IGNORE_PARENT_PID = String(process.pid);
  return { ...env, ...extra };
}

interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  json?: any;
}

export async function cli(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string; input?: string } = {}): Promise<CliResult> {
  const r = await execa(...launch(args), {
    env: cliEnv(opts.env),
    extendEnv: false,
    cwd: opts.cwd ?? ROOT,
    reject: false,
    input: opts.input,
    stdin: opts.input === undefined ? "ignore" : undefined,
    timeout: 120_000,
  });
  const res: CliResult = { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  if (args.includes("--json")) {
    try {
      res.json = JSON.parse(res.stdout);
    } catch {
      /* leave undefined; the test will say */
    }
  }
  return res;
}

const madeDirs: string[] = [];
/**
 * Removes every temp folder made since the last call: called when each test file's tests end
 * (test/file-setup.ts; files share a worker process and so this module).
 */
export function removeMadeDirs(): void {
  for (const d of madeDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function tmp(prefix = "vox-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.push(d);
  return d;
}

/**
 * A fresh folder at a short path of fixed length under /tmp, whatever TMPDIR is: for tests whose
 * checks depend on how long a shown path is (terminal screens wrap it). Removed like tmp()'s.
 */
export function shortTmp(): string {
  const d = mkdtempSync("/tmp/vt-");
  madeDirs.push(d);
  return d;
}

/** A word for `sh -c`: the product's one shell-quoting rule (src/util/shell.ts), not a twin of it. */
export { shellQuote as shq } from "../src/util/shell.js";

const madeCache = new Map<string, Promise<string>>();
/**
 * A fixture `build()` makes once per `key` per worker process (the files share the process; what it
 * makes is only ever copied from). A failed build fails its caller, not every later file.
 */
export function madeOnce(key: string, build: () => Promise<string>): Promise<string> {
  let made = madeCache.get(key);
  if (!made) {
    made = build();
    madeCache.set(key, made);
    made.catch(() => madeCache.delete(key));
  }
  return made;
}

/**
 * The files `vox-cutover sample DIR/vox.db --rows N` writes (vox.db, its sidecar, telemetry.jsonl),
 * in `dir`. The CLI runs once per row count per worker process (the files it runs share it); later
 * calls copy its files (the sample is deterministic), so a test pays a file copy, not a Node
 * process. The made samples live in the run's scratch folder (test/global-setup.ts removes it when
 * the run ends), never in a test's own folders, and are only ever copied from.
 */
export async function sampleInto(dir: string, rows = 10): Promise<{ dir: string; db: string; orig: string }> {
  const db = await copySample(dir, rows);
  return { dir, db, orig: sha256(db) };
}

/** The made sample's files copied into `dir` (see above); its vox.db's path. */
async function copySample(dir: string, rows: number): Promise<string> {
  const from = await madeOnce(`sample-${rows}`, async () => {
    const d = mkdtempSync(join(inject("sharedScratch"), `sample-${rows}-`));
    const r = await cli(["sample", join(d, "vox.db"), "--rows", String(rows)]);
    if (r.exitCode !== 0) throw new Error(`sample --rows ${rows} failed: ${r.stderr}`);
    return d;
  });
  for (const f of readdirSync(from)) copyFileSync(join(from, f), join(dir, f), constants.COPYFILE_EXCL);
  return join(dir, "vox.db");
}

/**
 * `sampleInto`'s files, its vox.db cut to the tables tests of the run's mechanics name: vox's own (the
 * shapes kept: orphans, both FTS tables with their content tables, AUTOINCREMENT), the operator's two tables and the ad-hoc `schema_version`
 * rows that go to `legacy_quarantine`. A sample's CLI run costs per table (~1 CPU-s for vox's ~180, half
 * that for these): for files that start dozens of runs to test a mechanism that does the same for every
 * table (kept-trial, runfiles, guard, hold, interrupts-writes). Made once per row count per worker
 * process (madeOnce), then copied.
 */
export const FEWER_TABLES = [
  "schema_version",
  "actor_state",
  "conversations",
  "knowledge_nodes",
  "embeddings",
  "names",
  "objects",
  "news_publish_attempts",
  "search_document_chunks",
  "user_kv",
  "user_bookmarks",
];
export async function sampleWithFewerTables(dir: string, rows = 10): Promise<{ dir: string; db: string; orig: string }> {
  const from = await madeOnce(`sample-fewer-${rows}`, async () => {
    const db = await copySample(mkdtempSync(join(inject("sharedScratch"), `sample-fewer-${rows}-`)), rows);
    await cutToTables(db, FEWER_TABLES);
    return db;
  });
  const db = await copySample(dir, rows); // its sidecar and telemetry; the cut vox.db over the whole one
  copyFileSync(from, db);
  return { dir, db, orig: sha256(db) };
}

/**
 * Drops every table of `db` but `keep` and the FTS tables (their shadow tables with them), then VACUUMs (Python's
 * sqlite3, foreign keys off): the cut sampleWithFewerTables makes, for a file that needs other tables kept.
 */
export async function cutToTables(db: string, keep: string[]): Promise<void> {
  const py = `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
keep = set(sys.argv[2].split(","))
c.execute("PRAGMA foreign_keys = OFF")
for (name,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%'").fetchall():
    if name not in keep and "_fts" not in name:
        c.execute('DROP TABLE "%s"' % name.replace('"', '""'))
c.commit()
c.execute("VACUUM")
`;
  await execa("python3", ["-c", py, db, keep.join(",")]);
}

/**
 * A 10-row sample in a new folder (`tmp(prefix)`), changed by a Python sqlite3 script that gets the
 * database's path as `sys.argv[1]` (an operator's own table, a large value in a vox column).
 */
export async function sampleChangedBy(prefix: string, py: string): Promise<{ d: string; db: string }> {
  const d = tmp(prefix);
  const { db } = await sampleInto(d, 10);
  execaSync("python3", ["-c", py, db]);
  return { d, db };
}

/** The big-value size the large-value tests lower to 64 KB (values above it are read from the pages in slices). */
export const BIG_VALUES_ABOVE_64K = { VOX_CUTOVER_BIG_VALUE_BYTES: String(64 << 10) };

/** A module of the build (dist/src), as the CLI runs it: one module instance for instanceof, its worker threads' files beside it. */
export const dist = async <T>(m: string): Promise<T> => (await import(join(ROOT, "dist/src", m))) as T;

/** For a file that lowers the big-value size (the test hook): VOX_CUTOVER_BIG_VALUE_BYTES is put back as it was after the file. */
export function restoreBigValueBytesAfterAll(): void {
  const before = process.env.VOX_CUTOVER_BIG_VALUE_BYTES;
  afterAll(() => {
    if (before === undefined) delete process.env.VOX_CUTOVER_BIG_VALUE_BYTES;
    else process.env.VOX_CUTOVER_BIG_VALUE_BYTES = before;
  });
}

export function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Every file under dir (relative path → sha256), to prove nothing appeared or changed. */
export function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const r = rel ? `${rel}/${e}` : e;
      if (statSync(p).isDirectory()) {
        out[r + "/"] = "dir";
        walk(p, r);
      } else out[r] = sha256(p);
    }
  };
  walk(dir, "");
  return out;
}

/** The sqlite3 CLI: the independent checker. */
export function sqlite(db: string, sql: string): string {
  return execaSync("sqlite3", [db, sql]).stdout;
}

/**
 * The number each of `statements` answers (each one line: `SELECT count(*) …;`), in one sqlite3 process (its
 * statements read from stdin, answered in order): for tests that compare many counts, which paid a process each.
 */
export function countsOf(db: string, statements: string[]): number[] {
  if (statements.length === 0) return [];
  const out = execaSync("sqlite3", [db], { input: statements.join("\n") + "\n" })
    .stdout.trim()
    .split("\n");
  if (out.length !== statements.length) throw new Error(`sqlite3 gave ${out.length} answers for ${statements.length} statements on ${db}`);
  return out.map(Number);
}

/** sqlite3's count(*) of each of `tables` (countsOf). */
export function rowCounts(db: string, tables: string[]): number[] {
  return countsOf(
    db,
    tables.map((t) => `SELECT count(*) FROM "${t.replace(/"/g, '""')}";`),
  );
}

/**
 * `sql` written into `db` by Python's sqlite3 with the file's times put back (test/fixtures/write-times-back.py):
 * a write the content version cannot see. Throws unless it is one (the same size, modification time and
 * change counter, no -wal left) — only the file's ctime moved.
 */
export function writeTimesBack(db: string, sql: string): void {
  const r = JSON.parse(execaSync("python3", [join(ROOT, "test", "fixtures", "write-times-back.py"), db, sql]).stdout);
  const { ctimeNs: was, ...before } = r.before;
  const { ctimeNs: now, ...after } = r.after;
  if (JSON.stringify(before) !== JSON.stringify(after) || after.wal || was === now)
    throw new Error(`not a write the content version misses: ${JSON.stringify(r)}`);
}

export function sha3sum(db: string, table: string): string {
  // .sha3sum takes a LIKE pattern; quotes in a name are matched with `_` (the CLI has no escapes in '…').
  const q = table.replace(/['"]/g, "_");
  return execaSync("sqlite3", [db, `.sha3sum '${q}'`]).stdout.trim();
}

/**
 * sha3sum() of each table, in one sqlite3 process (its dot-commands read from stdin, one line each):
 * for tests that compare many tables, which paid a process per table and file.
 */
export function sha3sums(db: string, tables: string[]): string[] {
  const script = tables.map((t) => `.sha3sum '${t.replace(/['"]/g, "_")}'`).join("\n") + "\n";
  const out = execaSync("sqlite3", [db], { input: script }).stdout.trim().split("\n");
  if (out.length !== tables.length) throw new Error(`sqlite3 .sha3sum gave ${out.length} lines for ${tables.length} tables of ${db}`);
  return out;
}

/** Opens a libsql database for a test to build a fixture (foreign keys off, like a legacy app). */
export function fixtureDb(path: string): InstanceType<typeof Database> {
  const db = new Database(path);
  db.defaultSafeIntegers(true);
  db.exec("PRAGMA foreign_keys=OFF");
  // A scratch file: no fsync per statement (the baseline's ~500 CREATEs took 4 s each on a busy disk, 0.1 s without).
  // Per connection only: the file and what the product does with it are the same.
  db.exec("PRAGMA synchronous=OFF");
  return db;
}

let baselineSql: string | undefined;
/** The baseline's SQL as the built product writes it (computed once per test file). */
export function baselineSqlText(): string {
  if (baselineSql !== undefined) return baselineSql;
  const manifest = pathToFileURL(join(ROOT, "dist", "src", "schema", "manifest.js")).href; // any checkout path, quotes and spaces included
  const text = execaSync("node", [
    "-e",
    `import(${JSON.stringify(manifest)}).then(m => process.stdout.write(m.baselineSql(m.loadManifest().fragments)))`,
  ]).stdout;
  baselineSql = text + "\n";
  return baselineSql;
}

/** A database on the current baseline (optionally another version row), made with the product's own DDL. */
export function makeBaselineDb(path: string, versions: number[] = [66]): void {
  const db = fixtureDb(path);
  db.exec(baselineSqlText());
  const ins = db.prepare("INSERT INTO schema_version(version, applied_at) VALUES (?, '2025-01-01T00:00:00Z')");
  for (const v of versions) ins.run(BigInt(v));
  db.close();
}

/** vox's facts files (the one copy, shipped: schema/vox-reference/): baseline 66, 60, 42 and the incremental era (rows 1..23). */
type VoxFacts = "66" | "60" | "42" | "v1-v23";

export function voxFactsFile(which: VoxFacts): string {
  return join(ROOT, "schema", "vox-reference", `schema-${which}.json`);
}

export function voxFacts(which: VoxFacts): any {
  return JSON.parse(readFileSync(voxFactsFile(which), "utf8"));
}

/**
 * A database laid out the way vox leaves one: the tables of one vox baseline (built from its facts,
 * no table of ours), `schema_version` rows as vox writes them. `mutate` runs SQL after the build.
 */
export function makeVoxDb(path: string, which: VoxFacts, versions: number[], mutate = ""): void {
  const facts = voxFacts(which);
  const sql = factsToFragments(facts)
    .flatMap((x) => x.statements)
    .join("\n");
  const db = fixtureDb(path);
  db.exec(sql);
  if (!facts.tables.schema_version) db.exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (datetime('now')))");
  const ins = db.prepare("INSERT INTO schema_version(version) VALUES (?)");
  for (const v of versions) ins.run(BigInt(v));
  if (mutate) db.exec(mutate);
  db.close();
}

/**
 * Starts a CLI command paused at `point` (VOX_CUTOVER_PAUSE_AT; `ms` = how long it waits there at
 * most); resolves when it is there. `release()` ends the wait at once (removes the marker file).
 */
export async function pausedAt(args: string[], point: string, ms?: number, once = false, env: Record<string, string> = {}) {
  const marker = join(tmp(), "paused");
  const child = execa(...launch(args), {
    env: cliEnv({
      ...env,
      VOX_CUTOVER_PAUSE_AT: point,
      VOX_CUTOVER_PAUSE_FILE: marker,
      ...(ms ? { VOX_CUTOVER_PAUSE_MS: String(ms) } : {}),
      ...(once ? { VOX_CUTOVER_PAUSE_ONCE: "1" } : {}),
    }),
    extendEnv: false,
    reject: false,
    stdin: "ignore",
  });
  /** Until the process pauses (at `point`, or at the next of several: `a,b`). */
  const reached = async () => {
    const t0 = Date.now();
    while (!existsSync(marker)) {
      if (Date.now() - t0 > 60_000) throw new Error(`never reached ${point}`);
      if (child.exitCode !== null) throw new Error(`exited before ${point}: ${(await child).stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await reached();
  const release = () => rmSync(marker, { force: true });
  return { child, release, reached }; // wrapped: an execa subprocess is a thenable (returning it would await its exit)
}

/** Runs the command paused at `point`, sends `sig` there and then ends the pause (removes the marker), returns the result and the TMPDIR it used. */
export async function interruptAt(args: string[], point: string, sig: NodeJS.Signals, env: Record<string, string> = {}) {
  const scratch = tmp();
  const ownTmp = join(scratch, "tmpdir");
  mkdirSync(ownTmp);
  const marker = join(scratch, "paused");
  const child = execa(...launch(args), {
    env: cliEnv({
      ...env,
      TMPDIR: ownTmp,
      VOX_CUTOVER_PAUSE_AT: point,
      VOX_CUTOVER_PAUSE_MS: "60000",
      VOX_CUTOVER_PAUSE_FILE: marker,
      VOX_CUTOVER_PAUSE_ONCE: "1",
    }),
    extendEnv: false,
    reject: false,
    stdin: "ignore",
    forceKillAfterDelay: false,
  });
  const t0 = Date.now();
  while (!existsSync(marker)) {
    if (Date.now() - t0 > 60_000) throw new Error(`never reached ${point}`);
    if (child.exitCode !== null) throw new Error(`exited before ${point}: ${(await child).stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill(sig);
  rmSync(marker); // the signal is sent: the run goes on to its next safe point, where it is handled
  const res = await child;
  return { res, tmpdirAfter: readdirSync(ownTmp) };
}
