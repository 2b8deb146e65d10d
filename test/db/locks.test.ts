/**
 * A rollback journal is hot only when its writer is gone (src/db/locks.ts, local.ts hotJournal): a
 * program still inside its write transaction (here Python's sqlite3, its page cache spilled so the
 * journal carries its header and the program holds SQLite's EXCLUSIVE lock) keeps a live journal, which
 * the tool must not call a crash; the same journal left by a killed writer is hot. The lock is judged
 * by the kernel's own list (/proc/locks), read here too.
 */
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { hotJournal } from "../../src/db/local.js";
import { writerHoldsLock } from "../../src/db/locks.js";
import { tmp } from "../helpers.js";

/** Python: a writer inside its transaction with a journal on disk; it says "held", then waits. */
const WRITER = `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('create table t(a)'); c.execute('insert into t values (1)')
c.execute('pragma cache_size=1'); c.execute('begin immediate')
for i in range(3000): c.execute('insert into t values (?)', ('y' * 200,))
print('held', flush=True)
sys.stdin.read()
`;

describe.runIf(process.platform === "linux")("a live writer's journal is not a hot one", () => {
  it("while the writer holds its lock: live (not hot); once it is killed mid-transaction: hot", async () => {
    const db = join(tmp(), "vox.db");
    const writer = execa("python3", ["-c", WRITER, db], { stdin: "pipe" });
    try {
      await new Promise<void>((resolve) => writer.stdout!.on("data", (d: Buffer) => String(d).includes("held") && resolve()));
      expect(readFileSync(`${db}-journal`).subarray(0, 8).toString("hex")).toBe("d9d505f920a163d7"); // a journal with its header
      expect(readFileSync("/proc/locks", "utf8")).toMatch(new RegExp(`WRITE\\s+${writer.pid}\\s`));
      expect(writerHoldsLock(db)).toBe(true);
      expect(hotJournal(db)).toBe(false);
    } finally {
      writer.kill("SIGKILL");
      await writer.catch(() => {});
    }
    // Killed inside its transaction: the journal stays, no process holds the lock: hot.
    expect(writerHoldsLock(db)).toBe(false);
    expect(hotJournal(db)).toBe(true);
  });

  it("a journal that changes between looks (a writer's comes and goes: a commit deletes it, the next transaction writes another) is not hot, even if no lock is seen at the moment of a look", async () => {
    const db = join(tmp(), "vox.db");
    const writer = execa("python3", ["-c", WRITER, db], { stdin: "pipe" });
    await new Promise<void>((resolve) => writer.stdout!.on("data", (d: Buffer) => String(d).includes("held") && resolve()));
    writer.kill("SIGKILL");
    await writer.catch(() => {});
    expect(hotJournal(db)).toBe(true); // left by a killed writer, unchanged
    // The same journal put at its name again and again (a new file each time), by a process holding no lock.
    const churn = execa("python3", ["-c", CHURN, `${db}-journal`], { stdin: "pipe" });
    try {
      await new Promise<void>((resolve) => churn.stdout!.on("data", () => resolve()));
      for (let i = 0; i < 10; i++) expect(hotJournal(db)).toBe(false);
    } finally {
      churn.kill("SIGKILL");
      await churn.catch(() => {});
    }
    expect(hotJournal(db)).toBe(true);
  });
});

const CHURN = `
import os, shutil, sys, time
j = sys.argv[1]
shutil.copyfile(j, j + ".copy")
print("churning", flush=True)
while True:
    shutil.copyfile(j + ".copy", j + ".next")
    os.replace(j + ".next", j)
    time.sleep(0.002)
`;
