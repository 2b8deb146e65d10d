/**
 * The cutover dry-run's trial, kept for the apply to adopt (issue 18: not doing the trial import
 * twice). The dry-run makes the same export and build the apply makes; instead of removing them, it
 * keeps them in a folder of the user's own (`$TMPDIR/vox-cutover-trials-<uid>/<key>`, one per
 * database; the parent 0700 and this user's, else nothing is kept or adopted) with a record: the
 * primary's identity and its content state taken before the trial's export, the plan digest, the
 * command, the program (its version and a hash of its code and importer rules), the run id the
 * trial's build wrote into the new file, and the export's and the build's step outputs. An apply of that same plan
 * adopts them only while all of it holds (the primary unchanged since that export: content version, WAL included) — the backup then goes through verify-backup like any other (every
 * hash recomputed, every count against the live primary), and the built file, once moved beside the
 * primary, is kept only if its sha256 is still the one of the file its checks (integrity_check,
 * foreign_key_check, parity) passed on. Anything else: the kept trial is removed and the apply exports
 * and builds itself. The run takes the trial's run id, so the new file's ledger and quarantine rows
 * name the run that swapped it in.
 *
 * Not kept: `VOX_CUTOVER_KEEP_TRIAL=0` (none adopted either), or `$TMPDIR` a tmpfs or ramfs. Every
 * cutover command first removes this user's kept trials whose database is gone or another file, older than a day, or taken.
 *
 * Another user can make files in `$TMPDIR` but not files of this user's: every file of a trial is
 * read or moved only when it is a regular file of this user's with one name (checked on the open
 * file, or on the moved file). An apply takes a trial before it looks at it, by renaming its folder
 * to `<key>.taken-<pid>` (one apply wins; a dry-run meanwhile keeps its own under `<key>`; the sweep
 * leaves a live taker's alone), so a trial is adopted at most once and the run id the apply takes
 * from it is its own. An apply that ends without having started its run (refused by Stage 0, another
 * --plan) gives the trial back; once its journal exists, the trial is only ever removed.
 */
import { createHash } from "node:crypto";
import { fileSha256 } from "../util/file-sha256.js";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { mine, myUid, ownFile } from "./adopt-file.js";
import { readSmallFile } from "../util/small-file.js";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { loadImporters } from "../backup/importers.js";
import { dirname, join, relative, sep } from "node:path";
import * as v from "valibot";
import { contentState, describeContentChange, untouchedSince } from "../safety/content-version.js";
import { identify, sameFileAs } from "../safety/identity.js";
import { processAlive } from "../safety/lock.js";
import { recordMismatch } from "../safety/runfiles.js";
import { JOURNAL_NAME } from "./journal.js";
import { fsyncDir, fsyncFile } from "../util/fsync.js";
import { packageRoot, toolVersion } from "../util/paths.js";
import { check } from "../validate/schemas.js";
import type { Emit } from "./events.js";
import { StepOutputSchemas } from "./step-outputs.js";
import type { FileHashBeside } from "../util/file-hash-beside.js";

const RECORD = "trial.json";
/** A kept trial an apply has taken: `<key>.taken-<its pid>`. */
const TAKEN = /\.taken-(\d+)$/;
/** A kept trial a newer dry-run retired (retireKeptTrial): `<key>.retired-<its pid>-<ms>`. */
const RETIRED = /\.retired-(\d+)-\d+$/;
export const TRIAL_BACKUP = "trial-backup.jsonl";
export const TRIAL_DB = "trial.db";
/** A kept trial older than this is removed by the next dry-run (its apply would have come by now). */
const KEEP_MS = 24 * 3600 * 1000;
/** statfs(2)'s f_type of a tmpfs and a ramfs: a kept trial there would hold memory, not disk. */
const MEMORY_FS = [0x01021994, 0x858458f6];

