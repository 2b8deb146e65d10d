/**
 * The import of a backup this run verified (the cutover's build, the dry-run's trial) takes the
 * backup's whole-file hash on a worker while it reads the file (from 512 MB; here at any size:
 * VOX_CUTOVER_IMPORT_HASH_BESIDE_BYTES=0 and VOX_CUTOVER_HASH_BESIDE_BYTES=0). A table loaded inside
 * SQLite is only hashed as the file is read, so that hash is what holds its lines to the verified
 * file: a line edited after the verify, or while the import reads, must be refused as before, and
 * nothing created. Judged against Python's hashlib (an independent reader of the bytes).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { importBackup, type ImportReport } from "../../dist/src/backup/import.js";
import { HashOfRead } from "../../dist/src/util/file-hash-beside.js";
import { baselineImport } from "../fixtures/baseline-import.js";
import { cli, sampleInto, tmp } from "../helpers.js";

let dir: string;
let source: string;
let good: string;
let verified: string;
let natives: string[];
const p = (n: string) => join(dir, n);

/** The sha256 of the bytes before the last line (the trailer), by Python's hashlib: what the verify step records. */
const beforeTrailer = async (f: string) =>
  (
    await execa("python3", [
      "-c",
      "import hashlib,sys\nb=open(sys.argv[1],'rb').read()\nprint(hashlib.sha256(b[:b.rstrip(b'\\n').rfind(b'\\n')+1]).hexdigest())",
      f,
    ])
  ).stdout.trim();

const BESIDE = { VOX_CUTOVER_IMPORT_HASH_BESIDE_BYTES: "0", VOX_CUTOVER_HASH_BESIDE_BYTES: "0" };

/** Who took the whole-file hash apart from the read in the last `load` (undefined: it was taken as the file was read). */
let hashedBy: "worker" | "here" | null | undefined;

async function load(backup: string, target: string, env: Record<string, string>, onProgress?: (phase?: string) => void): Promise<ImportReport> {
  Object.assign(process.env, env);
  hashedBy = undefined;
  try {
    return await importBackup({
      backupPath: backup,
      targetPath: target,
      ...baselineImport(),
      source,
      verifiedSha256: verified,
      onProgress: (pr) => onProgress?.(pr.phase),
      onFileHash: (by) => void (hashedBy = by),
    });
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
  }
}

/** The file with one digit of the last row line of `table` changed (same length; its table's hash and the trailer as they were). */
function editRow(file: string, table: string): void {
  const lines = readFileSync(file).toString("latin1").split("\n");
  const start = lines.findIndex((l) => l.startsWith('{"k":"table"') && JSON.parse(l).name === table);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('{"k":"end"'));
  const i = lines.slice(start + 1, end).findLastIndex((l) => /[0-8]/.test(l)) + start + 1;
  expect(i).toBeGreaterThan(start);
  lines[i] = lines[i]!.replace(/[0-8]/, (d) => String(Number(d) + 1));
  writeFileSync(file, Buffer.from(lines.join("\n"), "latin1"));
}

beforeAll(async () => {
  dir = tmp("vox-import-hash-");
  source = (await sampleInto(dir, 10)).db;
  good = p("good.jsonl");
  const e = await cli(["export-legacy", good, "--db", source]);
  expect(e.exitCode, e.stderr).toBe(0);
  verified = await beforeTrailer(good);
  const r = await load(good, p("first.db"), {});
  natives = r.tables.filter((t) => t.loadedBy === "native").map((t) => t.source);
  expect(natives.length).toBeGreaterThan(100);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the import's whole-file hash beside its read", () => {
  it("the verified backup loads with its hash taken beside, the same file as with it taken here: the bytes' hash", async () => {
    const here = await load(good, p("here.db"), {});
    expect(hashedBy).toBeUndefined(); // below 512 MB: hashed as it is read
    const beside = await load(good, p("beside.db"), BESIDE);
    expect(hashedBy).toBe("worker");
    expect(beside.backupSha256).toBe(verified);
    expect(here.backupSha256).toBe(verified);
    expect(beside.loaded).toBe(here.loaded);
    expect(beside.tables.map((t) => [t.source, t.loadedBy, t.loaded])).toEqual(here.tables.map((t) => [t.source, t.loadedBy, t.loaded]));
  });

  it("a row of a table loaded inside SQLite edited after the verify (its table's hash and the trailer kept): refused either way, nothing created", async () => {
    const last = natives.at(-1)!;
    for (const [name, env, words] of [
      // Hashed as read: the trailer's whole-file hash differs at once.
      ["here", {}, /does not verify: the whole-file hash \([0-9a-f]{64}\) differs from the trailer's/],
      // Beside: the trailer still claims the verified hash; the worker's hash of the bytes does not.
      ["beside", BESIDE, /The backup changed between verification and import\. The import was rolled back\./],
    ] as const) {
      const f = p(`edited-${name}.jsonl`);
      copyFileSync(good, f);
      editRow(f, last);
      expect(await beforeTrailer(f)).not.toBe(verified);
      const e: unknown = await load(f, p(`edited-${name}.db`), env).catch((x: unknown) => x);
      expect(e, name).toBeInstanceOf(Error);
      expect((e as Error).message, name).toMatch(words);
      expect((e as { exitCode?: number }).exitCode, name).toBe(3);
      expect(existsSync(p(`edited-${name}.db`))).toBe(false);
    }
  });

  it("written while the import reads it, after the worker hashed it (VOX_CUTOVER_TEST_HASH_BESIDE=now: the hash taken at once): refused, nothing created", async () => {
    const f = p("racing.jsonl");
    copyFileSync(good, f);
    let edited = false;
    const onProgress = (phase?: string) => {
      if (edited || phase !== "copying rows into the new file") return;
      edited = true;
      editRow(f, natives.at(-1)!);
    };
    await expect(load(f, p("racing.db"), { ...BESIDE, VOX_CUTOVER_TEST_HASH_BESIDE: "now" }, onProgress)).rejects.toThrow(
      /The backup changed between verification and import/,
    );
    expect(edited).toBe(true);
    expect(hashedBy).toBeNull(); // the stat moved: not held
    expect(existsSync(p("racing.db"))).toBe(false);
  });
});

describe("HashOfRead", () => {
  it("the bytes before the trailer, by a worker or (never started) on this thread; null once the file was written after the read began; not beside below its threshold", async () => {
    process.env.VOX_CUTOVER_HASH_BESIDE_BYTES = "0";
    try {
      const started = new HashOfRead(good, true, 0);
      expect(started.beside).toBe(true);
      started.start();
      expect(await started.sha256()).toEqual({ sha256: verified, by: "worker" });
      const never = new HashOfRead(good, true, 0);
      expect(await never.sha256()).toEqual({ sha256: verified, by: "here" });
      const f = p("touched.jsonl");
      copyFileSync(good, f);
      const touched = new HashOfRead(f, true, 0);
      touched.start();
      utimesSync(f, new Date(), new Date(Date.now() - 60_000));
      expect(await touched.sha256()).toBeNull();
      expect(new HashOfRead(good, true, readFileSync(good).length + 1).beside).toBe(false);
    } finally {
      delete process.env.VOX_CUTOVER_HASH_BESIDE_BYTES;
    }
  });
});
