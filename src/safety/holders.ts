import { descriptorsOf } from "../db/raw-fd.js";
import { sleepSync } from "../util/sleep.js";
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { basename } from "node:path";
import { escapeControls } from "../util/escape.js";
import { refused } from "../errors.js";
import { inodeOf } from "./identity.js";
import { shellQuote } from "../util/shell.js";

interface OpenHolder {
  pid: number;
  /** The process's command line (or its name). */
  command: string;
  /** The file it holds open (the database or one of its -wal/-shm/-journal). */
  file: string;
}

interface HolderScan {
  /** False where the system does not show other processes' open files (no /proc). */
  supported: boolean;
  holders: OpenHolder[];
}

/**
 * Other processes holding the database (or its -wal/-shm/-journal) open: Linux `/proc/<pid>/fd`,
 * matched by path and by device + inode (a hard link or a renamed file is still the same file).
 * Our own process (and its worker threads) is not counted; every other one is, the process that
 * started us included (an application running vox-cutover as its child may hold the file and write).
 * Processes we may not look into are skipped. The one exception is a test hook: see `ignoredParent`.
 */
export function openHolders(realPath: string, inode: { dev: string; ino: string } | null): HolderScan {
  if (process.platform !== "linux" || !existsSync("/proc/self/fd")) return { supported: false, holders: [] };
  const names = new Set([realPath, `${realPath}-wal`, `${realPath}-shm`, `${realPath}-journal`]);
  const holders: OpenHolder[] = [];
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return { supported: false, holders: [] };
  }
  const skipParent = ignoredParent();
  for (const p of pids) {
    const pid = Number(p);
    if (pid === process.pid || pid === skipParent) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${p}/fd`);
    } catch {
      continue; // gone, or not ours to look into
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${p}/fd/${fd}`);
      } catch (e) {
        // Not ours to look into: the kernel checks the whole process (ptrace's read access), so every
        // other descriptor of it answers the same. A container's init can list its descriptors but not
        // read them (~275 here): trying each cost ~30 ms of exceptions an apply (eight to ten scans).
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EACCES" || code === "EPERM") break;
        continue; // closed meanwhile
      }
      if (!target.startsWith("/")) continue; // sockets, pipes, anon inodes
      const clean = target.replace(/ \(deleted\)$/, "");
      let hit = names.has(clean) ? clean : null;
      if (!hit && inode) {
        try {
          const st = statSync(`/proc/${p}/fd/${fd}`, { bigint: true });
          if (String(st.dev) === inode.dev && String(st.ino) === inode.ino) hit = clean;
        } catch {
          /* closed meanwhile */
        }
      }
      if (hit) {
        holders.push({ pid, command: processName(p), file: hit });
        break;
      }
    }
  }
  return { supported: true, holders };
}

/**
 * VOX_CUTOVER_IGNORE_PARENT_PID (test hook): the test suite builds fixtures with libsql in its own
 * process, which keeps them open until collected (libsql-js#228), and starts the CLI as its child.
 * The hook names that process; it is honoured only when it is exactly this process's parent, so it
 * never hides any other process (a stale value in an operator's environment hides nothing).
 */
function ignoredParent(): number | null {
  const v = process.env.VOX_CUTOVER_IGNORE_PARENT_PID;
  if (!v || !/^[1-9]\d*$/.test(v)) return null;
  return Number(v) === process.ppid ? process.ppid : null;
}

/**
 * This process's own descriptors of the file (`/proc/self/fd`, matched by device + inode), apart
 * from `known` (descriptors it holds on purpose, the hold's). Never another process's: the holder
 * scan above skips this process; this is how the hold tells its own stray connection from an
 * application, and why it refuses to hold the file while one is open (closing any descriptor of the
 * file drops every POSIX lock this process holds on it, the hold's included).
 */
export function ownDescriptors(path: string, known: number[] = []): number[] {
  let want: { dev: bigint; ino: bigint };
  try {
    const st = statSync(path, { bigint: true });
    want = { dev: st.dev, ino: st.ino };
  } catch {
    return [];
  }
  return descriptorsOf(want, known) ?? [];
}

function processName(pid: string): string {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    // A command line may hold newlines or tabs (python -c '…'): shown escaped, never breaking the message.
    if (cmd) return escapeControls(cmd.length > 160 ? `${cmd.slice(0, 157)}…` : cmd);
  } catch {
    /* fall through */
  }
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
}

