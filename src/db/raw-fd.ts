/**
 * Reading a database file's own bytes outside SQLite (its header, its size) without dropping a lock.
 *
 * POSIX locks belong to the process, per inode: closing any descriptor of the file drops every lock
 * this process (any of its threads) holds on it, SQLite's included. A WAL reader's SHARED lock on the
 * database file is what tells a writer closing its connection that it is not the last one; without
 * it, that writer checkpoints and deletes the -wal and -shm under the reader, and the next writer's
 * checkpoints overwrite pages of the reader's snapshot ("malformed" answers, or a torn read). A
 * connection this process closed may also hold its descriptor until a collection finalizes it.
 *
 * So where this process already has the file open (a connection, on any thread), its bytes are read
 * through that descriptor (pread: its offset does not move) and nothing is opened or closed.
 * Otherwise a descriptor is opened for the read; if one of the file appeared meanwhile (a worker's
 * connection), it is not closed under it but kept until the file's other descriptors are gone.
 * Where the process's descriptors cannot be listed (not Linux), it is opened and closed, as before.
 * A worker thread's descriptors are closed when it ends (Node closes what it opened), parked or not:
 * a worker that reads a database the main thread has open borrows the main thread's descriptor, or
 * takes the main thread's look at the file (`openReadOnly(…, { probed: true })`).
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, statSync } from "node:fs";
import { copyFd } from "../util/copy-fd.js";

type Id = { dev: bigint; ino: bigint };

/** Descriptors opened here that could not be closed yet, by file. */
const parked = new Map<string, { id: Id; fds: number[]; later?: boolean }>();
const keyOf = (st: Id) => `${st.dev}:${st.ino}`;

/** Whether descriptor `fd` is (still) of the file `id`. */
function isOf(fd: number, id: Id): boolean {
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === id.dev && st.ino === id.ino;
  } catch {
    return false;
  }
}

/** `read` through a descriptor of the file at `path` (see above); throws what opening it throws. */
export function readRaw<T>(path: string, read: (fd: number) => T): T {
  const st = statSync(path, { bigint: true });
  const id = { dev: st.dev, ino: st.ino };
  for (const fd of descriptorsOf(id) ?? []) {
    // Borrowed: a thread may close it meanwhile (its number then another file's): used only if it
    // is of this file before and after the read.
    if (!isOf(fd, id)) continue;
    let out: T;
    try {
      out = read(fd);
    } catch (e) {
      if (isOf(fd, id)) throw e; // the file's own error (EIO, the callback's), not a descriptor closed under the read
      continue;
    }
    if (isOf(fd, id)) return out;
  }
  const fd = openSync(path, "r");
  const own = fstatSync(fd, { bigint: true });
  const ownId = { dev: own.dev, ino: own.ino };
  try {
    return read(fd);
  } finally {
    park(ownId, fd);
    release(keyOf(ownId));
  }
}

/** A byte copy of the file at `src` into a new file `dst` (mode 0600), read as readRaw reads (no descriptor of `src` closed under a lock). */
export function copyRaw(src: string, dst: string): void {
  readRaw(src, (fd) => copyFd(fd, dst, { mode: 0o600, exclusive: false, sync: false }));
}

/**
 * Closes a descriptor this process opened on a file (a hashing worker's: util/file-hash-beside.ts)
 * only once no other descriptor of the process has that file open — a SQLite connection's locks
 * would go with it — else parks it and looks again later, as readRaw does with its own.
 */
export function closeWhenAlone(fd: number): void {
  const st = fstatSync(fd, { bigint: true });
  const id = { dev: st.dev, ino: st.ino };
  park(id, fd);
  release(keyOf(id));
}

function park(id: Id, fd: number): void {
  const p = parked.get(keyOf(id)) ?? { id, fds: [] };
  p.fds.push(fd);
  parked.set(keyOf(id), p);
}

/** Closes the file's parked descriptors once no other descriptor of this process has it open; else looks again later. */
function release(key: string, wait = 25): void {
  const p = parked.get(key);
  if (!p) return;
  const others = descriptorsOf(p.id, p.fds);
  if (others === null || others.length === 0) {
    for (const fd of p.fds) closeSync(fd);
    parked.delete(key);
    return;
  }
  if (p.later) return; // a look is already due
  p.later = true;
  setTimeout(() => {
    p.later = false;
    release(key, Math.min(wait * 2, 1000));
  }, wait).unref();
}

/** This process's descriptors of the file at `path` that are parked here (closing them first if nothing else has it open). */
export function parkedDescriptors(path: string): number[] {
  let st;
  try {
    st = statSync(path, { bigint: true });
  } catch {
    return [];
  }
  const key = keyOf(st);
  release(key);
  return parked.get(key)?.fds ?? [];
}

/** This process's descriptors of the file with that device and inode, apart from `known`; null where they cannot be listed. */
export function descriptorsOf(want: { dev: bigint; ino: bigint }, known: number[] = []): number[] | null {
  if (process.platform !== "linux" || !existsSync("/proc/self/fd")) return null;
  const out: number[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    const n = Number(fd);
    if (known.includes(n)) continue;
    try {
      const st = statSync(`/proc/self/fd/${fd}`, { bigint: true });
      if (st.dev === want.dev && st.ino === want.ino) out.push(n);
    } catch {
      /* closed meanwhile (the readdir's own descriptor among them) */
    }
  }
  return out;
}
