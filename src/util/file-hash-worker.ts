/**
 * Worker: the sha256 of one file (util/file-hash-beside.ts), 1 MB at a time through the descriptor given,
 * with the file's stat (fstat) before the first read and after the last: equal, nothing wrote to it
 * while it was read. `beforeLastLine`: the bytes before its last line only (a backup's whole-file
 * hash, which does not cover its trailer line).
 */
import { fstatSync } from "node:fs";
import { lastLineStart, sha256OfFd } from "./file-sha256.js";
import { parentPort, workerData } from "node:worker_threads";
import { statOfFd, type FileHash } from "./file-hash-beside.js";

// The descriptor is the starting thread's (opened there, closed there once this thread has ended).
const { fd, beforeLastLine } = workerData as { fd: number; beforeLastLine: boolean };
let answer: FileHash | { error: string };
try {
  const st = fstatSync(fd, { bigint: true });
  const before = statOfFd(st);
  const end = beforeLastLine ? lastLineStart(fd, Number(st.size)) : undefined;
  const sha256 = sha256OfFd(fd, end);
  answer = { sha256, before, after: statOfFd(fstatSync(fd, { bigint: true })) };
} catch (e) {
  answer = { error: e instanceof Error ? e.message : String(e) };
}
parentPort!.postMessage(answer);
