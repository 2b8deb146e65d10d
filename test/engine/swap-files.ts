/** What the swap tests (fold-swap, import-swap, cutover) share: an independent reader, a fresh copy of a template, the newest run folder. */
import { execaSync } from "execa";
import { copyFileSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { sha256, tmp } from "../helpers.js";

/**
 * One query through Python's sqlite3 (an independent reader): rows as repr lines. It reads a copy
 * of the file and its -wal, so that looking never changes the file under test (opening a WAL file
 * creates and removes its -wal, which a content version rightly counts as a change).
 */
export function py(db: string, sql: string): string {
  const copy = join(tmp(), "read.db");
  copyFileSync(db, copy);
  if (existsSync(`${db}-wal`)) copyFileSync(`${db}-wal`, `${copy}-wal`);
  const code = "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nfor r in c.execute(sys.argv[2]): print(repr(r))";
  return execaSync("python3", ["-c", code, copy, sql]).stdout;
}

/** A copy of `template` as vox.db in a new folder, and its sha256. */
export function freshCopy(template: string): { dir: string; db: string; orig: string } {
  const dir = tmp();
  const db = join(dir, "vox.db");
  copyFileSync(template, db);
  return { dir, db, orig: sha256(db) };
}

/** The newest run folder beside the database in `dir`. */
export function runDir(dir: string): string {
  const root = join(dir, "vox-cutover-runs");
  return join(root, readdirSync(root).sort().at(-1)!);
}