const TrialRecordSchema = v.object({
  format: v.literal("vox-cutover-trial"),
  toolVersion: v.string(),
  db: v.string(),
  dev: v.string(),
  ino: v.string(),
  born: v.optional(v.nullable(v.string())), // safety/identity.ts bornOf
  planDigest: v.string(),
  command: v.string(),
  runId: v.string(),
  createdAt: v.string(),
  export: v.object({ summary: v.string(), outputs: StepOutputSchemas.export }),
  build: v.object({ summary: v.string(), outputs: StepOutputSchemas["build-import"] }),
  /** The built file's sha256 as it stayed once its checks passed (taken beside them while nothing wrote to it after: engine/trial.ts, else after the dry-run's Stage 2 look). */
  builtSha256: v.string(),
  /** sha256 of the program that made it (its code and the importer rules): another build never adopts it. */
  program: v.string(),
});
export type TrialRecord = v.InferOutput<typeof TrialRecordSchema>;

/** A kept trial an apply may adopt: its folder, its record and its two files. */
export interface KeptTrial {
  dir: string;
  record: TrialRecord;
  backupPath: string;
  builtPath: string;
  builtHash?: FileHashBeside | null; // its sha256 being taken beside Stage 0, once an apply took it (engine/built-hash.ts)
}

/** Why a dry-run keeps no trial (and an apply looks for none); null: trials are kept (see above). */
export function notKeptBecause(): string | null {
  if (process.env.VOX_CUTOVER_KEEP_TRIAL === "0") return "VOX_CUTOVER_KEEP_TRIAL=0";
  try {
    return MEMORY_FS.includes(statfsSync(tmpdir()).type) ? `${tmpdir()} is in memory (tmpfs or ramfs)` : null;
  } catch {
    return `${tmpdir()} cannot be looked at`;
  }
}

/** This user's folder of kept trials: made 0700 when `create`; null unless it is a real folder of this user's that nobody else can enter. */
function trialsHome(create: boolean): string | null {
  const home = join(tmpdir(), `vox-cutover-trials-${myUid ?? "user"}`);
  try {
    if (create) mkdirSync(home, { mode: 0o700 });
  } catch {
    /* there already, or cannot be made: checked below */
  }
  try {
    const st = lstatSync(home);
    return st.isDirectory() && !st.isSymbolicLink() && mine(st) && (st.mode & 0o077) === 0 ? home : null;
  } catch {
    return null;
  }
}

/** Where the trial of the database at `dbPath` is kept (one per database: its real path, device and inode). */
function keptDir(home: string, dbPath: string): string | null {
  const id = identify(dbPath);
  if (!id.exists) return null;
  const key = createHash("sha256")
    .update(JSON.stringify([id.real, id.dev, id.ino]))
    .digest("hex")
    .slice(0, 20);
  return join(home, key);
}

let programDigest: string | undefined;
/**
 * sha256 of the code this program runs (every .js of the install's dist/src and dist/stages, bundles
 * included; or, run from source, every .ts of src/ and stages/), its importer rules and its version:
 * a trial made by another build is never adopted. Read once, when a trial is kept or looked at.
 */
function program(): string {
  if (programDigest) return programDigest;
  const root = packageRoot();
  const fromDist = relative(root, fileURLToPath(import.meta.url)).split(sep)[0] === "dist";
  const h = createHash("sha256");
  for (const top of fromDist ? ["dist/src", "dist/stages"] : ["src", "stages"]) {
    const files = readdirSync(join(root, top), { recursive: true, encoding: "utf8" })
      .filter((f) => (fromDist ? f.endsWith(".js") : f.endsWith(".ts") || f.endsWith(".tsx")))
      .sort();
    for (const f of files) h.update(`${top}/${f}\0`).update(readFileSync(join(root, top, f)));
  }
  programDigest = h
    .update(JSON.stringify([...loadImporters()]))
    .update(toolVersion())
    .digest("hex");
  return programDigest;
}

/** The program's digest, or null when its code cannot be read whole (then no trial is adopted). */
function programOrNull(): string | null {
  try {
    return program();
  } catch {
    return null;
  }
}

