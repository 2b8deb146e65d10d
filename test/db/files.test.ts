import { describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { writeTransactionInto } from "../../src/db/files.js";
import { allRows } from "../../src/db/local.js";
import { tmp } from "../helpers.js";

// Peak RSS (issue 18): the loading connection's page cache also bounds SQLite's sorter (an index
// build keeps up to cache_size of keys in memory), so the build holds up to twice it. 16 MB put the
// 1 GB cutover at the 200 MB line; this guards the smaller size without a timed test.
describe("a private new file's loading connection", () => {
  it.each([false, true])("has a page cache of at most 8 MiB (readers beside: %s)", async (readersBeside) => {
    const dir = tmp();
    try {
      const cache = await writeTransactionInto({ path: join(dir, "new.db"), mode: "scratch", tag: "cachetest", fast: true, readersBeside }, (db) =>
        Number(allRows(db, "PRAGMA main.cache_size")[0]!.cache_size),
      );
      // Negative: KiB; positive: pages (of at most 64 KiB each).
      const kib = cache < 0 ? -cache : cache * 64;
      expect(kib).toBeGreaterThanOrEqual(2048); // not below SQLite's default
      expect(kib).toBeLessThanOrEqual(8192);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
