/**
 * The dry-run's trial, kept and adopted by the apply of the same plan (src/engine/kept-trial.ts):
 * the adopted result equals a cold apply's by an independent reader (sqlite3 .sha3sum, Python's
 * sqlite3), and a trial that no longer fits the primary or its own record is never adopted.
 */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  linkSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { execa } from "execa";
import { BIN, cleanEnv, cli, pausedAt, sampleWithFewerTables, sha256, sha3sums, sqlite, tmp, writeTimesBack } from "../helpers.js";
import { retireKeptTrial, sweepKeptTrials } from "../../dist/src/engine/kept-trial.js";

/**
 * A folder with the sample (vox's tables these tests name, `sampleWithFewerTables`: what is tested here is
 * the trial's keeping and adoption, the same for any table, and this file makes ~45 dry-runs) and a
 * TMPDIR of its own (where a dry-run keeps its trial).
 */
async function setup(): Promise<{ dir: string; db: string; env: Record<string, string>; kept: () => string[] }> {
  const dir = tmp("vox-kept-");
  const { db } = await sampleWithFewerTables(dir, 30);
  const own = join(dir, "tmp");
  mkdirSync(own);
  const home = join(own, `vox-cutover-trials-${process.getuid!()}`);
  return { dir, db, env: { TMPDIR: own }, kept: () => (existsSync(home) ? readdirSync(home).map((n) => join(home, n)) : []) };
}

