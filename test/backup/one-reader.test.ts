/**
 * The wizard's engine thread reads its exports on one thread (src/ui/worker.ts → readExportsOnOneThread,
 * issue 18: the wizard's peak RSS); the commands keep the second reader for a large rollback-journal file.
 */
import { afterEach, describe, expect, it } from "vitest";
import { availableParallelism } from "node:os";
import { readExportsOnOneThread, twoReadersFor } from "../../src/backup/export-workers.js";
import type { ProbeResult } from "../../src/db/probe.js";

const journalFile = { state: "ok", header: { walMode: false } } as unknown as ProbeResult;

describe("readExportsOnOneThread", () => {
  afterEach(() => readExportsOnOneThread(false));

  it("turns the second reader off for this thread's exports, and back on", () => {
    const big = 1 << 30;
    expect(twoReadersFor(big, journalFile, 32 << 20)).toBe(availableParallelism() >= 2);
    readExportsOnOneThread(true);
    expect(twoReadersFor(big, journalFile, 32 << 20)).toBe(false);
    expect(twoReadersFor(big, journalFile, 0)).toBe(false); // whatever the threshold
    readExportsOnOneThread(false);
    expect(twoReadersFor(big, journalFile, 32 << 20)).toBe(availableParallelism() >= 2);
  });
});