/** A trial's record, read from the open file only when that file is this user's. */
function readRecord(dir: string): TrialRecord | null {
  try {
    return check(TrialRecordSchema, JSON.parse(readSmallFile(join(dir, RECORD), 1 << 20, ownFile) ?? "null")); // never a FIFO or a device: it could block
  } catch {
    return null;
  }
}

/** Removes a kept trial's folder (its files were adopted, or it cannot serve), and this user's folder of them once empty; best effort. */
export function dropTrial(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
    rmdirSync(dirname(dir)); // refused while another trial is kept there
  } catch {
    /* the next sweep tries again */
  }
}

/**
 * Keeps the finished trial in `scratch` (its backup and built file) for an apply of the same plan:
 * its record is written and synced, then the folder takes the database's kept name (replacing an
 * earlier trial). Returns where it is kept, or null (not kept: the scratch folder is the caller's to remove).
 * `builtSha256`: the built file's, taken beside its checks and still holding (engine/built-hash.ts
 * hashStillHolds); else it is hashed here.
 */
export function keepTrial(
  scratch: string,
  dbPath: string,
  record: Omit<TrialRecord, "format" | "toolVersion" | "db" | "dev" | "ino" | "born" | "createdAt" | "builtSha256" | "program">,
  builtSha256: string | null = null,
): string | null {
  const home = trialsHome(true);
  const dest = home && keptDir(home, dbPath);
  const id = identify(dbPath);
  if (!dest || !id.dev || !id.ino) return null;
  try {
    const full: TrialRecord = {
      format: "vox-cutover-trial",
      toolVersion: toolVersion(),
      db: id.real,
      dev: id.dev,
      ino: id.ino,
      born: id.born,
      createdAt: new Date().toISOString(),
      builtSha256: builtSha256 ?? fileSha256(join(scratch, TRIAL_DB)),
      program: program(),
      ...record,
    };
    writeFileSync(join(scratch, RECORD), JSON.stringify(full), { mode: 0o600 });
    fsyncFile(join(scratch, RECORD));
    rmSync(dest, { recursive: true, force: true }); // an earlier trial of this database
    renameSync(scratch, dest); // refused if another dry-run kept one meanwhile: then this one is not kept
    fsyncDir(home);
    keptHere.set(dest, full.runId);
    return dest;
  } catch {
    return null;
  }
}

/**
 * A dry-run that will keep its trial for `dbPath` retires the one kept for it now, as it begins (its
 * own replaces it; if it does not finish, none is kept and an apply of the old plan exports and builds
 * afresh, as after any newer dry-run): renamed out of an apply's reach at once (`.retired-<pid>-<ms>`),
 * its record removed, and its files — a backup and a built file as large as the database — removed
 * from the next turn of the event loop on by libuv's threads, beside the dry-run's export, not in one go
 * at its end (1 GB: ~0.5 s of unlinking on this thread). One an apply took already (`.taken-<pid>`) is
 * not touched. Killed before the files are gone, the next sweep removes the rest. Returns the
 * retired folder (null: none was kept).
 */
export function retireKeptTrial(dbPath: string): string | null {
  const home = trialsHome(false);
  const dest = home && keptDir(home, dbPath);
  if (!dest) return null;
  return retire(dest); // null: none kept (or taken meanwhile)
}

/** The folders this process retired (a folder named with its pid but not here is an earlier process's of that pid: a container's pid 1). */
const retiredHere = new Set<string>();

/**
 * Takes a trial's folder out of every apply's reach at once (`.retired-<pid>-<ms>`, its record
 * removed) and removes its files on libuv's threads from the next turn of the event loop on, so no
 * command waits on their unlinking (a 1 GB trial: ~0.5 s). Null when it was not there.
 */
function retire(dir: string): string | null {
  const retired = `${dir}.retired-${process.pid}-${Date.now()}`;
  try {
    renameSync(dir, retired);
  } catch {
    return null;
  }
  retiredHere.add(retired);
  rmSync(join(retired, RECORD), { force: true });
  removeBeside(retired);
  return retired;
}

