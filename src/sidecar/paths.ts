/** Where the sidecar is, and the rule that it is never the primary (nor a link to it, nor one of its files). */
import { realpathSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { SIDECAR_NAME } from "../layout.js";
import { refused } from "../errors.js";

export function sidecarPathFor(dbPath: string, opt?: string): string {
  return opt ? resolve(opt) : join(dirname(dbPath), SIDECAR_NAME);
}

function identityOf(path: string): { real: string; dev: number; ino: number } | null {
  try {
    const st = statSync(path);
    return { real: realpathSync(path), dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

/**
 * Refuses (exit 3) a sidecar path that is the primary itself, a symbolic or hard link to it, or one
 * of its -wal/-shm/-journal files: archiving it would move the live database away.
 */
export function assertNotPrimary(sidecarPath: string, dbPath: string): void {
  const side = identityOf(sidecarPath);
  const prim = identityOf(dbPath);
  const sameFile = side && prim && (side.real === prim.real || (side.dev === prim.dev && side.ino === prim.ino));
  const primReal = prim?.real ?? resolve(dbPath);
  const sideReal = side?.real ?? resolve(sidecarPath);
  const sideFile = ["-wal", "-shm", "-journal"].some((s) => sideReal === primReal + s || resolve(sidecarPath) === resolve(dbPath) + s);
  const itself = resolve(sidecarPath) === resolve(dbPath);
  if (sameFile || sideFile || itself) {
    const what = sideFile
      ? "one of the database's own -wal/-shm/-journal files"
      : itself
        ? "the database itself"
        : side!.real === prim!.real
          ? "a link to the database"
          : "a hard link to the database";
    throw refused({
      what: `--sidecar ${sidecarPath} is ${what} ${dbPath}: archiving it would move the live database away.`,
      untouched: "Nothing was changed.",
      next: `Pass the sidecar file (${SIDECAR_NAME}, usually beside the database), or leave --sidecar out.`,
      details: { sidecar: sidecarPath, db: dbPath },
    });
  }
}
