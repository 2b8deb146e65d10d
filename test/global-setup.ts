/**
 * Once per `vitest run`: a scratch folder every user can reach (each folder above it searchable by
 * others), for fixtures that must be run as another user or installed like a production copy
 * (test/fixtures/install.ts). It is made empty here and filled lazily by the first test file that
 * needs it, so a run of other files pays nothing; it is removed when the run ends.
 */
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

export default function setup(project: TestProject): () => void {
  const base = [tmpdir(), "/tmp", "/var/tmp"].find(reachableByOthers) ?? tmpdir();
  made = mkdtempSync(join(base, "vox-test-run-"));
  chmodSync(made, 0o755);
  project.provide("sharedScratch", made);
  return () => {
    if (made) rmSync(made, { recursive: true, force: true });
  };
}
