/**
 * What a consistent read holds (docs/safety.md, "what is held when"). Every reader holds one read
 * transaction from its first row to its last (src/db/local.ts, openReadOnly). In WAL mode that costs
 * an application nothing: it keeps writing into the -wal. In rollback-journal mode the read
 * transaction is SQLite's SHARED lock on the file, and a writer needs EXCLUSIVE to commit: an
 * application's writes wait (its busy timeout) or fail with "database is locked" until the read
 * ends. The operator is told so, in one line, while it happens.
 */
import { probeFile } from "../db/probe.js";

/** The line to show while `what` reads `dbPath` under one snapshot, or null (WAL mode: writers are not held up). */
export function sharedLockNote(dbPath: string, what: string): string | null {
  const p = probeFile(dbPath);
  if (p.state !== "ok" || p.header.walMode) return null;
  return `${dbPath} is in rollback-journal mode: ${what} holds SQLite's shared lock for one consistent snapshot, so the application's writes wait (or fail with "database is locked") until it ends.`;
}
