/**
 * Worker: the sha256 of one file (util/file-hash-beside.ts), 1 MB at a time through the descriptor given,
 * with the file's stat (fstat) before the first read and after the last: equal, nothing wrote to it
 * while it was read. `beforeLastLine`: the bytes before its last line only (a backup's whole-file
 * hash, which does not cover its trailer line).
 */
import { parentPort, workerData } from "node:worker_threads";
import { hashOfFd, type FileHash } from "./file-hash-beside.js";

// The descriptor is the starting thread's (opened there, closed there once this thread has ended).
const { fd, beforeLastLine } = workerData as { fd: number; beforeLastLine: boolean };
let answer: FileHash | { error: string };
try {
  answer = hashOfFd(fd, beforeLastLine);
} catch (e) {
  answer = { error: e instanceof Error ? e.message : String(e) };
}
parentPort!.postMessage(answer);
