/**
 * Owned paths: an operator-given output path (`--backup`, `--work-dir`, OUT, …) must be the run's to
 * write — not the database or its side files, not its sidecar, not inside another run's work dir, not
 * an existing file the run did not create. A work dir belongs to one database and one run (its marker).
 */
import { accessSync, constants, existsSync, lstatSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { readSmallFile } from "../util/small-file.js";
import { dirname, join, resolve } from "node:path";
import { refused, usage } from "../errors.js";
import { ARCHIVE_DIR, DB_SIDE_SUFFIXES, isInside, isPartial, markerPath, sidecarBeside, WORK_DIR_NAMES } from "../layout.js";
import { check, RunMarkerSchema, type RunMarker } from "../validate/schemas.js";
import { realPathOf, type DbIdentity } from "./identity.js";

export interface OwnedPath {
  /** The option that named it (`--backup`, `--work-dir`, `OUT`, …), for the message. */
  flag: string;
  path: string;
  /** The run's own file from an earlier attempt (resume): it may exist. */
  ours?: boolean;
  /** The run's work dir (made when the run starts): a path inside it needs no existing folder yet. */
  within?: string;
  /** The option that lets the operator replace an existing file (export-legacy's `--force`), named in the refusal. */
  forceFlag?: string;
}

/** What a path is, links followed: a regular file, a folder, something else (FIFO, device, socket), or nothing. */
export function fileKind(p: string): "file" | "dir" | "fifo" | "char-device" | "block-device" | "socket" | "other" | "missing" {
  let st;
  try {
    st = statSync(p);
  } catch {
    try {
      st = lstatSync(p); // a dangling link: what the name itself is
    } catch {
      return "missing";
    }
  }
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isFIFO()) return "fifo";
  if (st.isCharacterDevice()) return "char-device";
  if (st.isBlockDevice()) return "block-device";
  if (st.isSocket()) return "socket";
  return st.isSymbolicLink() ? "file" : "other";
}

/** A symbolic link whose target does not exist. */
export function danglingLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink() && !existsSync(p);
  } catch {
    return false;
  }
}

const KIND_WORDS: Record<string, string> = {
  fifo: "a FIFO (named pipe)",
  "char-device": "a character device",
  "block-device": "a block device",
  socket: "a socket",
};

function isSpecial(kind: ReturnType<typeof fileKind>): boolean {
  return kind !== "file" && kind !== "dir" && kind !== "missing";
}

/** Only regular files are written or replaced: a device, FIFO or socket is refused (3), whatever the flags. */
export function assertNotSpecial(flag: string, p: string, role: "output" | "input" = "output"): void {
  const kind = fileKind(p);
  if (!isSpecial(kind)) return;
  throw refused({
    what: `${flag} ${p} is ${KIND_WORDS[kind] ? `${KIND_WORDS[kind]} (not a regular file)` : "not a regular file"}: this tool only ${role === "output" ? "writes or replaces regular files (--force does not change that)" : "reads regular files here (a pipe or device could block or never end)"}.`,
    untouched: "Nothing was changed: no lock, journal or file was made, and nothing was moved.",
    next: role === "output" ? `Give ${flag} the path of a regular file (or a new one).` : `Give ${flag} a regular file (copy the stream into a file first).`,
    details: { path: p, kind },
  });
}

/**
 * Input files named on the command line exist, are files and can be read — checked before
 * anything runs: a mistyped telemetry path would otherwise surface after the swap, counted as an
 * envelope violation.
 */
export function assertReadable(flag: string, paths: string[]): void {
  for (const p of paths) {
    const kind = fileKind(p);
    let why = kind === "missing" ? "does not exist" : kind === "dir" ? "is a folder, not a file" : "";
    if (!why) {
      try {
        accessSync(p, constants.R_OK);
      } catch {
        why = "cannot be read by this user";
      }
    }
    if (why)
      throw usage({
        what: `${flag} ${p} ${why}.`,
        untouched: "Nothing was read or changed: no lock, journal or file was made, and nothing was moved.",
        next: `Check the path (${flag} takes the files themselves, space-separated), or leave ${flag} out to skip that check.`,
        details: { path: p, kind },
      });
  }
}

