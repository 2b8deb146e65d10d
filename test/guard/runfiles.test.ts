/**
 * Issue 16, points 5–9: the run's own files are checked before they are trusted, one lock per file
 * identity, an append-only quarantine, only regular files written, named faults, one home for
 * safety. Values are judged with the sqlite3 CLI and sha256 of the files.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { copyFileSync, cpSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import {
  cleanEnv,
  cli,
  cliEnv,
  launch,
  sampleInto,
  shq,
  sampleWithFewerTables,
  sha256,
  sqlite,
  tmp,
  pausedAt,
  snapshotDir,
  writeTimesBack,
} from "../helpers.js";
import { installedPackage, otherUser, reachableTmp } from "../fixtures/install.js";
import { lockFileOf } from "../../src/safety/lock.js";

// The worker's 10-row sample, copied (sampleInto runs `sample` once per worker): `whole` as made, and `template` cut to the
// tables a run's own files are tested with (sampleWithFewerTables: the same checks for any table, half a run's CPU). The
// tests sized to the whole sample (a full tmpfs, an edit of a table copied inside SQLite) take `whole`.
let template: string;
let whole: string;
beforeAll(async () => {
  template = tmp();
  await sampleWithFewerTables(template, 10);
  whole = tmp();
  await sampleInto(whole, 10);
}, 60_000);

/** A fresh copy of the sample (vox.db and its sidecar) in a new folder: `template`'s, or `whole`'s. */
function sample(from: "few" | "whole" = "few"): { dir: string; db: string; orig: string } {
  const dir = tmp();
  const src = from === "whole" ? whole : template;
  for (const f of readdirSync(src)) cpSync(join(src, f), join(dir, f), { recursive: true });
  const db = join(dir, "vox.db");
  return { dir, db, orig: sha256(db) };
}

/**
 * A copy of the sample cut over (`cutover --apply --json`) per chain of tests, made on first use (`cut`:
 * the sha256 of the file it left at the name). "lock": the two lock tests below; the first only reads it
 * (its rollbacks are refused), the second rolls it back. "archive": the replaced-archive test, whose two
 * rollbacks are refused before anything moves (it checks the database and its ledger row), then the
 * quarantine test, which imports into the cut-over database (it checks the file is still the one the
 * cutover left). Each test also runs alone.
 */
const cutOver = new Map<string, Promise<{ dir: string; db: string; orig: string; cut: string; done: Awaited<ReturnType<typeof cli>> }>>();
function cutOverSample(chain: "lock" | "archive") {
  let made = cutOver.get(chain);
  if (!made) {
    made = (async () => {
      const s = sample();
      const done = await cli(["cutover", "--db", s.db, "--apply", "--json"]);
      return { ...s, cut: sha256(s.db), done };
    })();
    cutOver.set(chain, made);
  }
  return made;
}

/**
 * export-legacy of one copy of the sample, made on first use; each test that reads it copies the file. The
 * export-lock test below makes it (its first export-legacy of a fresh copy, verified there); alone, a test
 * that reads it makes its own.
 */
let exported: Promise<{ path: string; r: { exitCode?: number; stderr: string } }> | undefined;
function sampleBackup() {
  exported ??= (async () => {
    const { dir, db } = sample();
    const path = join(dir, "sample.jsonl");
    return { path, r: await cli(["export-legacy", path, "--db", db]) };
  })();
  return exported;
}

const sleepers: ReturnType<typeof execa>[] = [];
afterAll(async () => {
  for (const s of sleepers.splice(0)) {
    s.kill("SIGKILL");
    await s;
  }
});

/** A live process (not ours, not our parent) standing in for another command that holds the lock. */
function liveProcess(): number {
  const s = execa("sleep", ["120"], { reject: false });
  sleepers.push(s);
  return s.pid!;
}

describe("one lock per file identity (point 6)", () => {
  it("a database with another name (a hard link): the dry-run warns; two cutovers through the two names: the second is refused (3) naming the first, which is refused (3) before anything moves — the swap would leave that name on the old file", async () => {
    // One state, three runs: a sample with a second name in another folder. (1) The dry-run warns on the
    // holders step. (2) An --apply paused under its lock (Stage 0, after:lock): a second --apply through
    // the other name meets the same lock, keyed on the file's identity, and is refused naming it. (3) The
    // first, let go, is refused by Stage 0's one-name check: it is the plain --apply after the dry-run,
    // paused on its way, and nothing moves.
    const { dir, db, orig } = sample();
    const other = join(dir, "other-folder");
    mkdirSync(other);
    const link = join(other, "same-file.db");
    linkSync(db, link);
    const dry = await cli(["cutover", "--db", db, "--json"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.json.steps.find((s: { id: string }) => s.id === "holders").warnings.join()).toMatch(/has 2 names \(hard links\)/);
    const { child: first, release } = await pausedAt(["cutover", "--db", db, "--apply"], "after:lock");
    try {
      const second = await cli(["cutover", "--db", link, "--apply"]);
      expect(second.exitCode, second.stderr).toBe(3);
      expect(second.stderr).toMatch(/hard link/);
      expect(second.stderr).toMatch(new RegExp(`pid ${first.pid}`));
      // One lock, keyed on the file's identity: both names meet the same lock file; none lies beside either name.
      expect(lockFileOf(link)).toBe(lockFileOf(db));
      expect(JSON.parse(readFileSync(lockFileOf(db), "utf8")).pid).toBe(first.pid);
      expect(readdirSync(dir).filter((f) => f.endsWith(".lock"))).toEqual([]);
      expect(readdirSync(other).filter((f) => f.endsWith(".lock"))).toEqual([]);
      expect(sha256(link)).toBe(orig);
      expect(existsSync(join(other, "vox-cutover-runs"))).toBe(false);
    } finally {
      release();
    }
    const r = await first;
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/has 2 names \(hard links\): the swap gives only this one the new file.*find \/ -xdev -samefile/s);
    expect(sha256(db)).toBe(orig);
    expect(statSync(db).nlink).toBe(2);
    expect(existsSync(join(dir, "vox-cutover-runs"))).toBe(false);
    expect(existsSync(join(other, "vox-cutover-runs"))).toBe(false);
  });

  it("a hard link made after Stage 0, before the swap: the swap's own check under the hold refuses (3) — a new link moves the file's status-change time — nothing moved; the rollback closes the run", async () => {
    const { dir, db, orig } = sample();
    const { child, release } = await pausedAt(["cutover", "--db", db, "--apply"], "after:primary-unchanged");
    const other = join(dir, "late-name.db");
    linkSync(db, other);
    release();
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/its permissions, owner or links changed/);
    expect(sha256(db)).toBe(orig);
    expect(statSync(db).nlink).toBe(2);
    rmSync(other);
    const rb = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(rb.exitCode, rb.stderr).toBe(0);
    expect(sha256(db)).toBe(orig);
    expect(readdirSync(dir).filter((f) => f.startsWith(".vox.db.vox-cutover"))).toEqual([]);
  });

  it("two export-legacy to one new OUT path (real processes): the second is refused (3) naming the first, with --force too; the first's backup verifies", async () => {
    const { dir, db } = sample();
    const out = join(dir, "new-backup.jsonl"); // does not exist yet: locked by its folder's identity + its name
    const { child: first, release } = await pausedAt(["export-legacy", out, "--db", db], "export-locked", 60_000);
    try {
      for (const extra of [[], ["--force"]]) {
        const second = await cli(["export-legacy", out, "--db", db, ...extra]);
        expect(second.exitCode, second.stderr).toBe(3);
        expect(second.stderr).toMatch(new RegExp(`holds the lock on the backup path .*pid ${first.pid}`));
        expect(second.stderr).not.toMatch(/Unexpected failure/);
        expect(existsSync(out)).toBe(false); // nothing written by the refused one
      }
    } finally {
      release();
    }
    const done = await first;
    expect(done.exitCode, done.stderr).toBe(0);
    const v = await cli(["verify-backup", out, "--db", db]);
    expect(v.exitCode, v.stderr).toBe(0);
    expect(readdirSync(dir).filter((f) => f.includes(".partial-"))).toEqual([]);
    // This verified export-legacy of a fresh copy of the sample is the file's export (sampleBackup): the
    // quarantine tests below copy it instead of exporting the same sample again.
    exported ??= Promise.resolve({ path: out, r: { exitCode: done.exitCode, stderr: String(done.stderr) } });
  });

  it("after the swap the name holds the new file, and the run's lock covers it: a second cutover or a rollback is refused (3) naming the first", async () => {
    const { db, orig } = sample();
    const { child: first } = await pausedAt(["cutover", "--db", db, "--apply"], "after:swap");
    try {
      expect(sha256(db)).not.toBe(orig); // the new file is at the name
      expect(JSON.parse(readFileSync(lockFileOf(db), "utf8")).pid).toBe(first.pid);
      for (const args of [
        ["cutover", "--db", db, "--apply"],
        ["cutover", "--db", db, "--rollback", "--apply", "--break-lock"],
      ]) {
        const r = await cli(args);
        expect(r.exitCode, r.stderr).toBe(3);
        expect(r.stderr).toMatch(new RegExp(`pid ${first.pid}`));
      }
    } finally {
      first.kill("SIGKILL");
      await first;
    }
    // The holder is gone: its lock is stale, and the rollback puts the original back.
    const rb = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(rb.exitCode, rb.stderr).toBe(0);
    expect(sha256(db)).toBe(orig);
  });

  it("rollback and --break-lock never take over a live holder's lock (a sidecar --merge still running)", async () => {
    const { db, done } = await cutOverSample("lock");
    expect(done.exitCode, done.stderr).toBe(0);
    const afterCutover = sha256(db);
    const archive = done.json.archive.path as string;
    const archived = sha256(archive);
    const pid = liveProcess();
    const lockFile = lockFileOf(db); // the one lock of the file now at the name (the new file)
    writeFileSync(
      lockFile,
      JSON.stringify({ pid, host: hostname(), startedAt: new Date().toISOString(), command: "sidecar", runId: "live-merge", workDir: "/elsewhere" }),
    );
    for (const extra of [[], ["--break-lock"]]) {
      const rb = await cli(["cutover", "--db", db, "--rollback", "--apply", ...extra]);
      expect(rb.exitCode, rb.stderr).toBe(3);
      expect(rb.stderr).toMatch(new RegExp(`pid ${pid}.*running \`sidecar\``));
      if (extra.length) expect(rb.stderr).toMatch(/still running: --break-lock only replaces the lock of a holder that is gone/);
      expect(sha256(db)).toBe(afterCutover);
      expect(sha256(archive)).toBe(archived);
      expect(existsSync(lockFile)).toBe(true);
    }
  });

  it("a dead holder's lock is replaced by rollback (reported), and the run rolls back", async () => {
    const { db, orig, done } = await cutOverSample("lock"); // the test above left its live holder's lock, replaced here
    expect(done.exitCode, done.stderr).toBe(0);
    const s = execa("true", [], { reject: false });
    await s;
    const lockFile = lockFileOf(db);
    writeFileSync(
      lockFile,
      JSON.stringify({ pid: s.pid, host: hostname(), startedAt: new Date().toISOString(), command: "sidecar", runId: "dead", workDir: "/elsewhere" }),
    );
    const rb = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(rb.exitCode, rb.stderr).toBe(0);
    expect(sha256(db)).toBe(orig);
    expect(existsSync(lockFile)).toBe(false);
    expect(existsSync(lockFileOf(db))).toBe(false);
    expect(sqlite(db, "SELECT count(*) FROM sqlite_master WHERE name = 'cutover_ledger'")).toBe("0");
  });
});

