import { resolve } from "node:path";
import { defaultWorkDirName } from "../layout.js";

/** `vox-cutover-runs/<UTC timestamp>` beside the database (names: src/layout.ts; the guarded path picks a free one). */
function defaultWorkDir(dbPath: string | undefined, now = new Date()): string {
  return defaultWorkDirName(dbPath ?? resolve(process.cwd(), "app.db"), now);
}

export function resolveWorkDir(opt: unknown, dbPath: string | undefined): string {
  return typeof opt === "string" && opt ? resolve(opt) : defaultWorkDir(dbPath);
}
