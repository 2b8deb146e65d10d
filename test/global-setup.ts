/**
 * Once per `vitest run`: a scratch folder every user can reach (each folder above it searchable by
 * others), for fixtures that must be run as another user or installed like a production copy
 * (test/fixtures/install.ts). It is made empty here and filled lazily by the first test file that
 * needs it, so a run of other files pays nothing; it is removed when the run ends. The run's locks
 * live in it too.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, rmSync, chmodSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestProject } from "vitest/node";
import { shellQuote } from "../src/util/shell.js";
import type {} from "./fixtures/install.js"; // the `sharedScratch` it provides is typed there

/** True when every folder from `dir` up to `/` lets other users through (o+x). */
export function reachableByOthers(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (dirname(d) === d) return true;
  }
}

let made: string | undefined;

/**
 * `python3` for this run's processes: the interpreter `python3` names on PATH, resolved once and
 * started with `-S` by a wrapper in `binDir`, which goes first on PATH (the tests and the processes
 * they start inherit it). Two costs per call, and tests call python3 ~400 times a run:
 * - a version manager's shim (pyenv's is a bash script that works out the version on every call):
 *   ~0.5 CPU-s and up to seconds of wall a call;
 * - `site`: a `.pth` file in site-packages runs at every start (this sandbox's imports certifi to add
 *   its egress proxy's CA): 0.08–0.11 CPU-s a start against ~0.03 with `-S` (session 34). The tests'
 *   Python uses the standard library alone (sqlite3, json, hashlib, struct), which `-S` keeps.
 * The very same interpreter runs; where it cannot import sqlite3 without `site`, the wrapper leaves
 * `-S` out. Nothing is put on PATH when there is no python3 (the tests that need it say so).
 */
export function pythonWrapperFirstOnPath(binDir: string, env: NodeJS.ProcessEnv = process.env): void {
  let exe: string;
  try {
    exe = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8", env }).trim();
  } catch {
    return;
  }
  if (!exe.startsWith("/")) return;
  let flags = "-S";
  try {
    execFileSync(exe, ["-S", "-c", "import sqlite3, json, hashlib"], { env, stdio: "ignore" });
  } catch {
    flags = "";
  }
  const path = env.PATH ?? "";
  // A user who cannot reach that interpreter (a test run as another user; pyenv's lives under root's
  // 0700 home) gets the python3 it would have found on PATH: the first one every user can reach.
  const fallback = path
    .split(":")
    .filter(Boolean)
    .map((d) => join(d, "python3"))
    .find((f) => reachableByOthers(dirname(f)) && existsSync(f) && (statSync(f).mode & 0o001) !== 0);
  const otherwise = fallback ? `exec ${shellQuote(fallback)} "$@"` : `echo "python3: ${exe} is not reachable for this user" >&2; exit 126`;
  mkdirSync(binDir, { recursive: true, mode: 0o755 });
  const wrapper = join(binDir, "python3");
  writeFileSync(wrapper, `#!/bin/sh\n[ -x ${shellQuote(exe)} ] && exec ${shellQuote(exe)} ${flags} "$@"\n${otherwise}\n`, { mode: 0o755 });
  chmodSync(wrapper, 0o755);
  env.PATH = path ? `${binDir}:${path}` : binDir;
}

export default function setup(project: TestProject): () => void {
  const base = [tmpdir(), "/tmp", "/var/tmp"].find(reachableByOthers) ?? tmpdir();
  made = mkdtempSync(join(base, "vox-test-run-"));
  chmodSync(made, 0o755);
  pythonWrapperFirstOnPath(join(made, "bin"));
  project.provide("sharedScratch", made);
  // The run's own lock folder (src/safety/lock.ts makes it, sticky and open to every user): a lock
  // left by a killed earlier run, or held by a bench or a cutover elsewhere on this machine for a
  // file whose inode number a test's file now has, cannot refuse this run's swaps. The test
  // processes inherit it (test/helpers.ts cleanEnv keeps it; tmux sessions are given it).
  process.env.VOX_CUTOVER_LOCK_DIR ??= join(made, "locks");
  return () => {
    if (made) rmSync(made, { recursive: true, force: true });
  };
}