describe("only regular files are written; inputs that could block are refused (point 8)", () => {
  it("a FIFO or a device as OUT is refused (3) even with --force; --backup FIFO, a FIFO in --work-dir, --telemetry FIFO: refused before anything moves", async () => {
    const { dir, db, orig } = sample();
    const fifo = join(dir, "pipe");
    await execa("mkfifo", [fifo]);
    for (const out of [fifo, "/dev/null"]) {
      const r = await cli(["export-legacy", out, "--db", db, "--force"]);
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/FIFO|character device/);
      expect(r.stderr).toMatch(/--force does not change that/);
    }
    const wd = join(dir, "wd");
    mkdirSync(wd);
    await execa("mkfifo", [join(wd, "backup.jsonl")]);
    const cases: [string[], RegExp][] = [
      [["--backup", fifo], /--backup .* is a FIFO/],
      [["--work-dir", wd], /--work-dir .*backup\.jsonl is a FIFO/],
      [["--telemetry", fifo], /--telemetry .* is a FIFO/],
    ];
    for (const [args, msg] of cases) {
      const r = await cli(["cutover", "--db", db, "--apply", ...args]);
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/Unexpected failure/);
    }
    expect(sha256(db)).toBe(orig);
    expect(existsSync(join(dir, "vox-cutover-runs"))).toBe(false);
    expect(existsSync(lockFileOf(db))).toBe(false);
  });

  it("import-legacy IN and verify-backup IN given a FIFO or a device: refused (3) before reading, never a hang", async () => {
    const { dir, db, orig } = sample();
    const fifo = join(dir, "in.fifo");
    await execa("mkfifo", [fifo]);
    const target = join(dir, "new.db");
    const cases: string[][] = [];
    for (const input of [fifo, "/dev/zero"]) {
      cases.push(["verify-backup", input, "--db", db], ["import-legacy", input, "--db", target], ["import-legacy", input, "--db", target, "--apply"]);
    }
    const t0 = Date.now();
    for (const args of cases) {
      const r = await cli(args);
      expect(r.exitCode, `${args.join(" ")}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(/IN .* is a (FIFO \(named pipe\)|character device) \(not a regular file\)/);
      expect(r.stderr).not.toMatch(/Unexpected failure|\n\s+at /);
    }
    expect(Date.now() - t0).toBeLessThan(60_000); // nobody waited on the pipe
    expect(existsSync(target)).toBe(false);
    expect(sha256(db)).toBe(orig);
  });

  it("rehearse --work-dir <the database's folder> is refused and never cuts over the real database", async () => {
    const { dir, db, orig } = sample();
    const r = await cli(["rehearse", "--db", db, "--work-dir", dir]);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/the database's own folder/);
    expect(sha256(db)).toBe(orig);
    expect(sqlite(db, "SELECT count(*) FROM sqlite_master WHERE name = 'cutover_ledger'")).toBe("0");
    expect(existsSync(join(dir, "vox-cutover-runs"))).toBe(false);
  });

  it("the disk check counts the new file with its baseline (~2.3 MB), not a multiple of the file", async () => {
    const dir = tmp();
    const db = join(dir, "tiny.db");
    await execa("sqlite3", [db, "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes(body) VALUES ('a'),('b');"]);
    const size = Number((await execa("stat", ["-c", "%s", db])).stdout);
    expect(size).toBeLessThan(20_000);
    // 2.5 × the file would pass with 1 MB free; the new file alone needs ~2.3 MB.
    const r = await cli(["cutover", "--db", db, "--apply"], { env: { VOX_CUTOVER_FREE_BYTES: String(1024 * 1024) } });
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/Not enough free disk space.*new file with its baseline ≈ 2\.\d MB/);
    // The dry-run says so like the other apply-time gates (holders, folders): a warning on the disk
    // step, the plan still printed, exit 0, nothing written; the wizard's Stage 0 shows the same warning.
    const before = snapshotDir(dir);
    const dry = await cli(["cutover", "--db", db, "--json"], { env: { VOX_CUTOVER_FREE_BYTES: String(1024 * 1024) } });
    expect(dry.exitCode, dry.stderr).toBe(0);
    const disk = dry.json.steps.find((s: any) => s.id === "disk");
    expect(disk.status).toBe("done");
    expect(disk.warnings.join("\n")).toMatch(
      /^--apply would be refused now: Not enough free disk space beside .*: 1\.0 MB free, 2\.\d MB needed .*Free some space/,
    );
    expect(dry.json.message).toMatch(
      /^dry-run: nothing was changed\. --apply would be refused now \(disk: see above\); once that is fixed, run exactly this plan: .* --apply --plan [0-9a-f]{16}$/,
    );
    expect(dry.stderr).toMatch(/! disk: --apply would be refused now/);
    expect(snapshotDir(dir)).toEqual(before);
    const ok = await cli(["cutover", "--db", db, "--json"], { env: { VOX_CUTOVER_FREE_BYTES: String(3 * 1024 * 1024) } });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.json.steps.find((s: any) => s.id === "disk").status).toBe("done");
  });
});

describe("faults are named with the journal phase and the next command (point 8)", () => {
  it("no space left (a 4 MB tmpfs): the cause in words, the phase, the primary untouched, resume after freeing space", async () => {
    const base = tmp();
    const mnt = join(base, "fs");
    mkdirSync(mnt);
    await execa("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt]);
    try {
      cpSync(join(whole, "vox.db"), join(mnt, "vox.db"));
      const db = join(mnt, "vox.db");
      const orig = sha256(db);
      const r = await cli(["cutover", "--db", db, "--apply"], { env: { VOX_CUTOVER_FREE_BYTES: "99999999999" } });
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/no space left on the device \(ENOSPC/);
      expect(r.stderr).toMatch(/Journal phase: before the swap, step build-import/);
      expect(r.stderr).toMatch(/--resume --apply/);
      expect(r.stderr).not.toMatch(/Unexpected failure|Nothing was changed/);
      expect(sha256(db)).toBe(orig);
      const rb = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
      expect(rb.exitCode, rb.stderr).toBe(0);
      expect(sha256(db)).toBe(orig);
    } finally {
      await execa("umount", [mnt]);
    }
  });

  it("export-legacy onto a full disk (a 300 KB tmpfs): no space left is named, for the writer on a worker and on the exporting thread; nothing is left", async () => {
    const mnt = join(tmp(), "fs");
    mkdirSync(mnt);
    await execa("mount", ["-t", "tmpfs", "-o", "size=300k", "tmpfs", mnt]);
    try {
      const db = join(whole, "vox.db");
      const orig = sha256(db);
      for (const writerAbove of ["0", "999999999999"]) {
        const r = await cli(["export-legacy", join(mnt, "backup.jsonl"), "--db", db], { env: { VOX_CUTOVER_WRITER_WORKER_BYTES: writerAbove } });
        expect(r.exitCode, r.stderr).toBe(1);
        expect(r.stderr).toMatch(/A write stopped at .*backup\.jsonl: no space left on the device \(ENOSPC/);
        expect(r.stderr).not.toMatch(/Unexpected failure/);
        expect(readdirSync(mnt)).toEqual([]);
      }
      expect(sha256(db)).toBe(orig);
    } finally {
      await execa("umount", [mnt]);
    }
  });

  it("a file-size limit (ulimit -f) is named, not 'disk I/O error' or 'Unexpected failure'", async () => {
    const { db, orig } = sample();
    // Started as cli() starts the command (launch(): `sh BIN`, its launch line, no-opt.cjs in cliEnv), under the limit.
    const r = await execa("bash", ["-c", `ulimit -f 2200; exec ${launch(["cutover", "--db", db, "--apply"]).flat().map(shq).join(" ")}`], {
      env: cliEnv(),
      extendEnv: false,
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/past the largest size this process may write \(ulimit -f: 2252800 bytes\)/);
    expect(r.stderr).toMatch(/Journal phase: before the swap/);
    expect(r.stderr).not.toMatch(/Unexpected failure/);
    expect(sha256(db)).toBe(orig);
  });

  it("the folder made read-only at the swap (lost permission): phase and what is where, never 'Nothing was changed'; resume finishes", async (ctx) => {
    const user = otherUser();
    if ("skip" in user) return ctx.skip(user.skip);
    // The other user runs the package as installed in a folder it can reach: the checkout may be private (0700).
    const { bin } = await installedPackage();
    const dir = reachableTmp();
    for (const f of readdirSync(template)) cpSync(join(template, f), join(dir, f), { recursive: true });
    const db = join(dir, "vox.db");
    const orig = sha256(db);
    await execa("chown", ["-R", `${user.uid}:${user.gid}`, dir]);
    const markerDir = reachableTmp();
    await execa("chmod", ["777", markerDir]);
    const marker = join(markerDir, "paused");
    const asNobody = (args: string[], env: Record<string, string> = {}) =>
      execa("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "node", bin, ...args], {
        env: cleanEnv({ HOME: "/tmp", ...env }),
        extendEnv: false,
        reject: false,
        stdin: "ignore",
        cwd: "/",
      });
    const child = asNobody(["cutover", "--db", db, "--apply"], {
      VOX_CUTOVER_PAUSE_AT: "swap-archived",
      VOX_CUTOVER_PAUSE_FILE: marker,
      VOX_CUTOVER_PAUSE_MS: "3000",
    });
    while (!existsSync(marker)) {
      if (child.exitCode !== null) throw new Error((await child).stderr);
      await new Promise((r) => setTimeout(r, 20));
    }
    await execa("chmod", ["555", dir]);
    rmSync(marker, { force: true }); // the folder is read-only: end the pause now (VOX_CUTOVER_PAUSE_MS is only the fallback)
    const r = await child;
    await execa("chmod", ["755", dir]);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/permission denied/);
    expect(r.stderr).toMatch(/Journal phase: swap primary-archived, step swap/);
    expect(r.stderr).toMatch(/is still the original \(also linked into the archive/);
    expect(r.stderr).not.toMatch(/Nothing was changed|Unexpected failure/);
    expect(sha256(db)).toBe(orig);
    const res = await asNobody(["cutover", "--db", db, "--resume", "--apply"]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(sqlite(db, "SELECT group_concat(version) FROM (SELECT version FROM schema_version ORDER BY 1)")).toBe("59,60,66");
  });
});

/** Kills a cutover (-9) at `point`; returns its work dir. */
async function killedAt(db: string, point: string): Promise<string> {
  const { child } = await pausedAt(["cutover", "--db", db, "--apply"], point);
  child.kill("SIGKILL");
  await child;
  const root = join(db, "..", "vox-cutover-runs");
  return join(root, readdirSync(root)[0]!);
}

/**
 * A sample whose cutover was killed (-9) at swap-archived (the original linked into the archive, not
 * renamed), handed on by the journal-trust test (point 5) once it has shown that its refused commands
 * left every file as the kill did (the journal put back byte for byte); the replaced-name test (point 6)
 * takes it, or kills a run of its own when it runs alone.
 */
let killedAtSwapArchived: { dir: string; db: string } | undefined;

/** The lock files (name → content) in the run's lock folder that name the run in `workDir` (its lock by identity, and by name if it has one). */
function runLocks(workDir: string): Record<string, string> {
  const runId = journalLines(workDir).find((l) => l.e === "run-start").runId as string;
  const root = dirname(lockFileOf(join(workDir, "journal.jsonl")));
  const out: Record<string, string> = {};
  for (const f of readdirSync(root)) {
    let text: string;
    try {
      text = readFileSync(join(root, f), "utf8");
    } catch {
      continue; // another test file's lock, gone meanwhile (the folder is the run's, shared)
    }
    if (text.includes(runId)) out[f] = text;
  }
  return out;
}

function journalLines(workDir: string): any[] {
  return readFileSync(join(workDir, "journal.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe("the run's own files are checked before they are trusted (point 5)", () => {
  it("a journal whose archive points outside the run folder never moves a foreign file over the primary", async () => {
    const { dir, db } = sample();
    const wd = await killedAt(db, "swap-archived");
    const primaryBefore = sha256(db);
    const foreignDir = join(dir, "elsewhere");
    mkdirSync(foreignDir);
    const foreign = join(foreignDir, "vox.db");
    await execa("sqlite3", [foreign, "CREATE TABLE evil(x); INSERT INTO evil VALUES (1);"]);
    const foreignSha = sha256(foreign);
    const asKilled = { files: snapshotDir(dir), locks: runLocks(wd) };
    const journal = readFileSync(join(wd, "journal.jsonl"));
    const lines = journalLines(wd).map((l) => (l.e === "run-start" ? { ...l, archiveDir: foreignDir } : l));
    writeFileSync(join(wd, "journal.jsonl"), lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    for (const args of [
      ["--rollback", "--apply"],
      ["--resume", "--apply"],
    ]) {
      const r = await cli(["cutover", "--db", db, ...args]);
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/cannot be trusted: its archive .* lies outside its run folder/);
      expect(sha256(db)).toBe(primaryBefore);
      expect(sha256(foreign)).toBe(foreignSha);
    }
    // The journal put back: every file (the database, the run folder, its archive, the new file) and the
    // killed run's lock are as the kill left them, and the replaced-name test (point 6) goes on from here.
    writeFileSync(join(wd, "journal.jsonl"), journal);
    expect(snapshotDir(dir)).toEqual(asKilled.files);
    expect(runLocks(wd)).toEqual(asKilled.locks);
    expect(Object.keys(asKilled.locks)).toContain(basename(lockFileOf(db)));
    rmSync(foreignDir, { recursive: true });
    killedAtSwapArchived = { dir, db };
  });

  it("a replaced new file is never swapped in by --resume (3, naming it); the primary stays", async () => {
    const { dir, db, orig } = sample();
    await killedAt(db, "after:checks");
    const newFile = join(dir, ".vox.db.vox-cutover-new");
    const impostor = join(dir, "impostor.db");
    await execa("sqlite3", [
      impostor,
      "CREATE TABLE schema_version(version INTEGER PRIMARY KEY, applied_at TEXT); INSERT INTO schema_version VALUES (66, 'x');",
    ]);
    cpSync(impostor, newFile);
    const r = await cli(["cutover", "--db", db, "--resume", "--apply"]);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/The new file .*\.vox\.db\.vox-cutover-new is not the file this run made: (another file is at that name|size)/);
    expect(sha256(db)).toBe(orig);
    expect(sha256(newFile)).toBe(sha256(impostor));
  });

  it("a new file written to in place after the import (same inode, same size) is refused by the checks step on --resume (3); the primary stays", async () => {
    // The checks step does not read the whole file again (the import's integrity_check did, last in its
    // transaction): what it relies on is this record of the built file, which a write in place must break.
    const { dir, db, orig } = sample();
    await killedAt(db, "after:build-import");
    const newFile = join(dir, ".vox.db.vox-cutover-new");
    const size = statSync(newFile).size;
    const ver = (await execa("sqlite3", [newFile, "SELECT max(version) FROM schema_version"])).stdout.trim();
    await execa("sqlite3", [newFile, `UPDATE schema_version SET applied_at = 'edited' WHERE version = ${ver}`]);
    expect(statSync(newFile).size).toBe(size);
    const r = await cli(["cutover", "--db", db, "--resume", "--apply"]);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/The new file .*\.vox\.db\.vox-cutover-new is not the file this run made: .*written to since/);
    expect(sha256(db)).toBe(orig);
  });

  it("a backup edited in place after its verification (same inode, same size, one letter of a row of a table copied inside SQLite) is refused by build-import (3); no new file, the primary stays", async () => {
    // The build trusts a verified backup only through its whole-file hash (a natively proven table's
    // lines are not hashed on their own again): an edit between verify-backup and the build that keeps
    // the inode and size must still fail it. (A --resume would verify the backup again first.)
    const { dir, db, orig } = sample("whole");
    const { child, release } = await pausedAt(["cutover", "--db", db, "--apply"], "after:verify-backup");
    const root = join(dir, "vox-cutover-runs");
    const backup = join(root, readdirSync(root)[0]!, "backup.jsonl");
    const size = statSync(backup).size;
    const edited = (
      await execa("python3", [
        "-c",
        [
          "import json,re,sys",
          "p=sys.argv[1]; b=open(p,'rb').read().split(b'\\n'); cur=None",
          "for i,l in enumerate(b):",
          "  if l.startswith(b'{\"k\":\"table\"'): cur=json.loads(l)['name']; continue",
          "  m=re.search(rb'\"[a-z]', l) if l.startswith(b'[') and cur=='audit_log' else None",
          "  if m:",
          "    c=l[m.start()+1]; b[i]=l[:m.start()+1]+bytes([c+1 if c<122 else c-1])+l[m.start()+2:]",
          "    open(p,'r+b').write(b'\\n'.join(b)); print(cur); break",
        ].join("\n"),
        backup,
      ])
    ).stdout.trim();
    expect(edited).toBe("audit_log");
    expect(statSync(backup).size).toBe(size);
    release();
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/backup/i);
    expect(r.stderr).toMatch(/build|import|whole-file/i);
    expect(existsSync(join(dir, ".vox.db.vox-cutover-new"))).toBe(false);
    expect(sha256(db)).toBe(orig);
  });

  it("a row committed into the new file in WAL mode after the import sits in its -wal (the file itself unchanged): --resume refuses (3) naming the -wal; the primary stays", async () => {
    const { dir, db } = sample();
    await execa("sqlite3", [db, "PRAGMA journal_mode=WAL"]); // the new file keeps the primary's journal mode
    const orig = sha256(db);
    await killedAt(db, "after:build-import");
    const newFile = join(dir, ".vox.db.vox-cutover-new");
    expect((await execa("sqlite3", [newFile, "PRAGMA journal_mode"])).stdout.trim()).toBe("wal");
    const before = { sha: sha256(newFile), mtime: statSync(newFile).mtimeMs };
    // Committed, never checkpointed: the writer ends without closing (its close would checkpoint into the file).
    await execa("python3", [
      "-c",
      "import os,sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.execute('PRAGMA wal_autocheckpoint=0')\nc.execute(\"INSERT INTO names(namespace, name, hash) VALUES ('writer', 'in-the-wal', '1')\")\nc.commit()\nos._exit(0)",
      newFile,
    ]);
    expect(statSync(`${newFile}-wal`).size).toBeGreaterThan(0);
    expect({ sha: sha256(newFile), mtime: statSync(newFile).mtimeMs }).toEqual(before);
    const r = await cli(["cutover", "--db", db, "--resume", "--apply"]);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(
      /The new file .*\.vox\.db\.vox-cutover-new is not the file this run made: its -wal holds \d+ bytes of writes not in the file itself/,
    );
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    expect(sha256(db)).toBe(orig);
  });

  it("a replaced archived original is not put back (3); the new file stays in place", async () => {
    const { dir, db, cut, done } = await cutOverSample("archive"); // the quarantine test (point 7) imports into this database next
    expect(done.exitCode, done.stderr).toBe(0);
    const archive = done.json.archive.path as string;
    const newSha = sha256(db);
    expect(newSha).toBe(cut);
    const other = join(dir, "other.db");
    await execa("sqlite3", [other, "CREATE TABLE t(x); INSERT INTO t VALUES ('not the original');"]);
    const ino = statSync(archive).ino;
    // Same name, other content, the same inode rewritten (copyFileSync writes in place; cpSync would unlink
    // the archive first, and a later file could get its inode number back: a flake seen once in CI).
    copyFileSync(other, archive);
    expect(statSync(archive).ino).toBe(ino);
    let r = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/The archived original .* is not the file this run made/);
    expect(sha256(db)).toBe(newSha);
    // a different file at the archive's name (a new inode)
    const moved = `${archive}.moved`;
    await execa("mv", [archive, moved]);
    cpSync(other, archive);
    expect(statSync(archive).ino).not.toBe(ino); // the recorded inode is still in use (moved): never handed out again
    r = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/another file is at that name/);
    expect(sha256(db)).toBe(newSha);
    expect(sqlite(db, "SELECT count(*) FROM cutover_ledger WHERE command = 'cutover'")).toBe("1");
  });

  it("with the archive gone mid-run, rollback says what is where and refuses — never 'never moved' while the new file is in place", async () => {
    const { db } = sample();
    const wd = await killedAt(db, "after:swap");
    const archive = join(wd, "archive", "vox.db");
    const newSha = sha256(db);
    await execa("rm", [archive]);
    const r = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/The archived original .* is gone, and .* is not the file run .* started from/);
    expect(r.stderr).not.toMatch(/never moved/);
    expect(sha256(db)).toBe(newSha);
  });

  it("killed before its swap began, the database then moved away: the rollback closes the run, says there is no file at its name and where the backup is", async () => {
    const { dir, db } = sample();
    const wd = await killedAt(db, "after:checks");
    await execa("mv", [db, join(dir, "elsewhere.db")]);
    const dry = await cli(["cutover", "--db", db, "--rollback"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stderr + dry.stdout).toMatch(
      /is not there \(no file at its name\): this run never moved it .* The verified backup .*backup\.jsonl can rebuild its rows \(vox-cutover import-legacy/,
    );
    const r = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr + r.stdout).toMatch(/was never moved \(there is no file at its name now\)/);
    expect(existsSync(db)).toBe(false);
    expect(existsSync(join(wd, "backup.jsonl"))).toBe(true);
  });

  it("a file already at the new file's name (not this run's): the dry-run warns, --apply refuses (3) in Stage 0, that file and the primary untouched, no run begun", async () => {
    const { dir, db, orig } = sample();
    const stray = join(dir, ".vox.db.vox-cutover-new");
    writeFileSync(stray, "someone's file");
    const dry = await cli(["cutover", "--db", db, "--json"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.json.steps.find((x: any) => x.id === "folders").warnings.join(" ")).toMatch(/--apply would be refused now: .*vox-cutover-new is already there/);
    const r = await cli(["cutover", "--db", db, "--apply"]);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/is already there: the name this run builds the new file under/);
    expect(readFileSync(stray, "utf8")).toBe("someone's file");
    expect(sha256(db)).toBe(orig);
    expect(existsSync(join(dir, "vox-cutover-runs"))).toBe(false);
  });

  it("killed before its swap began, the database then replaced by another file: the resume refuses (3) pointing at the rollback, which closes the run and leaves that file as it is", async () => {
    const { dir, db } = sample();
    const wd = await killedAt(db, "after:primary-unchanged");
    expect(existsSync(join(dir, ".vox.db.vox-cutover-new"))).toBe(true);
    // An rsync, a restore, an application's save-and-rename: another inode at the name, same rows.
    await execa("sqlite3", [db, `.backup '${join(dir, "copy.db")}'`]);
    await execa("mv", [join(dir, "copy.db"), db]);
    const replaced = sha256(db);
    const resumed = await cli(["cutover", "--db", db, "--resume", "--apply"]);
    expect(resumed.exitCode, resumed.stderr).toBe(3);
    expect(resumed.stderr).toMatch(/another file than the one this run was planned for/);
    expect(resumed.stderr).toMatch(/--rollback --apply \(it removes the run's temporary files and leaves the file at the name as it is\)/);
    expect(resumed.stderr).toMatch(/Roll back: vox-cutover cutover --db .* --rollback --apply/);
    expect(resumed.stderr).not.toMatch(/Resume: /); // a resume would be refused again
    const fresh = await cli(["cutover", "--db", db, "--apply"]);
    expect(fresh.exitCode, fresh.stderr).toBe(3);
    expect(fresh.stderr).toMatch(
      /unfinished cutover .*\(stopped at lock, which did not pass\).* It cannot be resumed \(another file is at the database's name now .*\): undo it: .*--rollback --apply/,
    );
    expect(fresh.stderr).not.toMatch(/Resume it/);
    const dry = await cli(["cutover", "--db", db, "--rollback"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stderr + dry.stdout).toMatch(/is not the file run .* started from .*: this run never moved it \(its swap had not begun\)/);
    // An application holding the file now at the name (its save-and-rename) does not stop a rollback that moves nothing there.
    const holder = execa("python3", [
      "-c",
      "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1]); c.execute('select 1 from sqlite_master').fetchall(); print('open', flush=True); time.sleep(30)",
      db,
    ]);
    await new Promise<void>((res) => holder.stdout!.once("data", () => res()));
    const r = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    holder.kill();
    await holder.catch(() => undefined);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr + r.stdout).toMatch(/was never moved \(the file at its name now is not the file run .* started from .*: left as it is\)/);
    expect(sha256(db)).toBe(replaced);
    expect(readdirSync(dir).filter((f) => f.startsWith(".vox.db."))).toEqual([]);
    expect(existsSync(join(wd, "backup.jsonl"))).toBe(true); // the verified backup is kept
    // The run is closed: the next cutover plans afresh, and its apply cuts over the file now at the name.
    const next = await cli(["cutover", "--db", db, "--apply"]);
    expect(next.exitCode, next.stderr).toBe(0);
    expect(sqlite(db, "SELECT count(*) FROM cutover_ledger WHERE command = 'cutover'")).toBe("1");
  });
  it("killed before its export, the database deleted and another copied in that got its inode number back (ext4 hands it out again): the resume refuses (3) by the birth time; the rollback leaves that file as it is", async () => {
    // A new file gets the freed inode number (the first one free), unless another test file running
    // beside this one took it first: then the scenario is made again (up to three times).
    let db = "";
    for (let attempt = 0; attempt < 3 && !db; attempt++) {
      const { dir, db: at } = sample();
      const other = join(dir, "other.db");
      cpSync(at, other);
      sqlite(other, "INSERT INTO names(namespace, name, hash) VALUES ('other', 'file', '1')");
      await killedAt(at, "export-progress");
      const ino = statSync(at).ino;
      rmSync(at);
      await execa("cp", [other, at]);
      if (statSync(at).ino === ino) db = at;
    }
    expect(db, "the freed inode number was taken by another file three times").not.toBe("");
    const copied = sha256(db);
    const resumed = await cli(["cutover", "--db", db, "--resume", "--apply"]);
    expect(resumed.exitCode, resumed.stderr).toBe(3);
    expect(resumed.stderr).toMatch(/another file than the one this run was planned for/);
    expect(sha256(db)).toBe(copied);
    expect(sqlite(db, "SELECT count(*) FROM sqlite_master WHERE name = 'cutover_ledger'")).toBe("0");
    const dry = await cli(["cutover", "--db", db, "--rollback"]);
    expect(dry.stderr + dry.stdout).toMatch(/the number reused by a file made \S+, the original was made \S+/);
    const r = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(sha256(db)).toBe(copied);
  });
});

describe("the run's starting file, whatever its size and times (point 6)", () => {
  /** A copy of `db` with one row's value changed, its size, times and header's change counter put back as they were. */
  function sameLooking(db: string, to: string): void {
    const py = [
      "import os,shutil,sqlite3,sys",
      "s,d=sys.argv[1],sys.argv[2];shutil.copyfile(s,d);st=os.stat(s);h=open(s,'rb').read(100)",
      "c=sqlite3.connect(d);c.execute('UPDATE names SET hash = upper(hash) WHERE rowid = (SELECT min(rowid) FROM names)');c.commit();c.close()",
      "f=open(d,'r+b');f.seek(24);f.write(h[24:28]);f.seek(92);f.write(h[92:96]);f.close();os.utime(d,ns=(st.st_atime_ns,st.st_mtime_ns))",
    ].join("\n");
    execFileSync("python3", ["-c", py, db, to]);
    expect(sqlite(to, "SELECT hash FROM names ORDER BY rowid LIMIT 1")).not.toBe(sqlite(db, "SELECT hash FROM names ORDER BY rowid LIMIT 1"));
  }

  /** Another process (Python) with `file` open (a plain open(), no SQLite), once it is; killed by the test. */
  async function openedBy(file: string) {
    const holder = execa("python3", ["-c", "import sys,time\nf=open(sys.argv[1],'rb')\nprint('open', flush=True)\ntime.sleep(60)", file]);
    await new Promise<void>((res) => holder.stdout!.once("data", () => res()));
    return { holder }; // wrapped: an execa subprocess is a thenable (returning it would await its exit)
  }

  /** A cutover of `db` whose swap is undone: a process opens the original between the archive's link and the rename (refused, 3). */
  async function swapUndoneForLateHolder(db: string): Promise<void> {
    const { child, release } = await pausedAt(["cutover", "--db", db, "--apply"], "swap-archived", 20_000);
    const { holder } = await openedBy(db);
    release();
    const run = await child;
    holder.kill();
    await holder.catch(() => undefined);
    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/holds the original file/);
  }

  /** A same-looking file renamed over the name of an unfinished run's database: the resume refuses (3) with `why`, and leaves that file as it is. */
  async function replacedThenResumed(dir: string, db: string, why: RegExp): Promise<void> {
    const other = join(dir, "other.db");
    sameLooking(db, other);
    renameSync(other, db);
    const replaced = sha256(db);
    const r = await cli(["cutover", "--db", db, "--resume", "--apply"]);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(why);
    expect(sha256(db)).toBe(replaced);
  }

  it("another file put at the name after the export (same size, mtime and change counter): refused (3) before the swap — by primary-unchanged, and by the swap's own check under the hold; that file left as it is", async () => {
    for (const point of ["after:export", "after:primary-unchanged"]) {
      const { dir, db } = sample();
      const other = join(dir, "other.db");
      sameLooking(db, other);
      expect(statSync(other).size).toBe(statSync(db).size);
      const { child, release } = await pausedAt(["cutover", "--db", db, "--apply"], point);
      renameSync(other, db); // another inode at the name, its bytes but one the same
      const replaced = sha256(db);
      release();
      const r = await child;
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/another file than the one this run was planned for/);
      expect(sha256(db)).toBe(replaced);
      expect(sqlite(db, "SELECT count(*) FROM sqlite_master WHERE name = 'cutover_ledger'")).toBe("0");
      const rb = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
      expect(rb.exitCode, rb.stderr).toBe(0);
      expect(sha256(db)).toBe(replaced);
    }
  });

  it("the primary written in place after the export, its size, times and change counter put back (WAL, its -wal gone): refused (3) — by verify-backup's re-read, by primary-unchanged and the swap's check (its ctime); the write kept", async () => {
    for (const [point, why] of [
      ["after:export", /The backup does not equal the primary/],
      ["after:build-import", /was touched since the export \(its status-change time moved: written to with its size and modification time put back/],
      // past primary-unchanged: the swap's own check under the hold (a first attempt: nothing of the run's own touched the file)
      ["after:primary-unchanged", /was touched since the export \(its status-change time moved: written to with its size and modification time put back/],
    ] as const) {
      const { db } = sample();
      expect(sqlite(db, "PRAGMA journal_mode=WAL")).toBe("wal");
      const { child, release } = await pausedAt(["cutover", "--db", db, "--apply"], point);
      writeTimesBack(db, "UPDATE names SET hash = upper(hash) WHERE rowid = (SELECT min(rowid) FROM names)");
      const written = sqlite(db, "SELECT hash FROM names ORDER BY rowid LIMIT 1");
      release();
      const r = await child;
      expect(r.exitCode, `${point}: ${r.stderr}`).toBe(3);
      expect(r.stderr, point).toMatch(why);
      if (point !== "after:export") expect(r.stderr, point).toMatch(/if it was written to, the new file would miss those writes\. .*Find what touched it/);
      expect(sqlite(db, "SELECT hash FROM names ORDER BY rowid LIMIT 1"), point).toBe(written);
      expect(sqlite(db, "SELECT count(*) FROM sqlite_master WHERE name = 'cutover_ledger'")).toBe("0");
    }
  });

  it("killed before its swap, the primary then written with its size, times and change counter put back (WAL): the next run says it cannot be resumed, --resume refuses (3), the rollback closes it; the write kept", async () => {
    const { db } = sample();
    expect(sqlite(db, "PRAGMA journal_mode=WAL")).toBe("wal");
    await killedAt(db, "after:checks");
    writeTimesBack(db, "UPDATE names SET hash = upper(hash) WHERE rowid = (SELECT min(rowid) FROM names)");
    const written = sqlite(db, "SELECT hash FROM names ORDER BY rowid LIMIT 1");
    const next = await cli(["cutover", "--db", db, "--apply"]);
    expect(next.exitCode, next.stderr).toBe(3);
    expect(next.stderr).toMatch(
      /It cannot be resumed \(the primary changed since the export \(another writer\?\), so resuming would stop at the live-write gate\)/,
    );
    const res = await cli(["cutover", "--db", db, "--resume", "--apply"]);
    expect(res.exitCode, res.stderr).toBe(3);
    expect(res.stderr).toMatch(/The backup does not equal the primary/); // verify-backup, run again, re-reads it (its ctime moved)
    expect((await cli(["cutover", "--db", db, "--rollback", "--apply"])).exitCode).toBe(0);
    expect(sqlite(db, "SELECT hash FROM names ORDER BY rowid LIMIT 1")).toBe(written);
  });

  it("a swap undone for a late holder (journaled at its intent, nothing renamed), then another file put at the name: the resume refuses (3) and never swaps it", async () => {
    const { dir, db } = sample();
    await swapUndoneForLateHolder(db);
    await replacedThenResumed(dir, db, /another file than the one this run was planned for/);
  });

  it("a swap undone for a late holder (WAL): its --resume finishes when nothing wrote to the original since (the undo journals the state it left), and refuses (3) a write with its size, times and change counter put back, the write kept", async () => {
    for (const written of [false, true]) {
      const { db } = sample();
      expect(sqlite(db, "PRAGMA journal_mode=WAL")).toBe("wal");
      await swapUndoneForLateHolder(db);
      if (written) writeTimesBack(db, "UPDATE names SET hash = upper(hash) WHERE rowid = (SELECT min(rowid) FROM names)");
      const value = sqlite(db, "SELECT hash FROM names ORDER BY rowid LIMIT 1");
      const res = await cli(["cutover", "--db", db, "--resume", "--apply"]);
      expect(sqlite(db, "SELECT hash FROM names ORDER BY rowid LIMIT 1"), String(written)).toBe(value);
      if (!written) {
        expect(res.exitCode, res.stderr).toBe(0);
        continue;
      }
      expect(res.exitCode, res.stderr).toBe(3);
      expect(res.stderr).toMatch(/was touched since the export \(its status-change time moved/);
      expect(sqlite(db, "SELECT count(*) FROM sqlite_master WHERE name = 'cutover_ledger'")).toBe("0");
    }
  });

  it("killed between the swap's link and its journal entry: --resume finishes it when the original is as the intent recorded it; a write after the kill is refused (3), the write kept", async () => {
    for (const written of [false, true]) {
      const { db } = sample();
      expect(sqlite(db, "PRAGMA journal_mode=WAL")).toBe("wal");
      const { child } = await pausedAt(["cutover", "--db", db, "--apply"], "swap-linked");
      child.kill("SIGKILL");
      await child;
      if (written) sqlite(db, "INSERT INTO names(namespace, name, hash) VALUES ('late', 'written-after-the-kill', 'h')");
      const res = await cli(["cutover", "--db", db, "--resume", "--apply"]);
      const label = written ? "written" : "untouched";
      if (!written) {
        expect(res.exitCode, `${label}: ${res.stderr}`).toBe(0);
        expect(sqlite(db, "SELECT count(*) FROM sqlite_master WHERE name = 'cutover_ledger'"), label).toBe("1");
        continue;
      }
      expect(res.exitCode, `${label}: ${res.stderr}`).toBe(3);
      expect(res.stderr, label).toMatch(
        /The primary .* changed since the export \(modification time changed\): the new file would miss those writes\. Journal phase: swap intent/,
      );
      expect(sqlite(db, "SELECT count(*) FROM names WHERE name = 'written-after-the-kill'"), label).toBe("1");
    }
  });

  it("killed right after the swap's rename: --resume finishes it when nothing wrote to the archived original; a write into it after the kill (its holder outlived the run) is refused (3), the rollback puts it back with the write", async () => {
    for (const wal of [false, true]) {
      for (const written of [false, true]) {
        const { db } = sample();
        if (wal) expect(sqlite(db, "PRAGMA journal_mode=WAL")).toBe("wal");
        const { child } = await pausedAt(["cutover", "--db", db, "--apply"], "swap-renamed");
        child.kill("SIGKILL");
        await child;
        const archive = join(dirname(db), "vox-cutover-runs", readdirSync(join(dirname(db), "vox-cutover-runs"))[0]!, "archive", "vox.db");
        if (written) sqlite(archive, "INSERT INTO names(namespace, name, hash) VALUES ('late', 'written-after-the-kill', 'h')");
        const res = await cli(["cutover", "--db", db, "--resume", "--apply"]);
        const label = `${wal ? "WAL" : "rollback journal"}, ${written ? "written" : "untouched"}`;
        if (!written) {
          expect(res.exitCode, `${label}: ${res.stderr}`).toBe(0);
          expect(sqlite(db, "SELECT count(*) FROM sqlite_master WHERE name = 'cutover_ledger'"), label).toBe("1");
          continue;
        }
        expect(res.exitCode, `${label}: ${res.stderr}`).toBe(3);
        expect(res.stderr, label).toMatch(/was written to after the swap moved it there/);
        const back = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
        expect(back.exitCode, `${label}: ${back.stderr}`).toBe(0);
        expect(sqlite(db, "SELECT count(*) FROM names WHERE name = 'written-after-the-kill'"), label).toBe("1");
      }
    }
  });

  it("killed inside a swap's undo, the original renamed back but not yet journaled (WAL): --resume finishes (its own link and rename moved the ctime, nothing else)", async () => {
    const { db } = sample();
    expect(sqlite(db, "PRAGMA journal_mode=WAL")).toBe("wal");
    const rows = sqlite(db, "SELECT count(*) FROM names");
    const { child, release, reached } = await pausedAt(["cutover", "--db", db, "--apply"], "swap-archived,swap-undo-renamed", 20_000);
    const { holder } = await openedBy(db);
    release();
    await reached(); // the late holder found, the original renamed back over its name
    child.kill("SIGKILL");
    await child;
    holder.kill();
    await holder.catch(() => undefined);
    const res = await cli(["cutover", "--db", db, "--resume", "--apply"]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(sqlite(db, "SELECT count(*) FROM names")).toBe(rows);
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
  });

  it("killed inside a swap's undo, the new file linked back to its own name and still at the database's (WAL): --resume finishes the swap forward, keeping what an application wrote through the name meanwhile (its -wal frames); written by the new file's own name, the resume and the rollback both refuse (3), the write kept", async () => {
    for (const write of ["none", "the name", "its own name"] as const) {
      const { dir, db } = sample();
      expect(sqlite(db, "PRAGMA journal_mode=WAL")).toBe("wal");
      const rows = Number(sqlite(db, "SELECT count(*) FROM names"));
      const { child, release, reached } = await pausedAt(["cutover", "--db", db, "--apply"], "swap-archived,swap-undo-linked", 20_000);
      const { holder } = await openedBy(db);
      release();
      await reached(); // the late holder found, the new file linked back to its name
      child.kill("SIGKILL");
      await child;
      holder.kill();
      await holder.catch(() => undefined);
      const newPath = join(dir, ".vox.db.vox-cutover-new");
      expect(statSync(db).ino, "the name is the new file's").toBe(statSync(newPath).ino);
      // An application writes through one of the names and dies with its commit only in that name's -wal.
      const through = write === "the name" ? db : newPath;
      if (write !== "none") {
        await execa("python3", [
          "-c",
          "import sqlite3,sys,os\nc=sqlite3.connect(sys.argv[1])\nc.execute(\"INSERT INTO names(namespace, name, hash) VALUES ('ns', 'late', 'h')\")\nc.commit()\nos._exit(0)",
          through,
        ]);
        expect(statSync(through + "-wal").size, write).toBeGreaterThan(0);
      }
      const res = await cli(["cutover", "--db", db, "--resume", "--apply"]);
      if (write === "its own name") {
        expect(res.exitCode, res.stderr).toBe(3);
        expect(res.stderr).toContain(`something opened the new file by its own name since: ${newPath}-wal holds its writes`);
        const back = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
        expect(back.exitCode, back.stderr).toBe(3);
        expect(back.stderr).toContain(`Do not remove ${newPath}-wal`);
        expect(sqlite(newPath, "SELECT count(*) FROM names WHERE name = 'late'")).toBe("1");
        continue;
      }
      expect(res.exitCode, `${write}: ${res.stderr}`).toBe(0);
      expect(existsSync(newPath), write).toBe(false);
      expect(sqlite(db, "SELECT count(*) FROM names"), write).toBe(String(rows + (write === "none" ? 0 : 1)));
      expect(sqlite(db, "SELECT max(version) FROM schema_version"), write).toBe("66");
      expect(sqlite(db, "PRAGMA integrity_check"), write).toBe("ok");
    }
  });

  it("a swap refused after its link (a holder of the new file), then the original written with its size, times and change counter put back (WAL): --resume refuses (3), the write kept", async () => {
    const { dir, db } = sample();
    expect(sqlite(db, "PRAGMA journal_mode=WAL")).toBe("wal");
    const { child, release } = await pausedAt(["cutover", "--db", db, "--apply"], "swap-archived", 20_000);
    const { holder } = await openedBy(join(dir, ".vox.db.vox-cutover-new"));
    try {
      release();
      const run = await child;
      expect(run.exitCode, run.stderr).toBe(3);
      expect(run.stderr).toMatch(/Journal phase: swap primary-archived/);
    } finally {
      holder.kill();
      await holder.catch(() => undefined);
    }
    writeTimesBack(db, "UPDATE names SET hash = upper(hash) WHERE rowid = (SELECT min(rowid) FROM names)");
    const written = sqlite(db, "SELECT hash FROM names ORDER BY rowid LIMIT 1");
    const res = await cli(["cutover", "--db", db, "--resume", "--apply"]);
    expect(res.exitCode, res.stderr).toBe(3);
    expect(res.stderr).toMatch(/was touched since the export \(its status-change time moved/);
    expect(sqlite(db, "SELECT hash FROM names ORDER BY rowid LIMIT 1")).toBe(written);
  });

  it("a WAL-mode new file replaced (its empty -wal kept), removed, or held with SQLite's exclusive lock at the swap: refused (3) before its side files are settled — nothing opened, created or waited for", async () => {
    for (const change of ["replace", "remove", "exclusive holder"] as const) {
      const { db } = sample();
      expect(sqlite(db, "PRAGMA journal_mode=WAL")).toBe("wal");
      const before = sha256(db);
      const { child, release } = await pausedAt(["cutover", "--db", db, "--apply"], "swap-archived", 30_000);
      const newPath = join(dirname(db), ".vox.db.vox-cutover-new");
      // What the settle would act on: the empty -wal the checks' read-only look left (src/db/files.ts settleReadersSideFiles).
      expect(statSync(newPath + "-wal").size, change).toBe(0);
      let holder: ReturnType<typeof execa> | undefined;
      if (change === "replace") {
        writeFileSync(newPath + ".other", randomBytes(statSync(newPath).size));
        renameSync(newPath + ".other", newPath);
      } else if (change === "remove") rmSync(newPath);
      else {
        const script =
          "import sqlite3,sys,time\nc=sqlite3.connect(sys.argv[1])\nc.execute('PRAGMA locking_mode=EXCLUSIVE')\nc.execute('SELECT count(*) FROM sqlite_master').fetchall()\nprint('holding', flush=True)\ntime.sleep(60)";
        holder = execa("python3", ["-c", script, newPath]);
        await new Promise<void>((res) => holder!.stdout!.once("data", () => res()));
      }
      const t0 = Date.now();
      release();
      const r = await child;
      const took = Date.now() - t0;
      holder?.kill();
      await holder?.catch(() => undefined);
      expect(r.exitCode, `${change}: ${r.stderr}`).toBe(3);
      expect(r.stderr, change).toMatch(
        change === "replace"
          ? /is not the file this run made: another file is at that name/
          : change === "remove"
            ? /is not the file this run made: it is not there/
            : /it holds the new file/,
      );
      if (change === "remove") expect(existsSync(newPath)).toBe(false); // no empty database made at its name
      if (change === "exclusive holder") expect(took, "no busy wait under the primary's hold").toBeLessThan(4000);
      expect(sha256(db), change).toBe(before);
    }
  });

  it("an empty file (no table: the baseline in place) replaced by a file with rows, or given a table with a row, before the baseline step: refused (3), that file untouched", async () => {
    for (const change of ["replace", "write"] as const) {
      const dir = tmp();
      const db = join(dir, "vox.db");
      sqlite(db, "CREATE TABLE t(x); DROP TABLE t;");
      const { child, release } = await pausedAt(["cutover", "--db", db, "--apply"], "after:structure");
      if (change === "replace") renameSync(sample().db, db);
      else sqlite(db, "CREATE TABLE notes(x); INSERT INTO notes VALUES ('a row to keep');");
      const now = sha256(db);
      release();
      const r = await child;
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toMatch(
        change === "replace" ? /another file than the one this run was planned for/ : /holds 1 table\(s\) now: it was planned as a file without tables/,
      );
      expect(sha256(db)).toBe(now);
    }
  });

  it("killed between the archive's link and the rename, then another file put at the name: the resume refuses (3), nothing renamed", async () => {
    // The journal-trust test's killed run (point 5: its refusals left every file as the kill did), or a run killed here.
    let killed = killedAtSwapArchived;
    killedAtSwapArchived = undefined;
    if (!killed) {
      killed = sample();
      await killedAt(killed.db, "swap-archived");
    }
    const { dir, db } = killed;
    await replacedThenResumed(dir, db, /is neither the archived original .* nor the new file/);
    expect(existsSync(join(dir, ".vox.db.vox-cutover-new"))).toBe(true);
  });

  it("a dry-run's kept trial is not adopted for a file deleted and another copied in with its inode number, size and times", async () => {
    // ext4 gives the freed inode number to the next file made; another test file running beside this
    // one may take it first: then the scenario is made again (up to three times).
    let made: { db: string; env: { TMPDIR: string }; dry: Awaited<ReturnType<typeof cli>> } | null = null;
    for (let attempt = 0; attempt < 3 && !made; attempt++) {
      const { dir, db } = sample();
      const env = { TMPDIR: join(dir, "tmp") };
      mkdirSync(env.TMPDIR);
      const other = join(dir, "other.db");
      sameLooking(db, other);
      const dry = await cli(["cutover", "--db", db, "--json"], { env });
      expect(dry.exitCode, dry.stderr).toBe(0);
      const ino = statSync(db).ino;
      rmSync(db);
      await execa("cp", ["--preserve=timestamps", other, db]);
      if (statSync(db).ino === ino) made = { db, env, dry };
    }
    expect(made, "the freed inode number was taken by another file three times").not.toBeNull();
    const { db, env, dry } = made!;
    const apply = await cli(["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest, "--json"], { env });
    expect(apply.stderr).toMatch(/The dry-run's kept trial was not used \(it was made from another file at this path\)/);
    expect(apply.exitCode, apply.stderr).toBe(0);
    expect(sqlite(join(apply.json.workDir, "archive", "vox.db"), "SELECT count(*) FROM sqlite_master")).not.toBe("0");
  });

  it("on overlayfs (a container's own layer) the first write copies the file up, keeping its inode number but not its birth time: a resume after the application wrote goes on", async () => {
    const base = tmp();
    const [lower, upper, work, merged] = ["lower", "upper", "work", "merged"].map((d) => join(base, d));
    for (const d of [lower, upper, work, merged]) mkdirSync(d);
    const { db: src } = sample();
    cpSync(src, join(lower, "vox.db"));
    await execa("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
    try {
      const db = join(merged, "vox.db");
      await killedAt(db, "export-progress");
      const ino = statSync(db).ino;
      sqlite(db, "INSERT INTO names(namespace, name, hash) VALUES ('app', 'write', '1')"); // the application's write: the file copied up
      expect(statSync(db).ino).toBe(ino);
      const r = await cli(["cutover", "--db", db, "--resume", "--apply"]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(sqlite(db, "SELECT count(*) FROM names WHERE namespace = 'app'")).toBe("1");
    } finally {
      await execa("umount", [merged]);
    }
  });
});

describe("legacy_quarantine is append-only; import-legacy checks values as verify-backup does (point 7)", () => {
  /** Every quarantine row as Python's sqlite3 reads it (storage class and value), for an independent comparison. */
  async function quarantineRows(db: string): Promise<string[]> {
    const py =
      "import sqlite3,sys,json\nc=sqlite3.connect(sys.argv[1])\nfor r in c.execute('SELECT id, typeof(row_json), row_json, reason, source_table FROM legacy_quarantine ORDER BY id'): print(json.dumps(r))";
    return (await execa("python3", ["-c", py, db])).stdout.split("\n").filter(Boolean);
  }

  it("import-legacy --apply into a database that already went through a cutover keeps every quarantined row", async () => {
    // The cut-over sample the replaced-archive test (point 5) used: its rollbacks were refused before anything
    // moved, so the database is the one the cutover left (checked here), as after a cutover of its own.
    const { dir, db, cut, done } = await cutOverSample("archive");
    expect(done.exitCode, done.stderr).toBe(0);
    expect(sha256(db)).toBe(cut);
    const backup = join(dir, "again.jsonl");
    const ex = await sampleBackup(); // export-legacy of the same sample
    expect(ex.r.exitCode, ex.r.stderr).toBe(0);
    cpSync(ex.path, backup);
    const before = await quarantineRows(db);
    expect(before.length).toBeGreaterThan(0);
    const r = await cli(["import-legacy", backup, "--db", db, "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const after = await quarantineRows(db);
    for (const row of before) expect(after).toContain(row);
    // The import's misfits are the same rows the cutover already quarantined (same source, key, values,
    // reason): held once, not appended twice — and none of the earlier rows is gone.
    expect(Number(r.json.quarantined)).toBeGreaterThan(0);
    expect(after.length).toBe(before.length);
  });

  it("a value spelled non-canonically in a table headed for quarantine, hashes recomputed: verify-backup and import-legacy both refuse (3)", async () => {
    const dir = tmp();
    const backup = join(dir, "edited.jsonl");
    const ex = await sampleBackup(); // export-legacy of the same sample, copied before it is edited
    expect(ex.r.exitCode, ex.r.stderr).toBe(0);
    cpSync(ex.path, backup);
    await execa("python3", [join(import.meta.dirname, "tamper-backup.py"), backup, "user_bookmarks"]);
    const v = await cli(["verify-backup", backup]);
    expect(v.exitCode, v.stderr).toBe(3);
    expect(v.stderr).toMatch(/not in canonical form/);
    const target = join(dir, "target.db");
    const i = await cli(["import-legacy", backup, "--db", target, "--apply"]);
    expect(i.exitCode, i.stderr).toBe(3);
    expect(i.stderr).toMatch(/not in canonical form/);
    expect(existsSync(target)).toBe(false);
  });
});

describe("one home for safety: Stage 2 of the cutover checks the sidecar's holders like the sidecar command (point 9)", () => {
  it("a process holding the sidecar open: the cutover refuses (3) before the swap and the sidecar is not archived", async () => {
    const { dir, db, orig } = sample();
    const side = join(dir, "vox_training_telemetry.db");
    const sideSha = sha256(side);
    const holder = execa(
      "python3",
      [
        "-c",
        "import sqlite3,sys,time\nc=sqlite3.connect(sys.argv[1])\nc.execute('select count(*) from sqlite_master').fetchall()\nprint('ready', flush=True)\ntime.sleep(120)",
        side,
      ],
      { reject: false, stdin: "ignore" },
    );
    await new Promise<void>((res, rej) => {
      holder.stdout!.on("data", (d: Buffer) => (String(d).includes("ready") ? res() : undefined));
      holder.on("exit", () => rej(new Error("python exited")));
    });
    try {
      const r = await cli(["cutover", "--db", db, "--apply"]);
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toMatch(new RegExp(`pid ${holder.pid} [\\s\\S]*vox_training_telemetry\\.db`));
      expect(existsSync(side)).toBe(true);
      expect(sha256(db)).toBe(orig); // found before the swap: the primary is the original
      expect(sha256(side)).toBe(sideSha);
    } finally {
      holder.kill("SIGKILL");
      await holder;
    }
    const res = await cli(["cutover", "--db", db, "--resume", "--apply", "--json"]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(existsSync(side)).toBe(false);
    expect(sha256(join(res.json.workDir, "archive", "vox_training_telemetry.db"))).toBe(sideSha);
  });
});
