/**
 * The holder scan (src/safety/holders.ts) and a process it may list but not look into: the kernel
 * checks access to a process's descriptors for the whole process, so after the first denied one the
 * scan moves on. A container's init is such a process (this sandbox's PID 1: ~275 descriptors it lists
 * but never lets read); an apply scans eight to ten times.
 */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { execa } from "execa";
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { ROOT, cleanEnv, tmp } from "../helpers.js";

/** A process whose descriptors this one can list but not read (at least two of them), or null. */
function listedButDenied(): { pid: string; fds: number } | null {
  for (const p of readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${p}/fd`);
    } catch {
      continue;
    }
    if (fds.length < 2) continue;
    try {
      readlinkSync(`/proc/${p}/fd/${fds[0]}`);
    } catch (e) {
      if ((e as { code?: string }).code === "EACCES" || (e as { code?: string }).code === "EPERM") return { pid: p, fds: fds.length };
    }
  }
  return null;
}

describe("the holder scan and a process it may not look into", () => {
  it("reads one of its descriptors, not every one, and still finds a real holder", async (ctx) => {
    const denied = listedButDenied();
    if (!denied) return ctx.skip("no process here lists its descriptors but denies reading them (a container's init does)");
    const db = join(tmp(), "vox.db");
    execFileSync("sqlite3", [db, "CREATE TABLE t(x)"]);
    // The scan in a process of its own, with fs.readlinkSync counted (syncBuiltinESMExports: the
    // module's named import sees the wrapper), while a sqlite3 shell holds the file open.
    const holders = pathToFileURL(join(ROOT, "dist", "src", "safety", "holders.js")).href;
    const script = `
      import fs from "node:fs";
      import { syncBuiltinESMExports } from "node:module";
      const orig = fs.readlinkSync;
      let n = 0;
      fs.readlinkSync = (p, ...rest) => { if (String(p).startsWith("/proc/${denied.pid}/fd/")) n++; return orig(p, ...rest); };
      syncBuiltinESMExports();
      const { openHolders } = await import(${JSON.stringify(holders)});
      const scan = openHolders(${JSON.stringify(db)}, null);
      console.log(JSON.stringify({ n, pids: scan.holders.map((h) => h.pid) }));
    `;
    const shell = execa("sqlite3", [db], { stdin: "pipe" });
    try {
      shell.stdin!.write("BEGIN; INSERT INTO t VALUES (1);\n");
      // The shell holds the file once its transaction has begun writing (its journal exists).
      for (const t0 = Date.now(); !existsSync(`${db}-journal`); await new Promise((r) => setTimeout(r, 10))) {
        if (Date.now() - t0 > 20_000 || shell.exitCode !== null) throw new Error(`the sqlite3 shell never wrote its journal: ${shell.exitCode}`);
      }
      const out = execFileSync("node", ["--input-type=module", "-e", script], { encoding: "utf8", env: cleanEnv() as NodeJS.ProcessEnv });
      const r = JSON.parse(out) as { n: number; pids: number[] };
      expect(r.n, `readlink calls on pid ${denied.pid}'s ${denied.fds} descriptors`).toBe(1);
      expect(r.pids).toContain(shell.pid);
    } finally {
      shell.kill("SIGKILL");
      await shell.catch(() => {});
    }
  });
});