export function describeHolders(h: OpenHolder[]): string {
  return h.map((x) => `pid ${x.pid} (${x.command}) has ${x.file} open`).join("; ");
}

/** How long after a rename an open() that resolved the old name right before it may take to install its descriptor (ms). */
const RENAME_SETTLE_MS = 50;

/**
 * Holders of a file whose name was renamed away (the swap): scanned twice, a moment apart, so an
 * application whose open() resolved the old name right before the rename — its descriptor installed
 * a moment later — is seen too. Called while the hold still blocks its reads and writes. `renamedAt`
 * (performance.now() at the rename, when this process did it): once the settle has passed since, one
 * scan (the run's last check, after its post-swap steps: what it covers is a descriptor installed
 * between the rename and that scan, already a longer window than the settle; docs/safety.md).
 * `scan`: the holder scan (a test gives its own to see each scan).
 */
export function holdersAfterRename(
  realPath: string,
  inode: { dev: string; ino: string } | null,
  renamedAt?: number,
  scan: () => OpenHolder[] = () => openHolders(realPath, inode).holders,
): OpenHolder[] {
  const seen = new Map<number, OpenHolder>();
  for (const h of scan()) seen.set(h.pid, h);
  const left = settleLeft(renamedAt, performance.now());
  if (left <= 0) return [...seen.values()];
  sleepSync(left);
  for (const h of scan()) if (!seen.has(h.pid)) seen.set(h.pid, h);
  return [...seen.values()];
}

/**
 * What is left of the settle at `now` after a rename at `renamedAt` (performance.now() values), in
 * 0 … RENAME_SETTLE_MS: all of it when the time is unknown, not a number, or not before `now` (another
 * clock's value: never a wait longer than the settle, never none by mistake).
 */
export function settleLeft(renamedAt: number | undefined, now: number): number {
  if (renamedAt === undefined || !Number.isFinite(renamedAt) || renamedAt > now) return RENAME_SETTLE_MS;
  return Math.max(0, RENAME_SETTLE_MS - (now - renamedAt));
}

/**
 * A file about to take the database's name by a rename (the swap's new file; a rollback's archived
 * original), checked under the hold or before anything moves: nobody may hold it (or its
 * -wal/-shm/-journal). The rename moves the file, not a holder's view of it: a process that opened it
 * by its own name (an operator's sqlite3 shell) keeps using `<that name>-wal` and `-shm` after the
 * rename while the database's users use the name's, two write-ahead logs and wal-indexes on one file
 * (its commits checkpointed into the live database unproven, or lost). Refused (3) naming the process.
 */
export function assertUnheldBeforeRename(path: string, o: { role: string; untouched: string; next: string }): void {
  const h = openHolders(path, inodeOf(path)).holders;
  if (!h.length) return;
  const name = basename(path);
  throw refused({
    what: `${describeHolders(h)}: it holds ${o.role} ${path}, which is about to take the database's name. After the rename it would keep its own ${name}-wal and -shm while the database's users use theirs: its writes would bypass them (a corrupted or lost database), and nothing it wrote was checked.`,
    untouched: o.untouched,
    next: o.next,
    details: { holders: h, path },
  });
}

/** The swap's new file (see above). */
export function assertNewFileUnheld(newPath: string, untouched: string): void {
  assertUnheldBeforeRename(newPath, {
    role: "the new file",
    untouched,
    next: "Close that process (an sqlite3 shell or a viewer left open on the new file?), then run the cutover with --resume --apply (or --rollback --apply to undo the run).",
  });
}

/**
 * The swap gives the database's name the new file; another name of the same file (a hard link) would
 * keep the old one — archived — and a program opening it would read and write there. A run that swaps
 * is refused (3) while the file has other names (Stage 0, beside the holders: the same question, who
 * else reaches the old file).
 */
export function assertOneName(dbPath: string): void {
  const names = existsSync(dbPath) ? statSync(dbPath).nlink : 1;
  if (names > 1)
    throw refused({
      what: `${dbPath} has ${names} names (hard links): the swap gives only this one the new file, and a program opening another would keep reading and writing the old file, archived.`,
      untouched: "Nothing was changed.",
      next: `Find the other names (find / -xdev -samefile ${shellQuote(dbPath)}), remove them or make them symbolic links to this name, and run again.`,
    });
}
