import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { failed, refused } from "../errors.js";
import { readCatalogSync } from "../db/catalog.js";
import { allRows, openReadOnly, type LibsqlDatabase } from "../db/local.js";
import { quoteIdent, quoteString } from "../db/value.js";

export interface SnapshotResult {
  path: string;
  sha256: string;
  counts: Record<string, bigint>;
  integrity: string;
}

export function tableCounts(db: LibsqlDatabase): Record<string, bigint> {
  const counts: Record<string, bigint> = {};
  for (const t of readCatalogSync(db)) {
    if (t.virtual) continue;
    counts[t.name] = allRows(db, `SELECT count(*) AS n FROM ${quoteIdent(t.name)}`)[0]!.n as bigint;
  }
  return counts;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest("hex");
}

/**
 * A consistent copy of a database made with VACUUM INTO, then proved: integrity_check on the copy
 * and every table's row count equal to the source's. Call it while holding the database's write lock.
 */
export async function snapshotAndVerify(sourcePath: string, outPath: string): Promise<SnapshotResult> {
  if (existsSync(outPath)) {
    throw refused({
      what: `The snapshot path ${outPath} already exists.`,
      untouched: "The database and the existing file were left untouched.",
      next: "Choose another --backup path or --work-dir.",
    });
  }
  const src = openReadOnly(sourcePath);
  let counts: Record<string, bigint>;
  try {
    // VACUUM INTO cannot run inside a transaction: the caller holds the write lock (BEGIN IMMEDIATE
    // on its own connection), so the counts and the copy see the same state.
    counts = tableCounts(src);
    src.exec(`VACUUM INTO ${quoteString(outPath)}`);
  } catch (e) {
    throw failed({
      what: `Could not write the snapshot ${outPath}: ${e instanceof Error ? e.message : String(e)}.`,
      untouched: "The database was not changed.",
      next: "Check free space and permissions of the work dir, then run again.",
    });
  } finally {
    src.close();
  }
  const copy = openReadOnly(outPath);
  try {
    const integrity = allRows(copy, "PRAGMA integrity_check").map((r) => String(Object.values(r)[0])).join("; ");
    const copyCounts = tableCounts(copy);
    const diff = Object.keys(counts).find((t) => copyCounts[t] !== counts[t]);
    if (integrity !== "ok" || diff) {
      throw refused({
        what: `The snapshot ${outPath} did not verify: ${integrity !== "ok" ? `integrity_check says ${integrity}` : `table ${diff} has ${copyCounts[diff!]} rows in the copy, ${counts[diff!]} in the database`}.`,
        untouched: "The database was not changed.",
        next: "Free disk space or choose another --work-dir, then run again.",
      });
    }
    return { path: outPath, sha256: await sha256File(outPath), counts, integrity };
  } finally {
    copy.close();
  }
}