/** A dry-run, then the apply of its plan (`--json`) started and paused at `point`. */
async function applyPausedAfterDryRun(point: string) {
  const { db, env, kept } = await setup();
  const dry = await cli(["cutover", "--db", db, "--json"], { env });
  expect(dry.exitCode, dry.stderr).toBe(0);
  const { child, release } = await pausedAt(["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest, "--json"], point, undefined, false, env);
  return { db, env, kept, child, release };
}

const step = (json: any, id: string) => json.steps.find((s: any) => s.id === id);

/** The trial still kept under its key (not taken); then the apply of `plan` through `db` adopts it. */
async function stillKeptThenAdopted(db: string, env: Record<string, string>, kept: () => string[], plan: string): Promise<void> {
  expect(kept().map((k) => basename(k))).toEqual([expect.stringMatching(/^[0-9a-f]{20}$/)]);
  const apply = await cli(["cutover", "--db", db, "--apply", "--plan", plan, "--json"], { env });
  expect(apply.exitCode, apply.stderr).toBe(0);
  expect(step(apply.json, "build-import").summary).toMatch(/adopted/);
}

/** Every table's rows as an independent reader sees them, the run's own columns (run id, times) left out. */
function content(db: string): Record<string, string> {
  const tables = sqlite(
    db,
    "SELECT name FROM sqlite_master WHERE type='table' AND sql NOT LIKE 'CREATE VIRTUAL%' AND name NOT IN ('cutover_ledger','legacy_quarantine','schema_version') ORDER BY name",
  ).split("\n");
  const sums = sha3sums(db, tables);
  const out: Record<string, string> = Object.fromEntries(tables.map((t, i) => [t, sums[i]!]));
  out.legacy_quarantine = sqlite(
    db,
    "SELECT hex(source_table), hex(source_rowid), hex(source_key), hex(row_json), hex(reason) FROM legacy_quarantine ORDER BY id",
  );
  out.schema_version = sqlite(db, "SELECT version FROM schema_version ORDER BY version");
  return out;
}

/**
 * What a cold apply makes of the sample `setup` copies (another file, no trial of its own), by `content`:
 * cut over once per worker process and compared with every adopted result (the sample is deterministic,
 * and `content` leaves out the run's own columns).
 */
let coldMade: Promise<Record<string, string>> | undefined;
function coldContent(): Promise<Record<string, string>> {
  coldMade ??= (async () => {
    const { db, env } = await setup();
    const c = await cli(["cutover", "--db", db, "--apply", "--json"], { env });
    expect(c.exitCode, c.stderr).toBe(0);
    expect(step(c.json, "export").summary).not.toMatch(/adopted/);
    return content(db);
  })();
  return coldMade;
}

describe("a dry-run's trial, adopted by the apply of its plan", () => {
  it("the apply adopts the trial's backup and build; the result equals a cold apply's; every row of the new file names the run; the new file's sha256 taken beside the dry-run's checks (a rollback-journal file, on the worker: the record's is the kept file's by Python's hashlib) and beside the apply's Stage 0 (used: nothing wrote to the file since)", async () => {
    // One dry-run and its apply serve three: this test's adoption (the rows against a cold apply's), the
    // "hashed beside its checks" test's (worker, rollback-journal file) pair (the dry-run with
    // VOX_CUTOVER_HASH_BESIDE_BYTES=0: the new file's sha256 taken beside its checks, kept, and the kept
    // file's by Python's hashlib), and the first half of "taken beside Stage 0" (the apply with it: the
    // built file's hash taken beside Stage 0 is used, the file unwritten since). The hash's place changes
    // none of the files the run writes; the adoption with the hash taken after the move is every other
    // adopting test's (those pairs' applies run without it).
    const beside = { VOX_CUTOVER_HASH_BESIDE_BYTES: "0" }; // the 30-row sample's file is below the default size
    const { db, env, kept } = await setup();
    const orig = sha256(db);
    const dry = await cli(["cutover", "--db", db, "--json"], { env: { ...env, ...beside } });
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(kept()).toHaveLength(1);
    expect(dry.stderr).toContain(`The trial's backup and new file are kept in ${kept()[0]} (`);
    expect(dry.json.trial.kept).toBe(kept()[0]);
    // The (worker, rollback-journal file) pair: nothing writes such a file after its checks, so the hash taken beside them is kept.
    expect(dry.stderr).toMatch(/kept in .* \(.*; the new file's sha256 taken beside its checks\) for the apply/);
    const record = JSON.parse(readFileSync(join(kept()[0]!, "trial.json"), "utf8"));
    const python = execFileSync("python3", [
      "-c",
      "import hashlib,sys\nprint(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())",
      join(kept()[0]!, "trial.db"),
    ]);
    expect(record.builtSha256).toBe(python.toString().trim());
    const apply = await cli(["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest, "--json"], { env: { ...env, ...beside } });
    expect(apply.exitCode, apply.stderr).toBe(0);
    expect(apply.stderr).toMatch(/\[write\] export: adopt the dry-run's backup \(.*\): moved to .*, not exported again/); // the plan says so
    expect(apply.stderr).toMatch(/\[write\] build-import: adopt the dry-run's new file/);
    expect(step(apply.json, "export").summary).toMatch(/^the dry-run's backup .* adopted: the primary unchanged since that export/);
    expect(step(apply.json, "verify-backup").summary).toMatch(/table hashes recomputed equal to the export's/);
    expect(step(apply.json, "build-import").summary).toMatch(/^the dry-run's build .* adopted, its sha256 unchanged since its checks/);
    // Taken beside Stage 0 and used: nothing wrote to the file since (the second half, a byte flipped after it was taken, is the next test's).
    expect(step(apply.json, "build-import").summary).toMatch(
      /adopted, its sha256 unchanged since its checks \(taken beside Stage 0, the file unwritten since\)/,
    );
    expect(step(apply.json, "checks").summary).toMatch(/integrity_check ok \(in the import: the dry-run's, its file's sha256 unchanged since\)/);
    expect(kept()).toEqual([]); // consumed
    expect(readdirSync(env.TMPDIR!)).toEqual([]); // and the user's folder of kept trials, empty, removed
    // The cold apply: another file (no trial of its own), the same rows.
    expect(content(db)).toEqual(await coldContent());
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
    // The build's ledger row and every quarantined row carry this run's id (the trial was built with it).
    const runId = apply.json.runId;
    expect(sqlite(db, "SELECT DISTINCT run_id FROM cutover_ledger")).toBe(runId);
    expect(sqlite(db, "SELECT DISTINCT run_id FROM legacy_quarantine")).toBe(runId);
    expect(sqlite(db, "SELECT count(*) FROM cutover_ledger WHERE command = 'cutover:import' AND plan_digest = '" + dry.json.planDigest + "'")).toBe("1");
    // The backup is in the run's work dir, the archive is the untouched original.
    expect(apply.json.backup.path.startsWith(apply.json.workDir)).toBe(true);
    expect(apply.json.backup.verified).toBe(true);
    expect(sha256(apply.json.archive.path)).toBe(orig);
    expect(sqlite(db, "PRAGMA journal_mode")).toBe("delete"); // the pair's last check: a rollback-journal file stays one
  });

  it("a write to the primary after the dry-run: not adopted (the note says why), the trial removed, the write in the new file", async () => {
    const { db, env, kept } = await setup();
    const dry = await cli(["cutover", "--db", db, "--json"], { env });
    expect(dry.exitCode, dry.stderr).toBe(0);
    sqlite(db, "INSERT INTO actor_state(key, value) VALUES ('after-the-dry-run', 'v')");
    const apply = await cli(["cutover", "--db", db, "--apply"], { env });
    expect(apply.exitCode, apply.stderr).toBe(0);
    expect(apply.stderr + apply.stdout).toMatch(
      /The dry-run's kept trial was not used \(the primary changed since its export \(.*\)\): this run exports and builds itself/,
    );
    expect(apply.stdout).not.toMatch(/adopted/);
    expect(kept()).toEqual([]);
    expect(sqlite(db, "SELECT count(*) FROM actor_state WHERE key = 'after-the-dry-run'")).toBe("1");
  });

  it("a WAL file written after the dry-run with its size, times and change counter put back (its -wal gone): not adopted (its ctime), the write in the new file", async () => {
    const { db, env, kept } = await setup();
    expect(sqlite(db, "PRAGMA journal_mode=WAL")).toBe("wal");
    const dry = await cli(["cutover", "--db", db, "--json"], { env });
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(kept()).toHaveLength(1);
    // One value changed in place: same row count, same pages (checked by writeTimesBack), so only the ctime tells.
    writeTimesBack(db, "UPDATE actor_state SET value = 'W' || substr(value, 2) WHERE rowid = (SELECT min(rowid) FROM actor_state)");
    const changed = sqlite(db, "SELECT value FROM actor_state ORDER BY rowid LIMIT 1");
    expect(changed).toMatch(/^W/);
    const apply = await cli(["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest, "--json"], { env });
    expect(apply.exitCode, apply.stderr).toBe(0);
    expect(apply.stderr).toMatch(
      /The dry-run's kept trial was not used \(the primary changed since its export \(its status-change time moved: written to with its size and modification time put back/,
    );
    expect(step(apply.json, "export").summary).not.toMatch(/adopted/);
    expect(step(apply.json, "build-import").summary).not.toMatch(/adopted/);
    expect(kept()).toEqual([]);
    expect(sqlite(db, "SELECT value FROM actor_state ORDER BY rowid LIMIT 1")).toBe(changed);
  });

  it("a write between the apply's take and its lock, and its planned work dir taken meanwhile (another run's name in the same second): looked at again under the lock, not adopted, the run exports itself (no workers started ahead) with the write, in the next work dir; nothing of the trial is left", async () => {
    // One dry-run and one apply paused twice serve two: the write made between the take and the lock (paused
    // after ssot-drift, before the lock step) is found under the lock by the export step, which does not adopt
    // (the note's words, the write in the new file); and that run, which moved to the next work dir (its planned
    // name taken while it was paused after Stage 0's last step) and did not adopt the trial, leaves nothing of
    // it (the trial is given back only when no journal is in the run's work dir: the one it moved to).
    const { db, env, kept } = await setup();
    const clock = { ...env, VOX_CUTOVER_CLOCK: "2026-01-01T00:00:00Z" };
    const dry = await cli(["cutover", "--db", db, "--json"], { env: clock });
    expect(dry.exitCode, dry.stderr).toBe(0);
    const { child, release, reached } = await pausedAt(
      ["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest, "--json"],
      "after:ssot-drift,after:structure",
      undefined,
      false,
      clock,
    );
    sqlite(db, "INSERT INTO actor_state(key, value) VALUES ('after-the-take', 'v')"); // taken, not yet locked
    release();
    await reached(); // after:structure: Stage 0 done, the work dir not yet made
    mkdirSync(join(dirname(db), "vox-cutover-runs", "20260101T000000Z"), { recursive: true }); // the planned name, taken meanwhile
    release();
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/The dry-run's kept trial was not used \(the primary changed since its export: .*\): this run exports itself/);
    const json = JSON.parse(r.stdout);
    expect(json.workDir).toMatch(/20260101T000000Z-2$/);
    expect(step(json, "export").summary).not.toMatch(/adopted/);
    expect(step(json, "build-import").summary).not.toMatch(/adopted/);
    expect(sqlite(db, "SELECT count(*) FROM actor_state WHERE key = 'after-the-take'")).toBe("1");
    expect(kept()).toEqual([]);
  });

  it("a built file changed after the dry-run (same size and time): the backup is adopted, the build is not (sha256), the run builds it and succeeds", async () => {
    const { db, env, kept } = await setup();
    const dry = await cli(["cutover", "--db", db, "--json"], { env });
    expect(dry.exitCode, dry.stderr).toBe(0);
    const built = join(kept()[0]!, "trial.db");
    const page = Number(sqlite(built, "PRAGMA page_size"));
    // One byte of the last page flipped, its modification time put back: only the content hash can tell.
    execFileSync("python3", [
      "-c",
      "import os,sys\np=sys.argv[1];st=os.stat(p);f=open(p,'r+b');f.seek(st.st_size-int(sys.argv[2])//2);b=f.read(1);f.seek(-1,1);f.write(bytes([b[0]^255]));f.close();os.utime(p,ns=(st.st_atime_ns,st.st_mtime_ns))",
      built,
      String(page),
    ]);
    const apply = await cli(["cutover", "--db", db, "--apply", "--json"], { env });
    expect(apply.exitCode, apply.stderr).toBe(0);
    expect(step(apply.json, "export").summary).toMatch(/adopted/);
    expect(step(apply.json, "build-import").summary).not.toMatch(/adopted/);
    expect(apply.stderr).toMatch(/The dry-run's built file changed since its checks \(its sha256 differs\): this run builds the new file itself/);
    expect(kept()).toEqual([]);
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
  });

  it("the built file's sha256 taken beside Stage 0: a byte flipped after it was taken (size and time put back) is found by its ctime, and the run builds itself", async () => {
    // Its first half (the hash taken beside Stage 0 used while nothing wrote to the file) is the first test's apply.
    const beside = { VOX_CUTOVER_HASH_BESIDE_BYTES: "0" }; // the 30-row sample's file is below the default size
    const { db, env, kept } = await setup();
    const dry = await cli(["cutover", "--db", db, "--json"], { env });
    const page = Number(sqlite(join(kept()[0]!, "trial.db"), "PRAGMA page_size"));
    // Paused after verify-backup: the hash beside Stage 0 is taken, the built file not yet moved (its folder taken: `<key>.taken-<pid>`).
    const { child, release } = await pausedAt(
      ["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest, "--json"],
      "after:verify-backup",
      undefined,
      false,
      { ...env, ...beside },
    );
    const built = join(
      kept().find((k) => /\.taken-\d+$/.test(k))!,
      "trial.db",
    );
    execFileSync("python3", [
      "-c",
      "import os,sys\np=sys.argv[1];st=os.stat(p);f=open(p,'r+b');f.seek(st.st_size-int(sys.argv[2])//2);b=f.read(1);f.seek(-1,1);f.write(bytes([b[0]^255]));f.close();os.utime(p,ns=(st.st_atime_ns,st.st_mtime_ns))",
      built,
      String(page),
    ]);
    release();
    const apply = await child;
    expect(apply.exitCode, apply.stderr).toBe(0);
    expect(apply.stderr).toMatch(/The dry-run's built file changed since its checks \(its sha256 differs\): this run builds the new file itself/);
    expect(JSON.parse(apply.stdout).steps.find((s: any) => s.id === "build-import").summary).not.toMatch(/adopted/);
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
  });

  it("the dry-run's new file hashed beside its checks: the record's sha256 is the kept file's by Python's hashlib — a rollback-journal file, a WAL file (turned to WAL after the checks), one with the operator's own index (carried after them) — and the apply adopts it", async () => {
    // The worker as it runs (on the 30-row sample it may read before or after the writes that follow the checks), and
    // the test hook that takes the hash at once, so that those writes surely come after it: then it is not kept, the file is hashed again.
    // "checks worker": as a source of 512 MB or more builds — the proof worker, and the checks shared with a worker of their own.
    const large = { VOX_CUTOVER_PROOF_WORKER_BYTES: "0", VOX_CUTOVER_CHECKS_BESIDE_BYTES: "0" };
    // Seven of the nine pairs (each pair is a dry-run and an apply, ~2.3 s): the worker with every source; the hash
    // surely taken before each kind of write that follows the checks ("now": never kept, hashed again); and the
    // checks' worker with a file nothing writes after its checks (kept) and with a WAL file (vox's usual mode; the
    // only test of a trial checked on that worker, turned to WAL and adopted). "now" with the rollback-journal file
    // adds no path of its own, nor does the checks' worker with the own index besides the WAL file. The (worker,
    // rollback-journal file) pair is the first test's dry-run and apply (the same checks; its apply takes the hash
    // beside Stage 0 too); the six here.
    const pairs = [
      ["worker", "wal"],
      ["worker", "own index"],
      ["now", "wal"],
      ["now", "own index"],
      ["checks worker", "rollback"],
      ["checks worker", "wal"],
    ] as const;
    for (const [when, source] of pairs) {
      const beside = {
        VOX_CUTOVER_HASH_BESIDE_BYTES: "0",
        ...(when === "now" ? { VOX_CUTOVER_TEST_HASH_BESIDE: "now" } : {}),
        ...(when === "checks worker" ? large : {}),
      };
      const { db, env, kept } = await setup();
      if (source === "wal") expect(sqlite(db, "PRAGMA journal_mode=WAL")).toBe("wal");
      if (source === "own index") sqlite(db, "CREATE INDEX my_own_idx ON conversations(title)");
      const dry = await cli(["cutover", "--db", db, "--json"], { env: { ...env, ...beside } });
      expect(dry.exitCode, dry.stderr).toBe(0);
      if (source === "own index") expect(dry.json.trial.objects.carried).toEqual([{ type: "index", name: "my_own_idx", table: "conversations" }]);
      // Nothing writes a rollback-journal file after its checks: the hash taken beside them is kept.
      const taken = /kept in .* \(.*; the new file's sha256 taken beside its checks\) for the apply/;
      if (source === "rollback") expect(dry.stderr, when).toMatch(taken);
      else if (when === "now") expect(dry.stderr, source).not.toMatch(taken);
      const record = JSON.parse(readFileSync(join(kept()[0]!, "trial.json"), "utf8"));
      const python = execFileSync("python3", [
        "-c",
        "import hashlib,sys\nprint(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())",
        join(kept()[0]!, "trial.db"),
      ]);
      expect(record.builtSha256, `${when} ${source}`).toBe(python.toString().trim());
      const apply = await cli(["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest, "--json"], { env });
      expect(apply.exitCode, apply.stderr).toBe(0);
      expect(step(apply.json, "build-import").summary, `${when} ${source}`).toMatch(/adopted, its sha256 unchanged since its checks/);
      expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
      expect(sqlite(db, "PRAGMA journal_mode")).toBe(source === "wal" ? "wal" : "delete");
    }
  });

  it("a backup changed after the dry-run (same size and time): adopted, then refused by verify-backup (3); the primary untouched", async () => {
    const { db, env, kept } = await setup();
    const before = sha256(db);
    const dry = await cli(["cutover", "--db", db, "--json"], { env });
    expect(dry.exitCode, dry.stderr).toBe(0);
    const backup = join(kept()[0]!, "trial-backup.jsonl");
    const size = statSync(backup).size;
    execFileSync("python3", [
      "-c",
      "import os,sys\np=sys.argv[1];st=os.stat(p);f=open(p,'r+b');f.seek(st.st_size//2);b=f.read(1);f.seek(-1,1);f.write(b'x' if b!=b'x' else b'y');f.close();os.utime(p,ns=(st.st_atime_ns,st.st_mtime_ns))",
      backup,
    ]);
    expect(statSync(backup).size).toBe(size);
    const apply = await cli(["cutover", "--db", db, "--apply"], { env });
    expect(apply.exitCode, apply.stderr).toBe(3);
    expect(apply.stderr).toMatch(
      /^refused: The backup .*backup\.jsonl does not verify at line \d+ .*the content hash recomputed from the rows .* differs from the recorded one/m,
    );
    expect(sha256(db)).toBe(before);
  });

  it("with VOX_CUTOVER_KEEP_TRIAL=0 a dry-run keeps no trial", async () => {
    // That a dry-run keeps one trial per database (a second replaces the first) is the next test's beginning.
    const off = await setup();
    const offDry = await cli(["cutover", "--db", off.db], { env: { ...off.env, VOX_CUTOVER_KEEP_TRIAL: "0" } });
    expect(offDry.exitCode).toBe(0);
    expect(offDry.stderr).toContain("The trial is not kept for the apply (VOX_CUTOVER_KEEP_TRIAL=0)");
    expect(off.kept()).toEqual([]);
    expect(existsSync(off.db)).toBe(true);
  });

  it("a dry-run keeps one trial per database (a second replaces the first); a second dry-run retires the kept trial as it begins (out of an apply's reach, its record first, its files removed from the next turn on, beside the export); killed there, none is kept and the sweep removes what is left", async () => {
    const { db, env, kept } = await setup();
    // One trial per database: a second dry-run's replaces the first's (its record another).
    expect((await cli(["cutover", "--db", db], { env })).exitCode).toBe(0);
    const replaced = readFileSync(join(kept()[0]!, "trial.json"), "utf8");
    expect((await cli(["cutover", "--db", db], { env })).exitCode).toBe(0);
    expect(kept()).toHaveLength(1);
    const [first] = kept();
    const record = readFileSync(join(first!, "trial.json"), "utf8"); // a valid record, for the leftover below
    expect(record).not.toBe(replaced);
    expect(JSON.parse(replaced)).toMatchObject({ format: "vox-cutover-trial", db: expect.stringContaining("vox.db") });
    // The retirement, on that kept trial:
    // As the dry-run calls it, in this process with the dry-run's TMPDIR: renamed, its record gone at once, its files a turn later.
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = env.TMPDIR;
    let retired: string | null;
    try {
      retired = retireKeptTrial(db);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    expect(retired).toMatch(new RegExp(`^${first!}\\.retired-${process.pid}-\\d+$`));
    expect(existsSync(first!)).toBe(false);
    expect(existsSync(join(retired!, "trial.json"))).toBe(false);
    expect(existsSync(join(retired!, "trial.db"))).toBe(true);
    for (let i = 0; i < 100 && existsSync(retired!); i++) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(retired!)).toBe(false);
    // The command: a second dry-run paused in its export has retired the first's; killed there, it keeps none.
    expect((await cli(["cutover", "--db", db], { env })).exitCode).toBe(0);
    const [second] = kept();
    const { child } = await pausedAt(["cutover", "--db", db], "trial-progress", undefined, false, env);
    try {
      expect(existsSync(second!)).toBe(false);
      for (const k of kept()) expect(existsSync(join(k, "trial.json")), k).toBe(false);
    } finally {
      child.kill("SIGKILL");
      await child;
    }
    expect(kept().filter((k) => existsSync(join(k, "trial.json")))).toEqual([]);
    // What a kill leaves (made by hand here): a retired trial of a process gone, even with its record (killed between the rename and
    // the record's removal); the next cutover command's sweep removes it, and that dry-run keeps its own.
    const ended = execa("true");
    await ended;
    const gone = ended.pid!;
    const left = `${first!}.retired-${gone}-1`;
    mkdirSync(left);
    writeFileSync(join(left, "trial.db"), "x");
    writeFileSync(join(left, "trial.json"), record, { mode: 0o600 });
    const again = await cli(["cutover", "--db", db], { env });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(kept()).toEqual([first]);
    expect(existsSync(join(first!, "trial.json"))).toBe(true);
    // A retired trial named with this very pid that this process did not retire (an earlier process of the same pid: a container's
    // pid 1) is removed by its sweep too; the one this process retired is left to the removal it started.
    const earlier = `${first!}.retired-${process.pid}-1`;
    mkdirSync(earlier);
    writeFileSync(join(earlier, "trial.db"), "x");
    process.env.TMPDIR = env.TMPDIR;
    try {
      sweepKeptTrials();
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    for (let i = 0; i < 100 && existsSync(earlier); i++) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(earlier)).toBe(false);
    expect(kept()).toEqual([first]);
  });

  it.each(["after:export", "after:build-import"])(
    "killed (SIGKILL) %s of an adopting apply: the resume finishes it, the same rows as a cold apply",
    async (point) => {
      const { db, env, kept } = await setup();
      expect((await cli(["cutover", "--db", db], { env })).exitCode).toBe(0);
      const { child } = await pausedAt(["cutover", "--db", db, "--apply"], point, undefined, false, env);
      child.kill("SIGKILL");
      expect((await child).signal).toBe("SIGKILL");
      const resumed = await cli(["cutover", "--db", db, "--resume", "--apply", "--json"], { env });
      expect(resumed.exitCode, resumed.stderr).toBe(0);
      expect(step(resumed.json, "export").status).toBe("reused");
      expect(step(resumed.json, "build-import").status).toBe(point === "after:export" ? "done" : "reused");
      expect(content(db)).toEqual(await coldContent());
      expect(sqlite(db, "SELECT DISTINCT run_id FROM legacy_quarantine")).toBe(resumed.json.runId);
      // after:export, its built file was never adopted: the next cutover command (here the dry-run of a rollback) sweeps it, the primary being another file since the swap.
      const sweep = await cli(["cutover", "--db", db, "--rollback"], { env });
      expect(sweep.exitCode, sweep.stderr).toBe(0);
      expect(kept()).toEqual([]);
    },
  );

  it("a folder of kept trials that is not this user's private folder (open to others, or a symbolic link): nothing is kept there or adopted from it; a FIFO where a trial's record should be is not opened: the dry-run goes on", async () => {
    const { dir, db, env } = await setup();
    const home = join(env.TMPDIR!, `vox-cutover-trials-${process.getuid!()}`);
    mkdirSync(home, { mode: 0o700 });
    chmodSync(home, 0o777);
    const dry = await cli(["cutover", "--db", db], { env });
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(readdirSync(home)).toEqual([]);
    expect(dry.stderr).not.toMatch(/are kept in/);
    // Made private, it keeps; swapped for a link to another folder, nothing is adopted from it.
    chmodSync(home, 0o700);
    // A FIFO where a trial's record should be (the FIFO test's, on this dry-run): not opened, the command goes on, swept (no record).
    const fake = join(home, "0123456789abcdef0123");
    mkdirSync(fake, { mode: 0o700 });
    execFileSync("mkfifo", [join(fake, "trial.json")]);
    const keeps = await cli(["cutover", "--db", db], { env });
    expect(keeps.exitCode, keeps.stderr).toBe(0);
    expect(existsSync(fake)).toBe(false);
    expect(readdirSync(home)).toHaveLength(1);
    renameSync(home, join(dir, "elsewhere"));
    symlinkSync(join(dir, "elsewhere"), home);
    const apply = await cli(["cutover", "--db", db, "--apply", "--json"], { env });
    expect(apply.exitCode, apply.stderr).toBe(0);
    expect(step(apply.json, "export").summary).not.toMatch(/adopted/);
    expect(step(apply.json, "build-import").summary).not.toMatch(/adopted/);
  });

  it("a kept file that is not this user's alone (a second name; as root, another owner): never adopted", async () => {
    const { dir, db, env, kept } = await setup();
    expect((await cli(["cutover", "--db", db], { env })).exitCode).toBe(0);
    linkSync(join(kept()[0]!, "trial-backup.jsonl"), join(dir, "second-name"));
    const apply = await cli(["cutover", "--db", db, "--apply", "--json"], { env });
    expect(apply.exitCode, apply.stderr).toBe(0);
    expect(apply.stderr).toMatch(/kept trial was not used \(.*trial-backup\.jsonl is not a file of this user's\)/);
    expect(step(apply.json, "export").summary).not.toMatch(/adopted/);
    if (process.getuid!() !== 0) return;
    const other = await setup();
    expect((await cli(["cutover", "--db", other.db], { env: other.env })).exitCode).toBe(0);
    chownSync(join(other.kept()[0]!, "trial.json"), 65534, 65534); // as if another user had made it
    const a2 = await cli(["cutover", "--db", other.db, "--apply", "--json"], { env: other.env });
    expect(a2.exitCode, a2.stderr).toBe(0);
    expect(other.kept()).toEqual([]); // swept first (a record that is not this user's is no record)
    expect(step(a2.json, "build-import").summary).not.toMatch(/adopted/);
  });

  it("an apply takes the trial before its plan: a dry-run meanwhile keeps its own and its sweep leaves the taken one; the apply adopts what it took", async () => {
    const { db, env, kept, child, release } = await applyPausedAfterDryRun("after:ssot-drift");
    expect(kept().map((k) => basename(k))).toEqual([expect.stringMatching(/^[0-9a-f]{20}\.taken-\d+$/)]);
    const dry2 = await cli(["cutover", "--db", db], { env });
    expect(dry2.exitCode, dry2.stderr).toBe(0);
    expect(kept()).toHaveLength(2); // the taken trial, and the new dry-run's under the database's key
    release();
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(step(json, "export").summary).toMatch(/adopted/);
    expect(step(json, "build-import").summary).toMatch(/adopted/);
    expect(sqlite(db, "SELECT DISTINCT run_id FROM cutover_ledger")).toBe(json.runId);
    // The second dry-run's trial is of the file now archived: the next cutover command sweeps it.
    expect((await cli(["cutover", "--db", db], { env })).exitCode).toBe(0);
    expect(kept()).toEqual([]);
  });

  it("two applies: the one that took the trial, finding the file cut over under it by the other, is refused under the lock (3), having done nothing", async () => {
    const { db, env, kept, child, release } = await applyPausedAfterDryRun("after:disk");
    const b = await cli(["cutover", "--db", db, "--apply", "--json"], { env });
    expect(b.exitCode, b.stderr).toBe(0);
    expect(step(b.json, "export").summary).not.toMatch(/adopted/); // the other apply holds the trial
    release();
    const a = await child;
    expect(a.exitCode, a.stderr).toBe(3);
    expect(a.stderr).toMatch(
      /is another file than the one this run was planned for \(replaced since: its device, inode or birth time is not the run's starting file's — another cutover's swap/,
    );
    expect(sqlite(db, "SELECT DISTINCT run_id FROM cutover_ledger")).toBe(b.json.runId);
    expect(sqlite(db, "SELECT count(*) FROM cutover_ledger")).toBe(sqlite(db, "SELECT count(*) FROM cutover_ledger WHERE run_id = '" + b.json.runId + "'"));
    const back = await cli(["cutover", "--db", db, "--rollback", "--apply"], { env });
    expect(back.exitCode, back.stderr).toBe(0); // the other run's rollback is whole
    expect((await cli(["cutover", "--db", db], { env })).exitCode).toBe(0);
    expect(kept().filter((k) => k.includes(".taken-"))).toEqual([]);
  });

  it("an apply refused before its run begins (another --plan) gives the trial back, and one whose --plan is refused (the dry-run named the file by a symlink) never takes it: the apply of the dry-run's plan as reviewed then adopts it", async () => {
    // One dry-run (through a symlink) serves two refused applies, each followed by a look at the kept trial:
    // another --plan (through the name the dry-run used), refused before its run begins; the dry-run's plan
    // through the file's own name, refused (3) with the plan's inputs differing, never having taken it. The
    // trial is still kept under its key after each, and the apply of the plan as reviewed adopts it.
    const { db, env, kept } = await setup();
    const link = join(dirname(db), "link.db");
    symlinkSync(db, link);
    const dry = await cli(["cutover", "--db", link, "--json"], { env });
    expect(dry.exitCode, dry.stderr).toBe(0);
    const wrong = await cli(["cutover", "--db", link, "--apply", "--plan", "0123456789abcdef"], { env });
    expect(wrong.exitCode).not.toBe(0);
    expect(kept().map((k) => basename(k))).toEqual([expect.stringMatching(/^[0-9a-f]{20}$/)]); // given back
    const other = await cli(["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest], { env });
    expect(other.exitCode, other.stderr).toBe(3);
    expect(other.stderr).toMatch(/or the plan's inputs differ \(the path as given/);
    expect(other.stderr).not.toMatch(/kept trial was not used|exports and builds itself/);
    await stillKeptThenAdopted(link, env, kept, dry.json.planDigest);
  });

  it.skipIf(!canBindMount())(
    "the trials' folder a bind mount of the database's filesystem (rename says EXDEV): copied in and adopted, as from another filesystem",
    async () => {
      const { dir, db } = await setup();
      const mounted = join(dir, "tmpb");
      mkdirSync(mounted);
      execFileSync("mount", ["--bind", join(dir, "tmp"), mounted]);
      try {
        const env = { TMPDIR: mounted };
        const dry = await cli(["cutover", "--db", db, "--json"], { env });
        expect(dry.exitCode, dry.stderr).toBe(0);
        const apply = await cli(["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest, "--json"], { env });
        expect(apply.exitCode, apply.stderr).toBe(0);
        expect(apply.stderr).not.toMatch(/EXDEV|could not be moved/);
        expect(step(apply.json, "export").summary).toMatch(/adopted/);
        expect(step(apply.json, "build-import").summary).toMatch(/adopted/);
        expect(sqlite(db, "SELECT DISTINCT run_id FROM cutover_ledger")).toBe(apply.json.runId);
        expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
      } finally {
        execFileSync("umount", [mounted]);
      }
    },
  );

  it.skipIf(!existsSync("/dev/shm"))(
    "another filesystem than the trial's: copied in, the trial taken first, so a rolled-back run's trial is never adopted again",
    async () => {
      const { db: src, env, kept } = await setup();
      const shm = mkdtempSync("/dev/shm/vox-kept-");
      try {
        const db = join(shm, "vox.db");
        copyFileSync(src, db);
        expect((await cli(["cutover", "--db", db], { env })).exitCode).toBe(0);
        expect(kept()).toHaveLength(1);
        const { child } = await pausedAt(["cutover", "--db", db, "--apply"], "after:export", undefined, false, env);
        child.kill("SIGKILL");
        expect((await child).signal).toBe("SIGKILL");
        expect(kept().map((k) => basename(k))).toEqual([expect.stringMatching(/\.taken-\d+$/)]); // taken by the killed apply
        expect(readdirSync(kept()[0]!).sort()).toEqual(["trial.db", "trial.json"]); // its backup copied in and removed
        const runs = join(shm, "vox-cutover-runs");
        const [stamp] = readdirSync(runs);
        expect(readdirSync(join(runs, stamp!)).filter((f) => /\.partial-\d+$/.test(f))).toEqual([]);
        expect(readdirSync(shm).filter((f) => f.includes(".vox-cutover-building-"))).toEqual([]);
        expect((await cli(["cutover", "--db", db, "--rollback", "--apply"], { env })).exitCode).toBe(0);
        expect(kept()).toEqual([]); // the taken trial of a process gone, swept by the rollback's command (never given back)
        const again = await cli(["cutover", "--db", db, "--apply", "--json"], { env });
        expect(again.exitCode, again.stderr).toBe(0);
        expect(step(again.json, "export").summary).not.toMatch(/adopted/);
        expect(step(again.json, "build-import").summary).not.toMatch(/adopted/);
      } finally {
        rmSync(shm, { recursive: true, force: true });
      }
    },
  );

  it.skipIf(process.getuid?.() !== 0)(
    "an apply killed after its take in a container (pid 1 every time): the next one of that pid adopts the next dry-run's trial, nothing left",
    async () => {
      const { db, env, kept } = await setup();
      const pid1 = ["-p", "-f", "--kill-child", "--mount-proc", "node", BIN];
      const dry = await execa("unshare", [...pid1, "cutover", "--db", db, "--json"], { env: cleanEnv(env), extendEnv: false });
      const marker = join(env.TMPDIR!, "paused");
      const child = execa("unshare", [...pid1, "cutover", "--db", db, "--apply", "--plan", JSON.parse(dry.stdout).planDigest], {
        env: cleanEnv({ ...env, VOX_CUTOVER_PAUSE_AT: "after:ssot-drift", VOX_CUTOVER_PAUSE_FILE: marker }),
        extendEnv: false,
        reject: false,
      });
      for (const t0 = Date.now(); !existsSync(marker) && Date.now() - t0 < 30_000;) await new Promise((res) => setTimeout(res, 20));
      expect(kept().map((k) => basename(k))).toEqual([expect.stringMatching(/\.taken-1$/)]);
      child.kill("SIGKILL");
      await child;
      const again = await execa("unshare", [...pid1, "cutover", "--db", db, "--json"], { env: cleanEnv(env), extendEnv: false });
      const apply = await execa("unshare", [...pid1, "cutover", "--db", db, "--apply", "--plan", JSON.parse(again.stdout).planDigest, "--json"], {
        env: cleanEnv(env),
        extendEnv: false,
        reject: false,
      });
      expect(apply.exitCode, apply.stderr).toBe(0);
      expect(step(JSON.parse(apply.stdout), "build-import").summary).toMatch(/adopted/);
      expect(kept()).toEqual([]);
    },
  );

  it("a dry-run killed during its trial import leaves a scratch folder named with its pid: swept once its process is gone and it sat unwritten 10 minutes; a trial an apply took and left under a pid alive again (another process now): removed once a day past its own, so the next dry-run keeps anew", async () => {
    // Three dry-runs after the killed one serve both sweeps (each of a folder of its own, looked at by every
    // cutover command's sweep): the killed dry-run's scratch folder and a live pid's in TMPDIR, and a taken
    // trial in the folder of kept trials (the first dry-run's, renamed as if taken by this test's pid: alive).
    // First: both left (written a moment ago; alive and recent); then the killed one's scratch gone (10 minutes
    // unwritten), the live pid's and the taken trial still there; last, a day past, both gone.
    const { db, env, kept } = await setup();
    const { child } = await pausedAt(["cutover", "--db", db], "trial-progress", undefined, false, env);
    child.kill("SIGKILL");
    await child;
    const scratch = () => readdirSync(env.TMPDIR!).filter((n) => n.startsWith("vox-cutover-trial-"));
    expect(scratch()).toEqual([expect.stringMatching(new RegExp(`^vox-cutover-trial-${child.pid}-`))]);
    const killed = join(env.TMPDIR!, scratch()[0]!);
    const live = join(env.TMPDIR!, `vox-cutover-trial-${process.pid}-live`); // a running dry-run's (this test's pid: alive)
    mkdirSync(live);
    expect((await cli(["cutover", "--db", db], { env })).exitCode).toBe(0);
    expect(existsSync(killed)).toBe(true); // written a moment ago: perhaps another pid namespace's dry-run
    const taken = `${kept()[0]!}.taken-${process.pid}`; // this dry-run's trial, as taken by this test's pid: alive
    renameSync(kept()[0]!, taken);
    const old = new Date(Date.now() - 11 * 60_000);
    for (const p of [killed, live, ...readdirSync(killed).map((f) => join(killed, f))]) utimesSync(p, old, old);
    expect((await cli(["cutover", "--db", db], { env })).exitCode).toBe(0);
    expect(existsSync(killed)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(taken)).toBe(true); // alive and recent: an apply adopting it now
    // A process of that pid alive a day later is another one (a container's pid 1): then the scratch folder goes too, and the taken trial.
    const dayOld = new Date(Date.now() - 25 * 3600_000);
    utimesSync(live, dayOld, dayOld);
    const record = join(taken, "trial.json");
    const r = JSON.parse(readFileSync(record, "utf8"));
    writeFileSync(record, JSON.stringify({ ...r, createdAt: new Date(Date.now() - 3 * 86_400_000).toISOString() }));
    expect((await cli(["cutover", "--db", db], { env })).exitCode).toBe(0);
    expect(existsSync(live)).toBe(false);
    expect(existsSync(taken)).toBe(false);
    expect(kept().filter((k) => k.includes(".taken-"))).toEqual([]);
  });
});

/** Whether this process may bind-mount a folder (root on Linux, outside a restricted container). */
function canBindMount(): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  const d = tmp("vox-bind-");
  const a = join(d, "a");
  const b = join(d, "b");
  mkdirSync(a);
  mkdirSync(b);
  try {
    execFileSync("mount", ["--bind", a, b], { stdio: "ignore" });
    execFileSync("umount", [b], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
