import { existsSync, lstatSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/** A database's identity: its real path (symbolic links resolved) and its device + inode. */
export interface DbIdentity {
  /** The path as resolved by the command (may be a symbolic link). */
  path: string;
  real: string;
  dev: string | null;
  ino: string | null;
  exists: boolean;
  isLink: boolean;
  mode: number | null;
  uid: number | null;
  gid: number | null;
}

/** The real path of a file that may not exist yet (its nearest existing folder resolved). */
export function realPathOf(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    if (parent === abs) return abs;
    // A dangling link: its target, else the real folder + the name.
    try {
      if (lstatSync(abs).isSymbolicLink()) return abs;
    } catch {
      /* not there */
    }
    return join(realPathOf(parent), basename(abs));
  }
}

export function identify(path: string): DbIdentity {
  const abs = resolve(path);
  const real = realPathOf(abs);
  let isLink = false;
  try {
    isLink = lstatSync(abs).isSymbolicLink();
  } catch {
    /* missing */
  }
  if (!existsSync(real)) return { path: abs, real, dev: null, ino: null, exists: false, isLink, mode: null, uid: null, gid: null };
  const st = statSync(real, { bigint: true });
  return {
    path: abs,
    real,
    dev: String(st.dev),
    ino: String(st.ino),
    exists: true,
    isLink,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
}

export function inodeOf(path: string): { dev: string; ino: string } | null {
  try {
    const st = statSync(path, { bigint: true });
    return { dev: String(st.dev), ino: String(st.ino) };
  } catch {
    return null;
  }
}

/**
 * Whether the file at `path` is the one `was` names (device + inode: a run's starting file, kept in its
 * journal); null when `was` names none (a journal of an older version). Missing: false.
 */
export function sameFileAs(was: { dev?: string | null; ino?: string | null } | null | undefined, path: string): boolean | null {
  if (!was?.dev || !was.ino) return null;
  const now = inodeOf(path);
  return Boolean(now && now.dev === was.dev && now.ino === was.ino);
}

export function sameInode(a: string, b: string): boolean {
  const x = inodeOf(a);
  const y = inodeOf(b);
  return Boolean(x && y && x.dev === y.dev && x.ino === y.ino);
}
