import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** `vox-cutover-runs/<UTC timestamp>` beside the database (or beside the cwd for remote). */
export function defaultWorkDir(dbPath: string | undefined, now = new Date()): string {
  const base = dbPath ? dirname(dbPath) : process.cwd();
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return join(base, "vox-cutover-runs", stamp);
}

export function resolveWorkDir(opt: unknown, dbPath: string | undefined): string {
  return typeof opt === "string" && opt ? resolve(opt) : defaultWorkDir(dbPath);
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
}
