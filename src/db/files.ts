import { existsSync, renameSync, rmSync } from "node:fs";

/** The files SQLite keeps beside a database. */
export const DB_SIDE_FILES = ["-wal", "-shm", "-journal"] as const;

/** Moves a database file together with whichever of its -wal/-shm/-journal exist (renames: nothing is copied or deleted). */
export function moveDatabaseFiles(from: string, to: string): void {
  renameSync(from, to);
  for (const s of DB_SIDE_FILES) if (existsSync(from + s)) renameSync(from + s, to + s);
}

/** Removes one of this product's own temporary database files and its companions (never a user's file). */
export function removeOwnDatabaseFiles(path: string): void {
  for (const s of ["", ...DB_SIDE_FILES]) rmSync(path + s, { force: true });
}