function removeBeside(dir: string): void {
  setImmediate(() => void rm(dir, { recursive: true, force: true }).catch(() => {}));
}

/** The trials this process kept (folder → the run id in its record). */
const keptHere = new Map<string, string>();

/**
 * Removes the trials this process kept that are still kept (not taken, not replaced by another
 * dry-run's): the wizard's, when it closes — only its own apply adopts them (its command), and its
 * next start plans again. Best effort.
 */
export function dropTrialsKeptHere(): void {
  for (const [dir, runId] of keptHere) if (readRecord(dir)?.runId === runId) dropTrial(dir);
  keptHere.clear();
}

/**
 * Removes this user's kept trials whose database is gone or another file, that are older than a day,
 * or that an apply took and left (its process gone, or a day past the trial's own day: a process of
 * that pid now is another one); and the scratch folders of dry-runs killed before they could remove
 * them (scratchTrialDir).
 */
export function sweepKeptTrials(): void {
  sweepScratch();
  const home = trialsHome(false);
  if (!home) return;
  for (const n of namesIn(home)) {
    const r = readRecord(join(home, n));
    // A trial a dry-run retired: its process removes it; killed, it is left (with its record if killed at once).
    // What goes is removed beside the command's own work (retire), never on its thread.
    const retirer = RETIRED.exec(n);
    if (retirer) {
      const pid = Number(retirer[1]);
      // This process's own are being removed already; one of its pid it did not retire is an earlier process's.
      if (pid === process.pid ? !retiredHere.has(join(home, n)) : !processAlive(pid)) removeBeside(join(home, n));
      continue;
    }
    const taker = TAKEN.exec(n);
    if (taker) {
      // Its apply was killed: its run, if any, has its run id. Else an apply adopting it now.
      if (!processAlive(Number(taker[1])) || (r && Date.now() - Date.parse(r.createdAt) > 2 * KEEP_MS)) retire(join(home, n));
      continue;
    }
    const id = r ? identify(r.db) : null;
    const stale = !r || !id?.exists || id.dev !== r.dev || id.ino !== r.ino || Date.now() - Date.parse(r.createdAt) > KEEP_MS;
    if (stale) retire(join(home, n));
  }
}

function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

const SCRATCH = /^vox-cutover-trial-(\d+)-/;
/** Unmodified this long, a scratch folder of a dead pid is not a dry-run of another pid namespace sharing the folder. */
const SCRATCH_IDLE_MS = 10 * 60 * 1000;

/** A dry-run's scratch folder for its trial (removed, or kept as a trial, by the dry-run; named with its pid for the sweep after a kill). */
export function scratchTrialDir(): string {
  return mkdtempSync(join(tmpdir(), `vox-cutover-trial-${process.pid}-`));
}

/** Removes this user's scratch folders of dry-runs whose process is gone and that nothing wrote for SCRATCH_IDLE_MS (a day when a process of that pid is alive). Best effort. */
function sweepScratch(): void {
  const top = tmpdir();
  for (const n of namesIn(top)) {
    const m = SCRATCH.exec(n);
    if (!m) continue;
    // This process runs one dry-run at a time, after its sweep: its own pid's folder is a killed process's of that pid (a container's pid 1).
    const mayRun = Number(m[1]) !== process.pid && processAlive(Number(m[1]));
    const dir = join(top, n);
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory() || !mine(st)) continue;
      const idle = Date.now() - Math.max(st.mtimeMs, ...namesIn(dir).map((f) => lstatSync(join(dir, f)).mtimeMs));
      // A live pid's: only past a day unwritten (that pid is another process by then).
      if (idle > (mayRun ? KEEP_MS : SCRATCH_IDLE_MS)) rmSync(dir, { recursive: true, force: true });
    } catch {
      /* the next sweep tries again */
    }
  }
}

/**
 * Takes the kept trial an apply of this plan may adopt (null: none kept, another apply took it, or it
 * cannot serve — then it is removed, and a note says why: this apply exports and builds itself).
 * The caller gives it back with `releaseTrial` when the run ends.
 */
