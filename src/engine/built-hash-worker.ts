/**
 * Worker: the sha256 of one file (the dry-run's kept built file, engine/built-hash.ts), 1 MB at a time
 * through one descriptor, with the file's stat (fstat) before the first read and after the last: equal,
 * nothing wrote to it while it was read.
 */
import { closeSync, fstatSync, openSync } from "node:fs";
import { sha256OfFd } from "../util/file-sha256.js";
import { parentPort, workerData } from "node:worker_threads";
import { statOfFd, type BuiltHash } from "./built-hash.js";

const { path } = workerData as { path: string };
let answer: BuiltHash | { error: string };
try {
  const fd = openSync(path, "r");
  try {
    const before = statOfFd(fstatSync(fd, { bigint: true }));
    const sha256 = sha256OfFd(fd);
    answer = { sha256, before, after: statOfFd(fstatSync(fd, { bigint: true })) };
  } finally {
    closeSync(fd);
  }
} catch (e) {
  answer = { error: e instanceof Error ? e.message : String(e) };
}
parentPort!.postMessage(answer);
