/**
 * One RollbackPlan: the finished run's report carries it (the wizard's summary shows it), the
 * rollback dry-run shows the same plan and changes nothing, and --apply does exactly what it
 * listed. Files are judged by their sha256 and rows by Python's sqlite3, not by our own code.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
// The engine from the build: its export and verify run worker threads from compiled files.
import { resolveDatabase } from "../../dist/src/db/resolve.js";
import { runCutover, type CutoverReport } from "../../dist/src/cutover/index.js";
import { VoxError } from "../../dist/src/errors.js";
import { rollbackLines, type RollbackPlan } from "../../src/rollback/plan.js";
import { sampleInto, sha256, snapshotDir, tmp } from "../helpers.js";

const noEmit = () => {};

function pyRows(db: string, table: string): number {
  return Number(
    execFileSync("python3", [
      "-c",
      "import sqlite3,sys\nc=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True)\nprint(c.execute('SELECT count(*) FROM \"'+sys.argv[2]+'\"').fetchone()[0])",
      db,
      table,
    ])
      .toString()
      .trim(),
  );
}

function pyWrite(db: string): void {
  execFileSync("python3", [
    "-c",
    "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.execute(\"INSERT INTO cutover_ledger(run_id, command, mode, counts_json, tool_version, status, created_at) VALUES ('by-vox', 'vox', 'apply', '{}', 'vox', 'ok', 'now')\")\nc.commit()\nc.close()",
    db,
  ]);
}

const rollback = (db: string, apply: boolean, force = false) =>
  runCutover({ resolved: resolveDatabase({ db }), apply, rollback: true, force, command: "cutover", emit: noEmit });

describe("one RollbackPlan for the dry-run, the wizard and the executor", () => {
  let db: string;
  let dir: string;
  let orig: string;
  let done: CutoverReport;
  beforeAll(async () => {
    ({ db, dir, orig } = await sampleInto(tmp("vox-rbplan-"), 20));
    done = await runCutover({ resolved: resolveDatabase({ db }), apply: true, command: "cutover", emit: noEmit });
  });

  it("the finished run's report carries the plan; the dry-run shows the same plan and changes nothing", async () => {
    expect(done.outcome).toBe("completed");
    const plan = done.rollback as RollbackPlan;
    expect(plan.finished).toBe(true);
    expect(plan.refusal).toBeNull();
    const archive = join(done.workDir!, "archive", "vox.db");
    expect(plan.actions).toEqual([
      { kind: "keep-new", from: db, to: join(done.workDir!, "rolled-back-new.db"), checkpoint: true },
      { kind: "restore-original", from: archive, to: db },
      { kind: "restore-sidecar", from: join(done.workDir!, "archive", "vox_training_telemetry.db"), to: join(dir, "vox_training_telemetry.db") },
    ]);
    expect(sha256(archive)).toBe(orig); // the plan names the file the run archived
    const before = snapshotDir(dir);
    const dry = await rollback(db, false);
    expect(dry.rollback).toEqual(plan);
    for (const line of rollbackLines(plan)) expect(dry.message).toContain(line);
    expect(dry.message).toMatch(/Add --apply to do it\.$/);
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("a database written since the cutover: the plan says --apply refuses, and it does (3) with nothing moved", async () => {
    const d = await sampleInto(tmp("vox-rbplan-w-"), 10);
    await runCutover({ resolved: resolveDatabase({ db: d.db }), apply: true, command: "cutover", emit: noEmit });
    pyWrite(d.db);
    const dry = await rollback(d.db, false);
    expect(dry.rollback!.refusal).toMatchObject({ kind: "changed-since-finish" });
    expect(dry.message).toMatch(/--apply refuses unless --force/);
    expect(dry.message).not.toMatch(/Add --apply to do it/);
    const before = snapshotDir(d.dir);
    const err = await rollback(d.db, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VoxError);
    expect((err as VoxError).exitCode).toBe(3);
    expect((err as VoxError).message).toMatch(/changed since the cutover finished/);
    expect(snapshotDir(d.dir)).toEqual(before);
    const forced = await rollback(d.db, true, true);
    expect(forced.outcome).toBe("rolled-back");
    expect(sha256(d.db)).toBe(d.orig);
    expect(pyRows(join(forced.workDir!, "rolled-back-new.db"), "cutover_ledger")).toBeGreaterThanOrEqual(2); // vox's write is kept with the new file
  });

  it("--apply does what the plan listed: the original back byte for byte, the new file kept where the plan said, the sidecar home", async () => {
    const plan = done.rollback as RollbackPlan;
    const newSha = sha256(db);
    const rows = pyRows(db, "cutover_ledger");
    const r = await rollback(db, true);
    expect(r.outcome).toBe("rolled-back");
    expect(sha256(db)).toBe(orig);
    const keep = plan.actions.find((a) => a.kind === "keep-new")!;
    expect(keep.kind === "keep-new" && sha256(keep.to)).toBe(newSha);
    expect(pyRows(keep.kind === "keep-new" ? keep.to : "", "cutover_ledger")).toBe(rows);
    expect(existsSync(join(dir, "vox_training_telemetry.db"))).toBe(true);
    expect(existsSync(join(done.workDir!, "archive", "vox.db"))).toBe(false);
    expect(r.message).toMatch(
      /the new file is kept at .*rolled-back-new\.db; the original was put back from .*archive\/vox\.db; the sidecar was put back beside it\. The backup .* is kept\./,
    );
  });
});

describe("rollbackLines words every action and refusal (table)", () => {
  const base: RollbackPlan = {
    runId: "r",
    dbPath: "/d/vox.db",
    workDir: "/d/w",
    archiveDir: "/d/w/archive",
    finished: false,
    swapPhase: "none",
    actions: [],
    backupKept: null,
    refusal: null,
  };
  const cases: [string, Partial<RollbackPlan>, RegExp[]][] = [
    ["nothing moved yet, no backup", {}, [/^vox.db is the original and stays where it is \(never moved\)\.$/, /^Kept: no backup had been finished/]],
    ["archive only a second name", { actions: [{ kind: "drop-archive-name", path: "/d/w/archive/vox.db" }] }, [/never replaced/]],
    [
      "unfinished new file and partials",
      {
        backupKept: "/d/w/b.jsonl",
        actions: [
          { kind: "remove-temp", path: "/d/.vox.db.vox-cutover-new", newFile: true },
          { kind: "remove-partial", path: "/d/w/.b.jsonl.partial-1" },
        ],
      },
      [/^Removed: the unfinished new file \/d\/.vox.db.vox-cutover-new/, /^Removed: 1 partial file\(s\) of the run\. Kept: the backup \/d\/w\/b.jsonl/],
    ],
    [
      "swap finished",
      {
        swapPhase: "new-in-place",
        actions: [
          { kind: "keep-new", from: "/d/vox.db", to: "/d/w/rolled-back-new.db", checkpoint: false },
          { kind: "restore-original", from: "/d/w/archive/vox.db", to: "/d/vox.db" },
        ],
      },
      [
        /^\/d\/vox.db \(the new file, with every write made since the swap\) → \/d\/w\/rolled-back-new.db \(kept, not deleted\)$/,
        /^\/d\/w\/archive\/vox.db \(the original\) → \/d\/vox.db$/,
      ],
    ],
    ["archive missing", { finished: true, refusal: { kind: "archive-missing", archive: "/d/w/archive/vox.db" } }, [/is not there: --apply cannot put it back/]],
    [
      "primary not the original",
      { refusal: { kind: "primary-not-original", archive: "/d/w/archive/vox.db", detail: "not there" } },
      [/is gone and \/d\/vox.db is not there: --apply refuses/],
    ],
  ];
  it.each(cases)("%s", (_name, over, want) => {
    const lines = rollbackLines({ ...base, ...over });
    for (const re of want)
      expect(
        lines.some((l) => re.test(l)),
        `${re} in ${JSON.stringify(lines)}`,
      ).toBe(true);
  });
});