/** A run marker, read only when a small regular file: one that is a FIFO (planted in /tmp, an ancestor of a --work-dir) blocked every command given that path for ever (helper-106 F6). */
export function readMarker(workDir: string): RunMarker | null {
  try {
    return check(RunMarkerSchema, JSON.parse(readSmallFile(markerPath(workDir), 64 << 10) ?? "null"));
  } catch {
    return null;
  }
}

/** The run work dir `p` lies inside (an ancestor or itself with a run marker), if any. */
function enclosingRun(p: string): { dir: string; marker: RunMarker | null } | null {
  let d = p;
  for (;;) {
    if (existsSync(markerPath(d))) return { dir: d, marker: readMarker(d) };
    const up = dirname(d);
    if (up === d) return null;
    d = up;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Refuses an operator-given output path that is not the run's to write. */
export function checkOwnedPath(o: OwnedPath, id: DbIdentity, runId: string): string {
  const abs = resolve(o.path);
  const real = realPathOf(abs);
  const untouched = "Nothing was changed: no lock, journal or file was made.";
  if (danglingLink(abs))
    throw refused({
      what: `${o.flag} ${abs} is a symbolic link to ${readlinkSync(abs)}, which does not exist: the file would be made through the link, somewhere else.`,
      untouched: `${untouched} The link was left as it is.`,
      next: `Give ${o.flag} a path that does not exist yet (a regular file is made there).`,
    });
  for (const sfx of ["", ...DB_SIDE_SUFFIXES]) {
    if (real === id.real + sfx || abs === id.path + sfx) {
      throw refused({
        what: `${o.flag} ${abs} is the database${sfx ? `'s ${sfx} file` : ""} itself${abs !== real ? ` (a link to ${real})` : ""}.`,
        untouched,
        next: `Give ${o.flag} a new path (the default, in the work dir, is safe).`,
      });
    }
  }
  if (id.dev && exists(real)) {
    const st = statSync(real, { bigint: true });
    if (String(st.dev) === id.dev && String(st.ino) === id.ino)
      throw refused({ what: `${o.flag} ${abs} is a hard link to the database ${id.real}.`, untouched, next: `Give ${o.flag} a new path.` });
  }
  const side = realPathOf(sidecarBeside(id.real));
  if (real === side || abs === sidecarBeside(id.path)) {
    throw refused({
      what: `${o.flag} ${abs} is the training-telemetry sidecar of ${id.real}: writing there would replace it.`,
      untouched,
      next: `Give ${o.flag} a new path (the default, in the work dir, is safe).`,
    });
  }
  const enc = enclosingRun(dirname(real));
  if (enc && enc.marker && enc.marker.runId !== runId) {
    throw refused({
      what: `${o.flag} ${abs} is inside the work dir ${enc.dir} of another run (${enc.marker.command} run ${enc.marker.runId} on ${enc.marker.db}).`,
      untouched,
      next: `Give ${o.flag} a path outside other runs' work dirs.`,
    });
  }
  assertNotSpecial(o.flag, abs);
  if (exists(abs) && !o.ours) {
    throw refused({
      what: `${o.flag} ${abs} already holds a ${isDir(abs) ? "folder" : "file"} this run did not create; it would be overwritten.`,
      untouched: `${untouched} ${abs} was left as it is.`,
      next: `Give ${o.flag} a path that does not exist yet (the default, in a new work dir, never does)${o.forceFlag ? `, or pass ${o.forceFlag} to replace it` : ""}.`,
    });
  }
  if (!isDir(dirname(abs)) && !(o.within && isInside(abs, resolve(o.within)))) {
    throw usage({ what: `The folder of ${o.flag} ${abs} does not exist.`, untouched, next: `Create it (mkdir -p '${dirname(abs)}') or choose another path.` });
  }
  return abs;
}

/** Refuses a work dir that is a file, the database, another database's or another run's. */
export function checkWorkDir(dir: string, id: DbIdentity, runId: string, ours: boolean): void {
  const abs = resolve(dir);
  const real = realPathOf(abs);
  const untouched = "Nothing was changed: no lock, journal or file was made.";
  if (real === id.real || DB_SIDE_SUFFIXES.some((s) => real === id.real + s)) {
    throw refused({
      what: `--work-dir ${abs} is the database itself.`,
      untouched,
      next: "Give --work-dir a folder (a new one, or leave it out: vox-cutover-runs/<UTC> beside the database).",
    });
  }
  if (exists(abs) && !isDir(abs)) {
    throw refused({
      what: `--work-dir ${abs} is a file, not a folder.`,
      untouched: `${untouched} ${abs} was left as it is.`,
      next: "Give --work-dir a folder that does not exist yet (it is created) or an empty one.",
    });
  }
  const enc = enclosingRun(abs);
  if (enc && enc.dir !== real && enc.dir !== abs && enc.marker && enc.marker.runId !== runId) {
    throw refused({
      what: `--work-dir ${abs} is inside the work dir ${enc.dir} of another run (${enc.marker.command} run ${enc.marker.runId} on ${enc.marker.db}).`,
      untouched,
      next: "Give --work-dir a folder outside other runs' work dirs.",
    });
  }
  if (!isDir(abs)) return;
  assertNoSpecialInside(abs);
  const m = readMarker(abs);
  if (m) {
    if (m.db !== id.real)
      throw refused({
        what: `--work-dir ${abs} belongs to another database (${m.db}, ${m.command} run ${m.runId}).`,
        untouched,
        next: "A work dir serves one database and one run: give this run a new folder.",
      });
    if (m.runId !== runId && !ours)
      throw refused({
        what: `--work-dir ${abs} belongs to ${m.command} run ${m.runId} of this database (started ${m.createdAt}).`,
        untouched,
        next: "A work dir serves one run: give this run a new folder (or resume/roll back that run with cutover --resume/--rollback).",
      });
    return;
  }
  if (existsSync(markerPath(abs)))
    throw refused({ what: `--work-dir ${abs} has a run marker this tool cannot read.`, untouched, next: "Give this run a new folder." });
  // A run's work dir is its own folder: one that already holds anything (an operator's backups folder, their home, /) would
  // take the run's files beside theirs, and its marker would make every folder below it "inside another run's work dir".
  const entries = readdirSync(abs);
  if (entries.length && !ours) {
    const ourNames = entries.filter((f) => WORK_DIR_NAMES.includes(f) || isPartial(f));
    const shown = (ourNames.length ? ourNames : entries).slice(0, 3);
    throw refused({
      what: `--work-dir ${abs} already holds ${ourNames.length ? `${ourNames.join(", ")}, which this run did not create` : `${entries.length} entr${entries.length === 1 ? "y" : "ies"} (${shown.join(", ")}${entries.length > shown.length ? ", …" : ""})`}: a run's work dir is a folder of its own.`,
      untouched: `${untouched} ${abs} was left as it is.`,
      next: `Give --work-dir a folder that does not exist yet (it is created), e.g. ${join(abs, "vox-cutover-run")}, or an empty one.`,
    });
  }
}

/** A work dir holding a device, FIFO or socket (at its top or in its archive) is refused: the run writes only regular files. */
function assertNoSpecialInside(dir: string): void {
  for (const sub of [dir, join(dir, ARCHIVE_DIR)].filter(isDir)) {
    for (const f of readdirSync(sub)) assertNotSpecial("--work-dir", join(sub, f));
  }
}

/**
 * `rehearse` works in a scratch folder of its own: never the database's folder (its clone would be
 * the database itself), never a folder that already holds a file of the clone's name.
 */
export function checkRehearsalFolder(scratch: string, id: DbIdentity, cloneNames: string[]): void {
  const real = realPathOf(scratch);
  const untouched = "Nothing was changed: the database was only looked at.";
  if (real === dirname(id.real) || resolve(scratch) === dirname(id.path)) {
    throw refused({
      what: `--work-dir ${scratch} is the database's own folder: the rehearsal's clone would be the database itself, and the rehearsal would cut over the real file.`,
      untouched,
      next: "Give rehearse a new folder (or leave --work-dir out: a scratch folder is made and removed).",
    });
  }
  assertNotSpecial("--work-dir", scratch);
  for (const n of cloneNames) {
    const p = join(real, n);
    if (exists(p))
      throw refused({
        what: `--work-dir ${scratch} already holds ${n}: the rehearsal's clone would replace it.`,
        untouched: `${untouched} ${p} was left as it is.`,
        next: "Give rehearse a new (or empty) folder.",
      });
  }
}
