/**
 * The backup `import-legacy` loads, read before anything is written: its format (vox-cutover's own,
 * checked header; or vox's unverifiable export, accepted only with --accept-unverified and scanned
 * line by line), the hash its plan names it by, and the database it was made from. One home for the
 * command and for the import route's step, which reads it again on every run and resume.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { peekFormat, peekHeader, peekTrailerSha, readBackup } from "./read.js";
import { isVoxExportFile, scanReference, type ReferenceScan } from "./reference.js";
import { refused } from "../errors.js";
import { BackupHeaderSchema, problem } from "../validate/schemas.js";

export interface ImportInput {
  path: string;
  reference: ReferenceScan | undefined;
  /** What the plan digest names the file by: the trailer's hash, or the whole reference file's sha256. */
  claimedSha: string;
  /** The database the backup was made from, if it says so (tables copied from it inside SQLite count only when proven equal). */
  source: string | undefined;
}

/** Reads what the import needs to know of `path` (an absolute, regular file), refusing what cannot be loaded. */
export function readImportInput(path: string, acceptUnverified: boolean, warn: (text: string) => void): ImportInput {
  const format = peekFormat(path);
  let reference: ReferenceScan | undefined;
  if (isVoxExportFile(path, format)) {
    if (!acceptUnverified) throw referenceFormatError(path);
    warn(`${path} is in vox's export-legacy format, which has no hashes: it cannot be verified (accepted with --accept-unverified).`);
    reference = scanReference(path); // refuses a malformed line before anything is written
  } else if (format === "unknown") {
    readBackup(path); // throws the precise reason (not JSON, not our header, empty, …)
  } else {
    checkHeader(path); // the header is checked, not cast, before the importer relies on it
  }
  return {
    path,
    reference,
    claimedSha: reference ? `reference:${reference.sha256}` : (peekTrailerSha(path) ?? "no-trailer"),
    source: reference ? undefined : peekHeader(path)?.source?.path,
  };
}

/** vox's own export format, refused where a verified backup is needed (verify-backup; import-legacy without --accept-unverified). */
export function referenceFormatError(path: string): Error {
  return refused({
    what: `${path} is in the reference runbook's \`vox codex export-legacy\` format: no header, no counts, no hashes, so it cannot be verified.`,
    untouched: "Nothing was written.",
    next: "Take a verified backup with vox-cutover export-legacy, or (import-legacy only) pass --accept-unverified if this file is all you have.",
    details: { format: "reference" },
  });
}

/** The first line of a vox-cutover backup, checked against its schema: a damaged header is refused (exit 3), as verify-backup does. */
function checkHeader(path: string): void {
  const fd = openSync(path, "r");
  let first = "";
  try {
    const buf = Buffer.alloc(1 << 20);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString("utf8");
    const nl = text.indexOf("\n");
    if (nl < 0 && n === buf.length) return; // a header over 1 MB: the importer's own reading checks it
    first = nl >= 0 ? text.slice(0, nl) : text;
  } finally {
    closeSync(fd);
  }
  let why: string | null;
  try {
    why = problem(BackupHeaderSchema, JSON.parse(first));
  } catch {
    why = "the line is not valid JSON";
  }
  if (why) {
    throw refused({
      what: `The backup ${path} does not verify at line 1: its header is not what vox-cutover writes (${why}).`,
      untouched: "Nothing was written.",
      next: "Do not rely on this file: take a new backup with vox-cutover export-legacy (the database itself was not touched).",
    });
  }
}
