/**
 * The guarded write path, through the public commands (issue 12). Values are judged with the
 * sqlite3 CLI and sha256 of the files, never with the product's own reader.
 */
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  existsSync,
  openSync,
  readSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { cleanEnv, cli, cliEnv, launch, makeBaselineDb, makeVoxDb, sampleWithFewerTables, sha256, snapshotDir, sqlite, tmp, pausedAt } from "../helpers.js";
import { installedPackage, otherUser, reachableTmp } from "../fixtures/install.js";
import { lockFileOf } from "../../src/safety/lock.js";

/**
 * The sample cut to the tables a run's guards are tested with (sampleWithFewerTables: the same checks for any table),
 * of one row count for the whole file: the cut is made once per row count (a `sample` run and Python's cut).
 */
function sampleIn(rows = 10, dir = tmp()): Promise<{ dir: string; db: string; orig: string }> {
  return sampleWithFewerTables(dir, rows);
}

/** Another application holding the database open (Python's sqlite3, a connection kept open). */
async function holdOpen(db: string) {
  const child = execa(
    "python3",
    [
      "-c",
      "import sqlite3,sys,time\nc=sqlite3.connect(sys.argv[1])\nc.execute('select count(*) from sqlite_master').fetchall()\nprint('ready', flush=True)\ntime.sleep(120)",
      db,
    ],
    { reject: false, stdin: "ignore" },
  );
  await new Promise<void>((res, rej) => {
    child.stdout!.on("data", (d: Buffer) => (String(d).includes("ready") ? res() : undefined));
    child.on("exit", () => rej(new Error("python exited")));
  });
  return { child };
}

function runDirs(dir: string): string[] {
  const root = join(dir, "vox-cutover-runs");
  return existsSync(root) ? readdirSync(root).map((d) => join(root, d)) : [];
}

const MODE = (p: string) => statSync(p).mode & 0o777;

/**
 * One sample made 0600 (the database and its sidecar) behind a symbolic link and cut over through the
 * link (`cutover --apply --json`), made on first use: the symlink test and the permissions test below
 * each assert their part of that one run (a symlinked real file's modes are the file's), so either also
 * runs alone.
 */
let linkedRun: Promise<{ base: string; real: string; link: string; orig: string; r: Awaited<ReturnType<typeof cli>> }> | undefined;
function cutOverThroughLink() {
  linkedRun ??= (async () => {
    const base = tmp();
    mkdirSync(join(base, "real"));
    const { db: real, orig } = await sampleIn(10, join(base, "real"));
    chmodSync(real, 0o600);
    chmodSync(join(base, "real", "vox_training_telemetry.db"), 0o600);
    const link = join(base, "link.db");
    symlinkSync(real, link);
    return { base, real, link, orig, r: await cli(["cutover", "--db", link, "--apply", "--json"]) };
  })();
  return linkedRun;
}

/**
 * `cutover --db DB --apply --json`, its database's name read (the first 16 bytes) from this process as often as it can
 * while the run goes on: the run's result, how many looks there were, and how many found no SQLite file at the name.
 */
async function applyWatched(db: string) {
  const child = execa(...launch(["cutover", "--db", db, "--apply", "--json"]), {
    env: cliEnv(),
    extendEnv: false,
    reject: false,
    stdin: "ignore",
  });
  let looks = 0;
  let missing = 0;
  let done = false;
  void child.finally(() => (done = true));
  while (!done) {
    looks++;
    try {
      const fd = openSync(db, "r");
      const buf = Buffer.alloc(16);
      readSync(fd, buf, 0, 16, 0);
      closeSync(fd);
      const head = buf.toString("latin1");
      if (head !== "SQLite format 3\0") missing++;
    } catch {
      missing++;
    }
    await new Promise((r) => setImmediate(r));
  }
  const res = await child;
  let json: any;
  try {
    json = JSON.parse(String(res.stdout));
  } catch {
    /* left undefined: the test says */
  }
  return { r: { exitCode: res.exitCode ?? -1, stderr: String(res.stderr), json }, looks, missing };
}

