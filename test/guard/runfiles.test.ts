/**
 * Issue 16, points 5–9: the run's own files are checked before they are trusted, one lock per file
 * identity, an append-only quarantine, only regular files written, named faults, one home for
 * safety. Values are judged with the sqlite3 CLI and sha256 of the files.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { cpSync, existsSync, linkSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { BIN, cleanEnv, cli, sha256, sqlite, tmp } from "../helpers.js";

let template: string;
beforeAll(async () => {
  template = tmp();
  const r = await cli(["sample", join(template, "vox.db"), "--rows", "10"]);
  if (r.exitCode !== 0) throw new Error(r.stderr);
}, 60_000);

/** A fresh copy of the sample (vox.db and its sidecar) in a new folder. */
function sample(): { dir: string; db: string; orig: string } {
  const dir = tmp();
  for (const f of readdirSync(template)) cpSync(join(template, f), join(dir, f), { recursive: true });
  const db = join(dir, "vox.db");
  return { dir, db, orig: sha256(db) };
}

/** Starts a command paused at `point` (VOX_CUTOVER_PAUSE_AT); resolves when it is there. */
async function pausedAt(args: string[], point: string) {
  const marker = join(tmp(), "paused");
  const child = execa("node", [BIN, ...args], { env: cleanEnv({ VOX_CUTOVER_PAUSE_AT: point, VOX_CUTOVER_PAUSE_FILE: marker }), extendEnv: false, reject: false, stdin: "ignore" });
  const t0 = Date.now();
  while (!existsSync(marker)) {
    if (Date.now() - t0 > 60_000) throw new Error(`never reached ${point}`);
    if (child.exitCode !== null) throw new Error(`exited before ${point}: ${(await child).stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child };
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
  it("two cutovers through two hard links to one file: the second is refused (3) naming the first", async () => {
    const { dir, db, orig } = sample();
    const other = join(dir, "other-folder");
    mkdirSync(other);
    const link = join(other, "same-file.db");
    linkSync(db, link);
    const { child: first } = await pausedAt(["cutover", "--db", db, "--apply"], "after:lock");
    try {
      const second = await cli(["cutover", "--db", link, "--apply"]);
      expect(second.exitCode, second.stderr).toBe(3);
      expect(second.stderr).toMatch(/hard link/);
      expect(second.stderr).toMatch(new RegExp(`pid ${first.pid}`));
      expect(sha256(link)).toBe(orig);
      expect(existsSync(join(other, "vox-cutover-runs"))).toBe(false);
    } finally {
      first.kill("SIGKILL");
      await first;
    }
  });

  it("rollback and --break-lock never take over a live holder's lock (a sidecar --merge still running)", async () => {
    const { db } = sample();
    const done = await cli(["cutover", "--db", db, "--apply", "--json"]);
    expect(done.exitCode, done.stderr).toBe(0);
    const afterCutover = sha256(db);
    const archive = done.json.archive.path as string;
    const archived = sha256(archive);
    const pid = liveProcess();
    const lockFile = `${db}.vox-cutover.lock`;
    writeFileSync(lockFile, JSON.stringify({ pid, host: hostname(), startedAt: new Date().toISOString(), command: "sidecar", runId: "live-merge", workDir: "/elsewhere" }));
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
    const { db, orig } = sample();
    const done = await cli(["cutover", "--db", db, "--apply", "--json"]);
    expect(done.exitCode, done.stderr).toBe(0);
    const s = execa("true", [], { reject: false });
    await s;
    writeFileSync(`${db}.vox-cutover.lock`, JSON.stringify({ pid: s.pid, host: hostname(), startedAt: new Date().toISOString(), command: "sidecar", runId: "dead", workDir: "/elsewhere" }));
    const rb = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(rb.exitCode, rb.stderr).toBe(0);
    expect(sha256(db)).toBe(orig);
    expect(existsSync(`${db}.vox-cutover.lock`)).toBe(false);
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
    expect(existsSync(`${db}.vox-cutover.lock`)).toBe(false);
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
      cpSync(join(template, "vox.db"), join(mnt, "vox.db"));
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

  it("a file-size limit (ulimit -f) is named, not 'disk I/O error' or 'Unexpected failure'", async () => {
    const { db, orig } = sample();
    const r = await execa("bash", ["-c", `ulimit -f 2200; exec node ${BIN} cutover --db '${db}' --apply`], { env: cleanEnv(), extendEnv: false, reject: false });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/past the largest size this process may write \(ulimit -f: 2252800 bytes\)/);
    expect(r.stderr).toMatch(/Journal phase: before the swap/);
    expect(r.stderr).not.toMatch(/Unexpected failure/);
    expect(sha256(db)).toBe(orig);
  });

  it("the folder made read-only at the swap (lost permission): phase and what is where, never 'Nothing was changed'; resume finishes", async () => {
    const { dir, db, orig } = sample();
    await execa("chmod", ["755", dir]);
    await execa("chown", ["-R", "nobody", dir]);
    const marker = join(tmp(), "paused");
    await execa("chmod", ["777", join(marker, "..")]);
    const asNobody = (args: string[], env: Record<string, string> = {}) =>
      execa("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "node", BIN, ...args], { env: cleanEnv({ HOME: "/tmp", ...env }), extendEnv: false, reject: false, stdin: "ignore" });
    const child = asNobody(["cutover", "--db", db, "--apply"], { VOX_CUTOVER_PAUSE_AT: "swap-archived", VOX_CUTOVER_PAUSE_FILE: marker, VOX_CUTOVER_PAUSE_MS: "3000" });
    while (!existsSync(marker)) {
      if (child.exitCode !== null) throw new Error((await child).stderr);
      await new Promise((r) => setTimeout(r, 20));
    }
    await execa("chmod", ["555", dir]);
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
