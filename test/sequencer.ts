/**
 * The order test files start in: the longest first, so that no long file starts near the end and
 * makes the run's tail (two workers on two cores; the last of the 86 files to start decides when
 * the run ends).
 *
 * vitest's own order (BaseSequencer) uses the durations it cached from the last run; a fresh clone,
 * as CI runs, has none, and vitest then starts the larger source files first — which put
 * lint.test (50 s, 2 kB of source) 73rd of 86. Here a file's expected seconds are its cached
 * duration when vitest has one, else the figure in test/file-seconds.json (measured on a whole
 * run: see that file), else none: such files come after, larger source first as vitest does.
 * test/sequencer.test.ts holds the list to files that exist.
 */
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** test/file-seconds.json: `[path from the repo root, seconds]` pairs, longest first. */
export function listedSeconds(root: string): Map<string, number> {
  const rows = JSON.parse(readFileSync(join(root, "test", "file-seconds.json"), "utf8")) as { files: [string, number][] };
  return new Map(rows.files);
}

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const listed = listedSeconds(root);
    const seconds = (f: TestSpecification): number | undefined => {
      const rel = relative(root, f.moduleId);
      const cached = this.ctx.cache.getFileTestResults(`${f.project.name}:${rel}`)?.duration;
      return cached !== undefined ? cached / 1000 : listed.get(rel);
    };
    const size = (f: TestSpecification): number => this.ctx.cache.getFileStats(`${f.project.name}:${relative(root, f.moduleId)}`)?.size ?? 0;
    return [...files].sort((a, b) => {
      const sa = seconds(a);
      const sb = seconds(b);
      if (sa !== undefined && sb !== undefined && sa !== sb) return sb - sa;
      if (sa !== undefined && sb === undefined) return -1;
      if (sb !== undefined && sa === undefined) return 1;
      return size(b) - size(a);
    });
  }
}
