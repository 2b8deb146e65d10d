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
