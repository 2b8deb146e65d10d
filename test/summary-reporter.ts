import type { Reporter } from "vitest/node";

type AnyTask = { type: string; mode?: string; result?: { state?: string }; tasks?: AnyTask[] };

/** Prints the plain closing line CI reads in any language: `N passed, N failed[, N skipped]`, last. */
export default class SummaryReporter implements Reporter {
  onFinished(files: AnyTask[] = []): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const walk = (t: AnyTask) => {
      if (t.type === "test") {
        const s = t.result?.state;
        if (s === "pass") passed++;
        else if (s === "fail") failed++;
        else skipped++;
      }
      for (const c of t.tasks ?? []) walk(c);
    };
    for (const f of files) {
      walk(f);
      if (f.result?.state === "fail" && !(f.tasks ?? []).length) failed++; // a file that failed to load
    }
    setImmediate(() => process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`));
  }
}
