/**
 * A killed run's lock file stays, and the kernel gives its pid to other processes later (pids wrap):
 * the lock records its holder's process as Linux knows it (boot id, start tick), so a live process
 * that merely has the pid now is not taken for the holder (src/safety/lock.ts). The contract: no
 * command takes over a lock whose holder is alive; a dead holder's lock is taken over and reported.
 */
import { afterAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { cli, dist, sampleInto, tmp } from "../helpers.js";

type LockModule = typeof import("../../src/safety/lock.js");

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
});

/** A live process that is not a cutover (its pid stands for "someone else has the pid now"). */
function bystander(): number {
  const c = spawn("sleep", ["60"], { stdio: "ignore" });
  children.push(c);
  return c.pid!;
}

/** Linux's identity of process `pid`: this boot's id and its start tick (/proc/PID/stat field 22). */
function identity(pid: number): { boot: string; start: string } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return {
    boot: readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim(),
    start: stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!,
  };
}

/** A lock file on the sample's database naming the live `pid` (and `proc`, when given), as a cutover writes it. */
async function lockNaming(db: string, pid: number, proc?: { boot: string; start: string }): Promise<void> {
  const { lockFileOf } = await dist<LockModule>("safety/lock.js");
  const holder = {
    pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command: "cutover",
    runId: "00000000-0000-4000-8000-000000000000",
    workDir: "/nowhere",
    ...(proc ? { proc } : {}),
  };
  writeFileSync(lockFileOf(db), JSON.stringify(holder), { mode: 0o644 });
}

const lockStep = (json: any) => json.steps.find((s: any) => s.id === "lock");

describe("a lock whose pid another process has now", () => {
  it("the lock a cutover writes records its process (boot id, start tick)", async () => {
    const { acquireLock, readLock } = await dist<LockModule>("safety/lock.js");
    const { db } = await sampleInto(tmp("vox-lockid-"), 10);
    const lock = acquireLock(db, { command: "cutover", runId: "11111111-1111-4111-8111-111111111111", workDir: "/nowhere" });
    try {
      expect(readLock(db)?.proc).toEqual(identity(process.pid));
    } finally {
      lock.release();
    }
  });

  it("recorded as another process (its start differs): the holder is gone, its lock is taken over and reported; the run goes on", async () => {
    const { db } = await sampleInto(tmp("vox-lockid-"), 10);
    const pid = bystander();
    await lockNaming(db, pid, { ...identity(pid), start: String(Number(identity(pid).start) - 1) });
    const r = await cli(["cutover", "--db", db, "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(lockStep(r.json).summary).toContain(`(a stale lock of pid ${pid} on ${hostname()} from `);
  });

  it("recorded as that very process, or a lock of an older version that recorded no process: its holder is alive, refused (3), --break-lock included", async () => {
    for (const withProc of [true, false]) {
      const { db } = await sampleInto(tmp("vox-lockid-"), 10);
      const pid = bystander();
      await lockNaming(db, pid, withProc ? identity(pid) : undefined);
      for (const extra of [[], ["--break-lock"]]) {
        const r = await cli(["cutover", "--db", db, "--apply", ...extra]);
        expect(r.exitCode, r.stderr).toBe(3);
        expect(r.stderr).toContain(`Another cutover holds the lock on this database: pid ${pid} on ${hostname()}`);
      }
    }
  });
});
