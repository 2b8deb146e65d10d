import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from "node:fs";

export interface SqliteHeader {
  pageSize: number;
  /** Page count from the header, when the header says it is valid. */
  pageCount: number | null;
  changeCounter: number;
  walMode: boolean;
  size: number;
}

export type ProbeResult =
  | { state: "missing" }
  | { state: "directory" }
  | { state: "not-a-file" }
  | { state: "unreadable"; reason: string }
  | { state: "empty-file"; size: 0 }
  | { state: "not-sqlite"; reason: string }
  | { state: "truncated"; reason: string; header: SqliteHeader }
  | { state: "ok"; header: SqliteHeader };

const MAGIC = Buffer.from("SQLite format 3\0", "latin1");

/** Looks at a path without opening it as a database: nothing is created or written. */
export function probeFile(path: string): ProbeResult {
  if (!existsSync(path)) return { state: "missing" };
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    return { state: "unreadable", reason: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
  if (st.isDirectory()) return { state: "directory" };
  if (!st.isFile()) return { state: "not-a-file" };
  if (st.size === 0) return { state: "empty-file", size: 0 };
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    return { state: "unreadable", reason: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
  try {
    const buf = Buffer.alloc(100);
    const n = readSync(fd, buf, 0, 100, 0);
    const size = fstatSync(fd).size;
    if (n < 16 || !buf.subarray(0, 16).equals(MAGIC)) {
      return { state: "not-sqlite", reason: "the file does not start with the SQLite header (\"SQLite format 3\")" };
    }
    if (n < 100) return { state: "not-sqlite", reason: `the file is ${size} bytes, shorter than the 100-byte SQLite header` };
    const rawPage = buf.readUInt16BE(16);
    const pageSize = rawPage === 1 ? 65536 : rawPage;
    if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
      return { state: "not-sqlite", reason: `the header's page size (${rawPage}) is not valid` };
    }
    const changeCounter = buf.readUInt32BE(24);
    const headerPages = buf.readUInt32BE(28);
    const validFor = buf.readUInt32BE(92);
    const pageCount = validFor === changeCounter && headerPages > 0 ? headerPages : null;
    const header: SqliteHeader = { pageSize, pageCount, changeCounter, walMode: buf[18] === 2 && buf[19] === 2, size };
    if (pageCount !== null && size < pageCount * pageSize) {
      return {
        state: "truncated",
        reason: `the header says ${pageCount} pages of ${pageSize} bytes (${pageCount * pageSize} bytes) but the file has ${size} bytes`,
        header,
      };
    }
    if (size % pageSize !== 0) {
      return { state: "truncated", reason: `the file size ${size} is not a multiple of the page size ${pageSize}`, header };
    }
    return { state: "ok", header };
  } finally {
    closeSync(fd);
  }
}
