/**
 * Once per `vitest run`: a scratch folder every user can reach (each folder above it searchable by
 * others), for fixtures that must be run as another user or installed like a production copy
 * (test/fixtures/install.ts). It is made empty here and filled lazily by the first test file that
 * needs it, so a run of other files pays nothing; it is removed when the run ends. The run's locks
 * live in it too.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, chmodSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestProject } from "vitest/node";
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
 * The folder of the interpreter `python3` names on PATH, resolved once: a version manager's shim
 * (pyenv's is a bash script that works out the version on every call) cost ~0.5 s of CPU and up to
 * seconds of wall per call, and tests call python3 hundreds of times. Putting the interpreter's own
 * folder first on PATH keeps the very same python; the test processes inherit the PATH.
 */
export function pythonFirstOnPath(env: NodeJS.ProcessEnv = process.env): string | null {
  let exe: string;
  try {
    exe = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8", env }).trim();
  } catch {
    return null; // no python3: the tests that need it say so
  }
  if (!exe.startsWith("/")) return null;
  const dir = dirname(exe);
  const path = env.PATH ?? "";
  if (path.split(":")[0] !== dir) env.PATH = path ? `${dir}:${path}` : dir;
  return dir;
}

export default function setup(project: TestProject): () => void {
  pythonFirstOnPath();
  const base = [tmpdir(), "/tmp", "/var/tmp"].find(reachableByOthers) ?? tmpdir();
  made = mkdtempSync(join(base, "vox-test-run-"));
  chmodSync(made, 0o755);
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