export function adoptableTrial(dbPath: string, planDigest: string, command: string, emit: Emit): KeptTrial | null {
  const home = notKeptBecause() ? null : trialsHome(false);
  const kept = home && keptDir(home, dbPath);
  if (!kept || !existsSync(kept)) return null;
  const dir = `${kept}.taken-${process.pid}`;
  // This process runs one apply at a time: a folder taken under its pid is an earlier process's of that pid (a container's pid 1), left when it was killed.
  if (existsSync(dir)) dropTrial(dir);
  try {
    renameSync(kept, dir);
  } catch {
    emit({
      type: "note",
      text: "The dry-run's kept trial was not used (another apply of this database took it, or a newer dry-run retired it, first): this run exports and builds itself.",
    });
    return null;
  }
  const t = whyNot(dir, dbPath, planDigest, command);
  if (typeof t !== "string") return t;
  dropTrial(dir);
  emit({ type: "note", text: `The dry-run's kept trial was not used (${t}): this run exports and builds itself.` });
  return null;
}

/**
 * At the end of the apply that took `t`: given back for a later apply when this one neither adopted
 * its backup nor started a run (no journal in `workDir`: refused by Stage 0, another --plan), and no
 * other trial of the database was kept meanwhile; otherwise removed. Best effort.
 */
export function releaseTrial(t: KeptTrial, workDir: string): void {
  const back = t.dir.replace(TAKEN, "");
  const unused = existsSync(t.backupPath) && existsSync(join(t.dir, RECORD)) && !existsSync(join(workDir, JOURNAL_NAME));
  try {
    if (unused && !existsSync(back)) {
      renameSync(t.dir, back);
      return;
    }
  } catch {
    /* removed below */
  }
  dropTrial(t.dir);
}

/** Whether the primary is still as it was before the trial's export (looked at again under the run's locks); else why not. */
export function changedSinceTrial(t: KeptTrial, dbPath: string): string | null {
  const now = contentState(dbPath);
  return untouchedSince(t.record.export.outputs.identity, now) ? null : describeContentChange(t.record.export.outputs.identity, now);
}

function whyNot(dir: string, dbPath: string, planDigest: string, command: string): KeptTrial | string {
  const r = readRecord(dir);
  if (!r) return existsSync(join(dir, RECORD)) ? "its record is unreadable or not this user's" : "its record is missing";
  const id = identify(dbPath);
  if (id.real !== r.db || !sameFileAs(r, dbPath)) return "it was made from another file at this path";
  const now = contentState(dbPath);
  if (!untouchedSince(r.export.outputs.identity, now)) return `the primary changed since its export (${describeContentChange(r.export.outputs.identity, now)})`;
  if (r.planDigest !== planDigest) return `it was made for plan ${r.planDigest}, this run is plan ${planDigest}`;
  if (r.command !== command) return `it was made by ${r.command}, this run is ${command}`;
  if (r.toolVersion !== toolVersion() || r.program !== programOrNull()) return `another build of vox-cutover made it (${r.toolVersion})`;
  const t: KeptTrial = { dir, record: r, backupPath: join(dir, TRIAL_BACKUP), builtPath: join(dir, TRIAL_DB) };
  for (const f of [t.backupPath, t.builtPath]) if (existsSync(f) && !ownFile(lstatSync(f))) return `${f} is not a file of this user's`;
  const b = recordMismatch(t.backupPath, r.export.outputs.file);
  if (b) return `its backup is not the file it recorded: ${b}`;
  const n = recordMismatch(t.builtPath, r.build.outputs.file);
  if (n) return `its built file is not the file it recorded: ${n}`;
  return t;
}

/** Whether `path` (the kept trial's built file, moved) has the sha256 taken after its checks passed (read whole, 1 MB at a time). */
export function builtFileIntact(t: KeptTrial, path: string): boolean {
  return fileSha256(path) === t.record.builtSha256;
}