describe("identity: real path and device/inode", () => {
  it("a symlinked database: the real file is archived and replaced; the link keeps pointing at the new file", async () => {
    const { base, real, link, orig, r } = await cutOverThroughLink();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(real);
    expect(sqlite(link, "SELECT group_concat(version) FROM (SELECT version FROM schema_version ORDER BY 1)")).toBe("59,60,66");
    expect(sqlite(real, "SELECT count(*) FROM cutover_ledger WHERE command = 'cutover'")).toBe("1");
    const archive = r.json.archive.path as string;
    expect(lstatSync(archive).isFile()).toBe(true);
    expect(sha256(archive)).toBe(orig);
    expect(archive.startsWith(join(base, "real", "vox-cutover-runs"))).toBe(true);
  });

  it("the lock is keyed on the identity: the link and the real path cannot run concurrently", async () => {
    const base = tmp();
    const { db: real, orig } = await sampleIn(10, base);
    const link = join(base, "other-name.db");
    symlinkSync(real, link);
    const { child: first } = await pausedAt(["cutover", "--db", link, "--apply"], "after:lock");
    try {
      const second = await cli(["cutover", "--db", real, "--apply"]);
      expect(second.exitCode).toBe(3);
      expect(second.stderr).toMatch(new RegExp(`holds the lock on this database: pid ${first.pid}`));
      // The dry-run shows the held lock like the other apply-time gates: a warning, the plan, exit 0.
      const dry = await cli(["cutover", "--db", real, "--json"]);
      expect(dry.exitCode, dry.stderr).toBe(0);
      expect(dry.json.steps.find((s: any) => s.id === "lock").warnings.join()).toMatch(
        new RegExp(`^--apply would be refused now: Another cutover holds the lock on this database: pid ${first.pid}`),
      );
      // The first run may still have the file open (a connection SQLite closes when its statements are collected): the holders step then names the same lock.
      expect(dry.json.message).toMatch(/--apply would be refused now \(lock(, holders)?: see above\)/);
      expect(dry.json.message).not.toMatch(/application still running/);
      expect(sha256(real)).toBe(orig);
    } finally {
      first.kill("SIGKILL");
      await first;
    }
  });

  it("a link whose target is missing (an unmounted volume) is refused (3) by every writing command: nothing is created through it, the link stays", async () => {
    const base = tmp();
    const link = join(base, "vox.db");
    symlinkSync(join(base, "mnt", "data", "vox.db"), link);
    const backup = join(tmp(), "b.jsonl");
    const { db } = await sampleIn();
    expect((await cli(["export-legacy", backup, "--db", db])).exitCode).toBe(0);
    for (const cmd of [
      ["migrate", "--apply"],
      ["import-legacy", backup, "--apply"],
    ]) {
      const r = await cli([...cmd, "--db", link]);
      expect(r.exitCode, `${cmd[0]}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(/is a symbolic link to .*mnt\/data\/vox\.db, which does not exist \(a volume not mounted\?\)/);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readdirSync(base)).toEqual(["vox.db"]);
    }
  });
});

describe("another process holding the database open", () => {
  it("is refused (exit 3) before anything moves, naming the process; no lock, journal or work dir is left", async () => {
    const { dir, db, orig } = await sampleIn();
    const { child: app } = await holdOpen(db);
    try {
      const before = snapshotDir(dir);
      const dry = await cli(["cutover", "--db", db]);
      expect(dry.exitCode, dry.stderr).toBe(0);
      // Stage 0's holders step: the apply-time gate shown with the plan (a warning; the dry-run still exits 0)
      expect(dry.stdout).toMatch(new RegExp(`! holders: --apply would be refused now`));
      expect(dry.stdout).toMatch(new RegExp(`--apply would be refused now: Another process holds the database .* open .*: pid ${app.pid} \\(`));
      const r = await cli(["cutover", "--db", db, "--apply"]);
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toMatch(new RegExp(`pid ${app.pid} \\(\\S*python3`));
      expect(r.stderr).toMatch(/Nothing was moved or changed/);
      expect(snapshotDir(dir)).toEqual(before);
      // the same gate in import-legacy (another writing command on the one guarded path)
      const backup = join(tmp(), "b.jsonl");
      expect((await cli(["export-legacy", backup, "--db", db])).exitCode).toBe(0);
      const target = join(tmp(), "current.db");
      makeBaselineDb(target);
      // and in migrate, on a vox 60 file (its fold is a run of the same engine)
      const behind = join(tmp(), "behind.db");
      makeVoxDb(behind, "60", [59, 60]);
      const { child: app2 } = await holdOpen(target);
      const { child: app3 } = await holdOpen(behind);
      try {
        const before2 = sha256(target);
        // The dry-run runs the apply's Stage 0 checks: it names the holder and says the apply would be refused (helper-101: it said nothing).
        const dryImp = await cli(["import-legacy", backup, "--db", target, "--json"]);
        expect(dryImp.exitCode, dryImp.stderr).toBe(0);
        expect(dryImp.json.refusedBy).toEqual(["holders"]);
        expect(dryImp.stderr).toMatch(new RegExp(`! holders: --apply would be refused now[^]*pid ${app2.pid} \\(`));
        expect(dryImp.stderr).toMatch(
          /dry-run: nothing was changed\. --apply would be refused now \(holders: see above\); once that is fixed, run exactly this plan: vox-cutover import-legacy /,
        );
        const imp = await cli(["import-legacy", backup, "--db", target, "--apply"]);
        expect(imp.exitCode, imp.stderr).toBe(3);
        expect(imp.stderr).toMatch(new RegExp(`pid ${app2.pid}`));
        expect(sha256(target)).toBe(before2);
        const before3 = sha256(behind);
        const dryMig = await cli(["migrate", "--db", behind, "--json"]);
        expect(dryMig.exitCode, dryMig.stderr).toBe(0);
        expect(dryMig.json.refusedBy).toEqual(["holders"]);
        expect(dryMig.json.runSteps.map((x: any) => x.id)).toContain("swap");
        expect(dryMig.stderr).toMatch(new RegExp(`! holders: --apply would be refused now[^]*pid ${app3.pid} \\(`));
        const mig = await cli(["migrate", "--db", behind, "--apply", "--plan", dryMig.json.planDigest]);
        expect(mig.exitCode, mig.stderr).toBe(3);
        expect(mig.stderr).toMatch(new RegExp(`pid ${app3.pid}`));
        expect(sha256(behind)).toBe(before3);
      } finally {
        for (const a of [app2, app3]) a.kill("SIGKILL");
        await Promise.all([app2, app3]);
      }
    } finally {
      app.kill("SIGKILL");
      await app;
    }
    expect(sha256(db)).toBe(orig);
  });

  it("is checked again right before the swap: an application that opened it meanwhile stops the swap (exit 3), the primary stays", async () => {
    const { db, orig } = await sampleIn();
    // The run waits before the swap until the application (python3) has the file open, then is released.
    const { child: run, release } = await pausedAt(["cutover", "--db", db, "--apply"], "after:primary-unchanged", 60_000);
    const { child: app } = await holdOpen(db);
    release();
    try {
      const res = await run;
      expect(res.exitCode, res.stderr).toBe(3);
      expect(res.stderr).toMatch(/right before the swap/);
      expect(res.stderr).toMatch(new RegExp(`pid ${app.pid}`));
      expect(sha256(db)).toBe(orig);
      expect(existsSync(lockFileOf(db))).toBe(false);
    } finally {
      app.kill("SIGKILL");
      await app;
    }
    const rb = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(rb.exitCode, rb.stderr).toBe(0);
    expect(sha256(db)).toBe(orig);
  });
});

describe("--plan and operator-given paths", () => {
  it("a dry-run given --plan says whether that is still the plan (it was ignored without --apply)", async () => {
    const { dir, db } = await sampleIn();
    const first = await cli(["cutover", "--db", db, "--json"]);
    const digest = first.json.planDigest as string;
    const same = await cli(["cutover", "--db", db, "--plan", digest]);
    expect(same.exitCode, same.stderr).toBe(0);
    expect(same.stdout).toContain(`--plan ${digest}: this is still the reviewed plan.`);
    sqlite(db, "INSERT INTO user_kv VALUES ('late', 'write')"); // the database changed since the review
    const other = await cli(["cutover", "--db", db, "--plan", digest, "--json"]);
    expect(other.exitCode, other.stderr).toBe(0);
    expect(other.json.reviewedPlan).toEqual({ digest, same: false });
    expect(other.stderr).toMatch(new RegExp(`--plan ${digest} is not this plan \\([0-9a-f]{16}\\): .* --apply --plan ${digest} would be refused \\(3\\)`));
    expect(existsSync(join(dir, "vox-cutover-runs"))).toBe(false);
  });

  it("--plan empty or malformed is a usage error (exit 2) for cutover, migrate and import-legacy; nothing is made", async () => {
    const { dir, db } = await sampleIn();
    const before = snapshotDir(dir);
    for (const plan of ["", "xyz", "FFFFFFFFFFFFFFFF", "0123456789abcdef0"]) {
      for (const args of [
        ["cutover", "--db", db, "--apply"],
        ["migrate", "--db", db, "--apply"],
        ["import-legacy", join(dir, "x.jsonl"), "--db", join(dir, "n.db"), "--apply"],
      ]) {
        const r = await cli([...args, "--plan", plan]);
        expect(r.exitCode, `${args[0]} --plan ${JSON.stringify(plan)}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(/is not a plan digest/);
      }
    }
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("an OUT or --backup that is a link to nothing is refused (3), never 'Unexpected failure': the file would be made through the link", async () => {
    const { dir, db } = await sampleIn();
    const link = join(dir, "out.jsonl");
    symlinkSync(join(dir, "nowhere", "x.jsonl"), link);
    for (const args of [
      ["export-legacy", link, "--db", db],
      ["cutover", "--db", db, "--apply", "--backup", link],
    ]) {
      const r = await cli(args);
      expect(r.exitCode, `${args[0]}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(/is a symbolic link to .*nowhere\/x\.jsonl, which does not exist/);
      expect(r.stderr).not.toMatch(/Unexpected failure/);
      expect(readlinkSync(link)).toBe(join(dir, "nowhere", "x.jsonl"));
      expect(existsSync(join(dir, "nowhere"))).toBe(false);
    }
  });

  it("--work-dir that is a file, the database, or inside another run's work dir is refused (exit 3); nothing is made", async () => {
    const { dir, db } = await sampleIn();
    const f = join(dir, "a-file");
    writeFileSync(f, "mine\n");
    const before = snapshotDir(dir);
    const asFile = await cli(["cutover", "--db", db, "--apply", "--work-dir", f]);
    expect(asFile.exitCode).toBe(3);
    expect(asFile.stderr).toMatch(/is a file, not a folder/);
    expect(asFile.stderr).not.toMatch(/Unexpected failure/);
    const asDb = await cli(["cutover", "--db", db, "--apply", "--work-dir", db]);
    expect(asDb.exitCode).toBe(3);
    expect(asDb.stderr).toMatch(/is the database itself/);
    // The dry-runs check the paths their apply line carries (helper-104: exit 0 with "run exactly this plan … --backup <the database>").
    // A file where the runs folder would be: named as such (it was "not writable (EACCES)", for root too); diagnose still reads.
    const other = await sampleIn();
    writeFileSync(join(other.dir, "vox-cutover-runs"), "mine\n");
    const runsFile = await cli(["cutover", "--db", other.db, "--apply"]);
    expect(runsFile.exitCode, runsFile.stderr).toBe(3);
    expect(runsFile.stderr).toMatch(/vox-cutover-runs is not a folder, and .*vox-cutover-runs\/\S+ would be made inside it/);
    expect((await cli(["diagnose", "--db", other.db])).exitCode).toBe(0);
    const behind = join(tmp(), "behind.db"); // a vox 60 file: migrate's fold is a run of the engine
    makeVoxDb(behind, "60", [59, 60]);
    for (const args of [
      ["cutover", "--db", db, "--work-dir", f],
      ["cutover", "--db", db, "--backup", db],
      ["migrate", "--db", behind, "--backup", behind],
    ]) {
      const r = await cli(args);
      expect(r.exitCode, `${args.join(" ")}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(/is a file, not a folder|is the database itself/);
    }
    for (const cmd of [["drill"], ["sidecar", "--apply"]]) {
      const r = await cli([...cmd, "--db", db, "--work-dir", f]);
      expect(r.exitCode, `${cmd[0]}: ${r.stderr}`).toBe(3);
    }
    // A folder that already holds the operator's things (helper-102: --work-dir / took the run's files and made every folder "inside another run").
    const theirs = join(dir, "backups");
    mkdirSync(theirs);
    writeFileSync(join(theirs, "last-week.jsonl"), "theirs\n");
    const snapTheirs = snapshotDir(dir);
    for (const cmd of [["cutover", "--apply"], ["drill"]]) {
      const r = await cli([...cmd, "--db", db, "--work-dir", theirs]);
      expect(r.exitCode, `${cmd[0]}: ${r.stderr}`).toBe(3);
      expect(r.stderr, cmd[0]).toMatch(/already holds 1 entry \(last-week\.jsonl\): a run's work dir is a folder of its own/);
    }
    expect(snapshotDir(dir)).toEqual(snapTheirs);
    rmSync(theirs, { recursive: true });
    expect(snapshotDir(dir)).toEqual(before);
    const first = await cli(["drill", "--db", db, "--json"]);
    expect(first.exitCode, first.stderr).toBe(0);
    const inside = await cli(["cutover", "--db", db, "--apply", "--work-dir", join(first.json.workDir, "sub")]);
    expect(inside.exitCode).toBe(3);
    expect(inside.stderr).toMatch(/inside the work dir .* of another run/);
  });

  it("a work dir belongs to one database and one run: a second database with the same --work-dir is refused", async () => {
    const a = await sampleIn();
    const b = await sampleIn();
    const w = join(tmp(), "shared");
    const ra = await cli(["cutover", "--db", a.db, "--apply", "--work-dir", w]);
    expect(ra.exitCode, ra.stderr).toBe(0);
    const journal = sha256(join(w, "journal.jsonl"));
    const backup = sha256(join(w, "backup.jsonl"));
    const rb = await cli(["cutover", "--db", b.db, "--apply", "--work-dir", w]);
    expect(rb.exitCode).toBe(3);
    expect(rb.stderr).toMatch(/belongs to another database/);
    expect(sha256(b.db)).toBe(b.orig);
    expect(sha256(join(w, "journal.jsonl"))).toBe(journal);
    expect(sha256(join(w, "backup.jsonl"))).toBe(backup);
    expect(sqlite(b.db, "SELECT count(*) FROM sqlite_master WHERE name = 'cutover_ledger'")).toBe("0");
    const again = await cli(["drill", "--db", a.db, "--work-dir", w]);
    expect(again.exitCode).toBe(3);
    expect(again.stderr).toMatch(/belongs to cutover run/);
  });

  it("two runs starting in the same UTC second get different default work dirs", async () => {
    const dir = tmp();
    const a = await sampleIn(10, dir);
    const bDb = join(dir, "b.db");
    writeFileSync(bDb, readFileSync(a.db));
    await execa("rm", [join(dir, "vox_training_telemetry.db")]); // one sidecar cannot serve two databases
    const env = { VOX_CUTOVER_CLOCK: "2026-01-02T03:04:05.000Z" };
    const [ra, rb] = await Promise.all([
      cli(["cutover", "--db", a.db, "--apply", "--json"], { env }),
      cli(["cutover", "--db", bDb, "--apply", "--json"], { env }),
    ]);
    expect(ra.exitCode, ra.stderr).toBe(0);
    expect(rb.exitCode, rb.stderr).toBe(0);
    expect(ra.json.workDir).not.toBe(rb.json.workDir);
    expect(
      runDirs(dir)
        .map((d) => d.split("/").at(-1))
        .sort(),
    ).toEqual(["20260102T030405Z", "20260102T030405Z-2"]);
    const dbs = runDirs(dir)
      .map((d) => JSON.parse(readFileSync(join(d, ".vox-cutover-run.json"), "utf8")).db)
      .sort();
    expect(dbs).toEqual([a.db, bDb].sort());
  });
});

describe("permissions", () => {
  it("a 0600 database stays 0600; backup, archive, journal and the work dir are never more readable", async () => {
    const { real: db, r } = await cutOverThroughLink(); // the 0600 database (and sidecar) cut over through a symbolic link to it
    expect(r.exitCode, r.stderr).toBe(0);
    expect(MODE(db)).toBe(0o600);
    expect(MODE(r.json.backup.path)).toBe(0o600);
    expect(MODE(r.json.archive.path)).toBe(0o600);
    expect(MODE(join(r.json.workDir, "journal.jsonl"))).toBe(0o600);
    expect(MODE(join(r.json.workDir, "sidecar-backup.jsonl"))).toBe(0o600);
    expect(MODE(r.json.workDir)).toBe(0o700);
  });

  it("the original's own bits are never changed (the archive is its hard link): after the cutover, and while it is still the live file when the swap stops after its link", async () => {
    // Python's stat (an independent reader) of the bits a work dir file may not have (x, here): keepMode would take them off.
    const mode = (p: string) => Number(execFileSync("python3", ["-c", "import os,sys;print(os.stat(sys.argv[1]).st_mode & 0o777)", p]).toString());
    const done = await sampleIn();
    chmodSync(done.db, 0o775);
    chmodSync(join(done.dir, "vox_training_telemetry.db"), 0o775);
    const r = await cli(["cutover", "--db", done.db, "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(mode(r.json.archive.path)).toBe(0o775);
    expect(mode(join(dirname(r.json.archive.path), "vox_training_telemetry.db"))).toBe(0o775); // the sidecar, moved into the archive
    expect(mode(r.json.backup.path) & 0o111).toBe(0); // the run's own files: never more than the primary's read and write bits
    // Killed right after its swap and resumed: the resuming process knows the new file at the name, the archive keeps its bits.
    const resumed = await sampleIn();
    chmodSync(resumed.db, 0o775);
    const killed = await pausedAt(["cutover", "--db", resumed.db, "--apply"], "after:swap");
    killed.child.kill("SIGKILL");
    await killed.child;
    const res = await cli(["cutover", "--db", resumed.db, "--resume", "--apply", "--json"]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(mode(res.json.archive.path)).toBe(0o775);
    // Stopped between the archive's link and the rename (a holder of the new file): the live file keeps its bits.
    const { db } = await sampleIn();
    chmodSync(db, 0o775);
    const { child, release } = await pausedAt(["cutover", "--db", db, "--apply"], "swap-archived");
    const { child: app } = await holdOpen(join(db, "..", ".vox.db.vox-cutover-new"));
    try {
      release();
      const stopped = await child;
      expect(stopped.exitCode, stopped.stderr).toBe(3);
      expect(stopped.stderr).toMatch(/Journal phase: swap primary-archived.* is still the original \(also linked into the archive/);
      expect(mode(db)).toBe(0o775);
    } finally {
      app.kill("SIGKILL");
    }
  });
});

describe("rollback after a finished cutover", () => {
  // One sample serves three tests that each started from a fresh one: the refusals leave its folder as it was
  // (snapshotDir), so the cutover after them starts from the state the other two started from. The refusals prove
  // --backup is checked before anything; the apply (exit 0) proves nothing they did blocks the next run; the watch
  // during that apply proves the swap never leaves the name empty; the rest proves the rollback.
  it("--backup that already holds a file (the sidecar), that is the database, or whose folder is missing: refused before anything, nothing left behind, nothing blocks the next run; that run, watched from another process, always leaves a SQLite file at the name (the old one or the new one); its rollback puts the archived original back and keeps the new file in the work dir; refuses (3) when the new file changed, naming how, unless --force", async () => {
    const { dir, db, orig } = await sampleIn();
    const side = join(dir, "vox_training_telemetry.db");
    const sideOrig = sha256(side);
    const before = snapshotDir(dir);
    const asSidecar = await cli(["cutover", "--db", db, "--apply", "--backup", side]);
    expect(asSidecar.exitCode).toBe(3);
    expect(asSidecar.stderr).toMatch(/sidecar/);
    const other = join(dir, "telemetry.jsonl");
    const existing = await cli(["cutover", "--db", db, "--apply", "--backup", other]);
    expect(existing.exitCode).toBe(3);
    expect(existing.stderr).toMatch(/already holds a file this run did not create/);
    const itself = await cli(["migrate", "--db", db, "--apply", "--backup", db]);
    expect([3, 4]).toContain(itself.exitCode);
    const itself2 = await cli(["cutover", "--db", db, "--apply", "--backup", db]);
    expect(itself2.exitCode).toBe(3);
    expect(itself2.stderr).toMatch(/is the database/);
    const missing = await cli(["cutover", "--db", db, "--apply", "--backup", join(dir, "no", "such", "b.jsonl")]);
    expect(missing.exitCode).toBe(2);
    expect(snapshotDir(dir)).toEqual(before);
    // Nothing blocks the next run: it finishes, and is the cutover rolled back below. The swap never leaves the
    // primary's name empty: watched during the whole run, the name always held a SQLite file, and the archive is the original.
    const { r, looks, missing: empty } = await applyWatched(db);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(looks).toBeGreaterThan(50);
    expect(empty).toBe(0);
    expect(sha256(r.json.archive.path)).toBe(orig);
    const printed = r.json.rollbackCommand as string;
    expect(printed).toMatch(/--rollback --apply/);
    const newSha = sha256(db);
    const rb = await cli(["cutover", "--db", db, "--rollback", "--apply", "--json"]);
    expect(rb.exitCode, rb.stderr).toBe(0);
    expect(sha256(db)).toBe(orig);
    expect(sha256(side)).toBe(sideOrig);
    expect(sha256(join(r.json.workDir, "rolled-back-new.db"))).toBe(newSha);
    // a second rollback has nothing to do
    expect((await cli(["cutover", "--db", db, "--rollback", "--apply"])).exitCode).toBe(2);

    const again = await cli(["cutover", "--db", db, "--apply", "--json"]);
    expect(again.exitCode, again.stderr).toBe(0);
    sqlite(db, "INSERT INTO users(id, display_name) VALUES ('after-cutover', 'written by vox')");
    const changed = sha256(db);
    const refusedRb = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(refusedRb.exitCode).toBe(3);
    expect(refusedRb.stderr).toMatch(/changed since the cutover finished \(.*(size|change counter).*\)/);
    expect(refusedRb.stderr).toMatch(/--force/);
    expect(sha256(db)).toBe(changed);
    const forced = await cli(["cutover", "--db", db, "--rollback", "--apply", "--force"]);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(sha256(db)).toBe(orig);
    expect(sqlite(join(again.json.workDir, "rolled-back-new.db"), "SELECT display_name FROM users WHERE id = 'after-cutover'")).toBe("written by vox");
  });
});

describe("messages", () => {
  it("--rollback and --resume together are a usage error (exit 2)", async () => {
    const { dir, db } = await sampleIn();
    const before = snapshotDir(dir);
    const r = await cli(["cutover", "--db", db, "--rollback", "--resume", "--apply"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--rollback and --resume/);
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("import-legacy and verify-backup give the same exit (3) on a backup whose header is damaged", async () => {
    const dir = tmp();
    const f = join(dir, "hdr.jsonl");
    writeFileSync(f, '{"k":"header","format":"vox-cutover-backup","version":1,"tables":[{"name":"x"}]}\n');
    const db = join(dir, "target.db");
    expect((await cli(["verify-backup", f])).exitCode).toBe(3);
    for (const extra of [[], ["--apply"]]) {
      const r = await cli(["import-legacy", f, "--db", db, ...extra]);
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).not.toMatch(/Unexpected failure/);
    }
    expect(existsSync(db)).toBe(false);
  });
});

describe("hostile files are refusals that say what to do (never 'Unexpected failure', never a stale lock)", () => {
  it("a read-only database folder (another user's): cutover and migrate refuse (3) before any lock or file, sample says the folder is not writable (2)", async (ctx) => {
    const user = otherUser();
    if ("skip" in user) return ctx.skip(user.skip);
    // The other user runs the package as installed in a folder it can reach: the checkout may be private (0700).
    const { bin } = await installedPackage();
    const base = reachableTmp();
    const dir = join(base, "ro");
    mkdirSync(dir);
    const { db, orig } = await sampleIn(10, dir);
    await execa("chown", ["-R", `${user.uid}:${user.gid}`, dir]);
    chmodSync(dir, 0o555);
    const emptyRo = join(base, "ro-empty"); // sample's OUT: a folder of that user's, empty, read-only
    mkdirSync(emptyRo);
    await execa("chown", [`${user.uid}:${user.gid}`, emptyRo]);
    chmodSync(emptyRo, 0o555);
    const before = snapshotDir(dir);
    for (const args of [
      ["cutover", "--db", db, "--apply"],
      ["migrate", "--db", db, "--apply"],
      ["sidecar", "--db", db, "--apply"],
      ["sample", join(emptyRo, "vox.db")],
    ]) {
      const r = await execa("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "node", bin, ...args], {
        env: cleanEnv(),
        extendEnv: false,
        reject: false,
        stdin: "ignore",
        cwd: "/",
      });
      expect(r.stderr).not.toMatch(/Unexpected failure/);
      if (args[0] === "migrate")
        expect(r.exitCode).toBe(4); // legacy: the cutover's job, nothing written
      else if (args[0] === "sample") {
        expect(r.exitCode, r.stderr).toBe(2); // was "Unexpected failure in sample: ConnectionFailed(… 14)", 1
        expect(r.stderr).toMatch(/The folder .* is not writable by this user \(EACCES\)/);
      } else {
        expect(r.exitCode, `${args[0]}: ${r.stderr}`).toBe(3);
        if (args[0] === "cutover") expect(r.stderr).toMatch(/folder .* is not writable/);
      }
    }
    // The dry-run as that user (issue 19 item 4): the plan with the folders gate's warning, exit 0,
    // and nothing written — its trial import works in that user's own TMPDIR and removes itself.
    const userTmp = join(base, "tmp");
    mkdirSync(userTmp);
    await execa("chown", [`${user.uid}:${user.gid}`, userTmp]);
    const dry = await execa("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "node", bin, "cutover", "--db", db, "--json"], {
      env: cleanEnv({ TMPDIR: userTmp }),
      extendEnv: false,
      reject: false,
      stdin: "ignore",
      cwd: "/",
    });
    expect(dry.exitCode, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout);
    const folders = plan.steps.find((x: any) => x.id === "folders");
    expect(folders.warnings.join()).toMatch(
      new RegExp(`^--apply would be refused now: The database's folder ${dir} is not writable by this user \\(EACCES, uid ${user.uid}\\)`),
    );
    expect(plan.steps.find((x: any) => x.id === "holders").warnings).toBeUndefined();
    expect(plan.message).toMatch(/--apply would be refused now \(folders: see above\); once that is fixed, run exactly this plan/);
    expect(plan.trial.rowsIn).toBeGreaterThan(0); // the plan was made: the trial import ran
    expect(dry.stderr).toMatch(/! folders: --apply would be refused now/);
    expect(readdirSync(userTmp)).toEqual([]);
    expect(snapshotDir(dir)).toEqual(before);
    expect(sha256(db)).toBe(orig);
    chmodSync(dir, 0o755);
    // Its folder writable now, the database file itself read-only for its owner (0444): refused (3) in Stage 0 —
    // the new file would take those bits and the ledger row is written into it after the swap (helper-102: swapped, then stuck).
    chmodSync(db, 0o444);
    const userLocks = join(base, "locks"); // the run's lock folder is the suite's own, out of that user's reach
    mkdirSync(userLocks);
    await execa("chown", [`${user.uid}:${user.gid}`, userLocks]);
    const roBefore = snapshotDir(dir);
    const ro = await execa("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "node", bin, "cutover", "--db", db, "--apply"], {
      env: cleanEnv({ TMPDIR: userTmp, VOX_CUTOVER_LOCK_DIR: userLocks }),
      extendEnv: false,
      reject: false,
      stdin: "ignore",
      cwd: "/",
    });
    expect(ro.exitCode, ro.stderr).toBe(3);
    expect(ro.stderr).toMatch(/is read-only for this user \(mode 0444\).*chmod u\+w/s);
    expect(snapshotDir(dir)).toEqual(roBefore);
    expect(sha256(db)).toBe(orig);
  });

  it("a corrupt b-tree: migrate, export-legacy and drill refuse (3), leave no work dir or lock, and the file as it was", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    await execa("python3", [
      "-c",
      `
import sqlite3
c = sqlite3.connect(${JSON.stringify(db)})
c.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (datetime('now')))")
c.execute("INSERT INTO schema_version VALUES (59, 'x'), (60, 'x')")
c.execute("CREATE TABLE t(a, b)")
c.executemany("INSERT INTO t VALUES (?, ?)", [(i, 'x' * 100) for i in range(2000)])
c.commit()
root = c.execute("SELECT rootpage FROM sqlite_master WHERE name = 't'").fetchone()[0]
size = c.execute("PRAGMA page_size").fetchone()[0]
c.close()
b = bytearray(open(${JSON.stringify(db)}, 'rb').read())
b[(root - 1) * size] = 0  # the b-tree page type of t's root: not a valid page type
open(${JSON.stringify(db)}, 'wb').write(b)
`,
    ]);
    const orig = sha256(db);
    const before = snapshotDir(dir);
    for (const args of [
      ["migrate", "--db", db, "--apply"],
      ["export-legacy", join(dir, "out.jsonl"), "--db", db],
      ["drill", "--db", db, "--apply"],
    ]) {
      const r = await cli(args);
      expect(r.exitCode, `${args[0]}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(/damaged|malformed/);
      expect(r.stderr).toMatch(/\.recover/);
      expect(r.stderr).not.toMatch(/Unexpected failure/);
      expect(snapshotDir(dir)).toEqual(before);
    }
    expect(sha256(db)).toBe(orig);
  });

  it("a hot rollback journal is named as such (not 'readonly database'); the database and journal are left exactly as they are", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    await execa("python3", [
      "-c",
      `
import sqlite3, shutil, os
p = ${JSON.stringify(db)}
c = sqlite3.connect(p + '.src'); c.execute('create table schema_version(version integer primary key, applied_at text)'); c.execute("insert into schema_version values (60, 'x')"); c.execute('create table t(a)'); c.commit(); c.close()
c = sqlite3.connect(p + '.src', isolation_level=None); c.execute('pragma cache_size=1'); c.execute('begin')
for i in range(3000): c.execute('insert into t values (?)', ('y' * 200,))
shutil.copy(p + '.src', p); shutil.copy(p + '.src-journal', p + '-journal')
os._exit(0)
`,
    ]);
    for (const f of readdirSync(dir)) if (f.includes(".src")) await execa("rm", ["-f", join(dir, f)]);
    const before = snapshotDir(dir);
    for (const args of [["diagnose"], ["cutover", "--apply"], ["migrate", "--apply"]]) {
      const r = await cli([...args, "--db", db]);
      expect(r.exitCode, `${args[0]}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(/hot rollback journal/);
      expect(r.stderr).not.toMatch(/readonly database/);
      expect(snapshotDir(dir)).toEqual(before);
    }
  });

  it("VOX_DB_URL=file:///… is a local path: diagnose and a refused migrate --apply create nothing", async () => {
    const dir = tmp();
    const target = join(dir, "new.db");
    const env = { VOX_DB_URL: `file://${target}` };
    const d = await cli(["diagnose", "--json"], { env });
    expect(d.exitCode, d.stderr).toBe(0);
    expect(d.json.chain).toBe("missing");
    const m = await cli(["migrate", "--apply", "--plan", "0000000000000000"], { env });
    expect(m.exitCode).toBe(3);
    expect(readdirSync(dir)).toEqual([]);
  });

  // The -shm is SQLite's shared wal-index: a reader using SQLite's locking (never immutable=1, see
  // src/db/local.ts) records its read mark there. The database's content — the file and its -wal —
  // stays byte for byte.
  it("read-only commands leave the database and its -wal byte-identical (the -shm is SQLite's shared wal-index: readers record their read marks in it)", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    makeBaselineDb(db);
    await execa("python3", [
      "-c",
      `
import sqlite3, os
c = sqlite3.connect(${JSON.stringify(db)}); c.execute('pragma journal_mode=wal'); c.execute('pragma wal_autocheckpoint=0')
c.execute("insert into users(id, display_name) values ('w1', 'in the wal')"); c.commit()
os._exit(0)
`,
    ]);
    expect(existsSync(`${db}-shm`)).toBe(true);
    const backup = join(tmp(), "b.jsonl");
    const content = () => Object.fromEntries(Object.entries(snapshotDir(dir)).filter(([f]) => !f.endsWith("-shm")));
    const before = content();
    for (const args of [["diagnose"], ["verify"], ["ledger"], ["cutover"], ["export-legacy", backup], ["verify-backup", backup], ["news-check"]]) {
      const r = await cli([...args, "--db", db]);
      expect([0, 1], `${args[0]}: ${r.stderr}`).toContain(r.exitCode);
      expect(content(), args[0]).toEqual(before);
      expect(existsSync(`${db}-shm`)).toBe(true);
    }
    // and the reader saw the row that is only in the -wal
    expect(readFileSync(backup, "utf8")).toMatch(/in the wal/);
  });
});
