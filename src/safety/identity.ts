import { existsSync, lstatSync, realpathSync, statfsSync, statSync, type BigIntStats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/** A database's identity: its real path (symbolic links resolved), its device + inode and, where the filesystem keeps one, its birth time. */
export interface DbIdentity {
  /** The path as resolved by the command (may be a symbolic link). */
  path: string;
  real: string;
  dev: string | null;
  ino: string | null;
  /** bornOf: the birth time in ns, null where it tells nothing. */
  born: string | null;
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
  if (!existsSync(real)) return { path: abs, real, dev: null, ino: null, born: null, exists: false, isLink, mode: null, uid: null, gid: null };
  const st = statSync(real, { bigint: true });
  return {
    path: abs,
    real,
    dev: String(st.dev),
    ino: String(st.ino),
    born: bornOf(st, real),
    exists: true,
    isLink,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
}

/**
 * A file's birth time (ns) where it tells one file from another: a filesystem that keeps one (ext4,
 * XFS, btrfs, tmpfs: statx's btime) gives a time no write moves, so a file deleted and another copied
 * in that got its inode number back (ext4 hands a freed inode out again at once) is told apart by it.
 * Where there is none, libuv reports 0 (statx without a btime) or the change time (no statx), which
 * every write moves: a birth time equal to the change time is not kept (it could be either; a file
 * written since it was made, as a live database is, has a later change time). Nor on overlayfs (a
 * container's own layer): the first write to a file of a lower layer copies it up, keeping its inode
 * number but not its birth time.
 */
function bornOf(st: BigIntStats, path: string): string | null {
  if (st.birthtimeNs <= 0n || st.birthtimeNs === st.ctimeNs) return null;
  try {
    if (statfsSync(path).type === OVERLAYFS_MAGIC) return null;
  } catch {
    return null;
  }
  return String(st.birthtimeNs);
}

/** statfs's f_type of overlayfs (linux/magic.h OVERLAYFS_SUPER_MAGIC). */
const OVERLAYFS_MAGIC = 0x794c7630;

/** A birth time in ns as an ISO time (to the millisecond). */
export const bornIso = (ns: bigint | string): string => new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();

export function inodeOf(path: string): { dev: string; ino: string } | null {
  try {
    const st = statSync(path, { bigint: true });
    return { dev: String(st.dev), ino: String(st.ino) };
  } catch {
    return null;
  }
}

/** The birth time (ns) the filesystem reports for the file at `path` (0: none, or the file is not there). */
export function birthNsOf(path: string): bigint {
  try {
    return statSync(path, { bigint: true }).birthtimeNs;
  } catch {
    return 0n;
  }
}

/**
 * Whether the file at `path` is the one `was` names (a run's starting file, kept in its journal): the
 * same device + inode and, where its birth time was kept (bornOf), the same birth time; null when `was`
 * names none (a journal of an older version). Missing: false.
 */
export function sameFileAs(was: { dev?: string | null; ino?: string | null; born?: string | null } | null | undefined, path: string): boolean | null {
  if (!was?.dev || !was.ino) return null;
  const now = inodeOf(path);
  if (!now || now.dev !== was.dev || now.ino !== was.ino) return false;
  const birth = birthNsOf(path);
  return !was.born || birth === 0n || String(birth) === was.born;
}

export function sameInode(a: string, b: string): boolean {
  const x = inodeOf(a);
  const y = inodeOf(b);
  return Boolean(x && y && x.dev === y.dev && x.ino === y.ino);
}
