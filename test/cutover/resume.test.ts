/** Resume is offered only where it can succeed: the engine's answer from the journal's data (the gate that refused) and the primary's content, never from an error's words. */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { journalState, type Stamped } from "../../src/engine/journal.js";
import { resumability } from "../../src/cutover/resume.js";
import { contentState } from "../../src/safety/content-version.js";
import { birthNsOf, inodeOf } from "../../src/safety/identity.js";
import { sampleInto, tmp } from "../helpers.js";
// The engine from the build: its export and verify run worker threads from compiled files.
import { resolveDatabase } from "../../dist/src/db/resolve.js";
import { runCutover } from "../../dist/src/cutover/index.js";
import { VoxError } from "../../dist/src/errors.js";
import { CancelToken } from "../../dist/src/util/cancel.js";
import { readFileSync } from "node:fs";
import { unfinishedRun } from "../../src/engine/runs.js";

const start = {
  ts: "2026-01-01T00:00:00Z",
  e: "run-start",
  runId: "r1",
  command: "cutover",
  db: "/d/vox.db",
  chain: "legacy",
  planDigest: "0123456789abcdef",
  workDir: "/d/w",
  backupPath: "/d/w/backup.jsonl",
  newPath: "/d/.vox.db.vox-cutover-new",
  archiveDir: "/d/w/archive",
  toolVersion: "0.1.0",
} as Stamped;
const at = (e: Record<string, unknown>): Stamped => ({ ts: "2026-01-01T00:00:01Z", ...e }) as Stamped;
/** The export step's outputs as the engine journals them (its schema: src/engine/step-outputs.ts). */
const exportOutputs = (identity: unknown) => ({
  path: "/d/w/backup.jsonl",
  sha256: "ab",
  rows: 1,
  bytes: 10,
  identity,
  tables: [{ name: "t", rows: 1 }],
  file: { dev: "1", ino: "2", size: 10, mtimeNs: "0", fingerprint: "f" },
  summary: "1 row",
});

function py(db: string, sql: string): void {
  execFileSync("python3", ["-c", "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.executescript(sys.argv[2])\nc.commit()\nc.close()", db, sql]);
}

describe("resumability (table)", () => {
  const db = join(tmp("vox-resume-"), "vox.db");
  py(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
  const exported = at({ e: "step-done", step: "export", outputs: exportOutputs(contentState(db)) });
  const cases: [string, Stamped[], boolean, RegExp?][] = [
    [
      "stopped on the live-write gate (data, whatever the message says)",
      [start, exported, at({ e: "step-failed", step: "primary-unchanged", message: "anything", gate: "live-write" })],
      false,
      /written to after the export/,
    ],
    [
      "the same words without the gate: another failure, resumable",
      [start, exported, at({ e: "step-failed", step: "swap", message: "The backup does not equal the primary; changed since the export" })],
      true,
    ],
    [
      "a gate failure later passed (step-done after it)",
      [
        start,
        exported,
        at({ e: "step-failed", step: "primary-unchanged", message: "x", gate: "live-write" }),
        at({ e: "step-done", step: "primary-unchanged", outputs: {} }),
      ],
      true,
    ],
    ["interrupted", [start, exported, at({ e: "interrupted", step: "build-import", signal: "SIGINT" })], true],
  ];
  it.each(cases)("%s", (_name, entries, want, why) => {
    const r = resumability({ workDir: "/d/w", state: journalState(entries) }, db);
    expect(r.resumable).toBe(want);
    if (why && !r.resumable) expect(r.whyNot).toMatch(why);
  });

  it("another file at the name before the swap began (its inode, or the gate journaled): not resumable, the rollback closes the run; after the swap began the check does not apply", () => {
    const ino = inodeOf(db)!;
    const own = { ...start, identity: { real: db, dev: ino.dev, ino: ino.ino } } as Stamped;
    const other = { ...start, identity: { real: db, dev: ino.dev, ino: String(BigInt(ino.ino) + 1n) } } as Stamped;
    expect(resumability({ workDir: "/d/w", state: journalState([own, exported]) }, db).resumable).toBe(true);
    const r = resumability({ workDir: "/d/w", state: journalState([other, exported]) }, db);
    expect(r).toEqual({ resumable: false, whyNot: expect.stringMatching(/another file is at the database's name now .* rolling back closes the run/) });
    // The gate journaled by a refused resume does not outlive the file: the original put back, a resume goes on.
    const gate = at({ e: "step-failed", step: "lock", message: "anything", gate: "replaced" });
    expect(resumability({ workDir: "/d/w", state: journalState([own, exported, gate]) }, db).resumable).toBe(true);
    expect(resumability({ workDir: "/d/w", state: journalState([other, exported, gate]) }, db).resumable).toBe(false);
    expect(resumability({ workDir: "/d/w", state: journalState([other, exported, at({ e: "swap", phase: "new-in-place" })]) }, db).resumable).toBe(true);
  });

  it("the same inode number with another birth time (a file deleted and another copied in, ext4 reusing the number) is another file; no birth time kept: device + inode decide", () => {
    const ino = inodeOf(db)!;
    const born = birthNsOf(db);
    expect(born).toBeGreaterThan(0n); // ext4 keeps one
    const as = (b: string | null) => ({ ...start, identity: { real: db, dev: ino.dev, ino: ino.ino, born: b } }) as Stamped;
    expect(resumability({ workDir: "/d/w", state: journalState([as(String(born)), exported]) }, db).resumable).toBe(true);
    expect(resumability({ workDir: "/d/w", state: journalState([as(String(born - 1n)), exported]) }, db)).toEqual({
      resumable: false,
      whyNot: expect.stringMatching(/another file is at the database's name now/),
    });
    expect(resumability({ workDir: "/d/w", state: journalState([as(null), exported]) }, db).resumable).toBe(true);
  });

  it("an interrupt a later resume got past is not where the run stopped (the step that then failed is)", () => {
    const st = journalState([
      start,
      at({ e: "interrupted", step: "export", signal: "SIGINT" }),
      at({ e: "step-done", step: "export", outputs: {} }),
      at({ e: "step-failed", step: "verify-backup", message: "x", gate: "live-write" }),
    ]);
    expect(st.interruptedAt).toBeNull();
    expect(st.stoppedOn?.step).toBe("verify-backup");
  });

  it("the primary written to since the export (a row committed by Python's sqlite3): not resumable; after the swap began the check does not apply", () => {
    const d = join(tmp("vox-resume-w-"), "vox.db");
    py(d, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    const exp = at({ e: "step-done", step: "export", outputs: exportOutputs(contentState(d)) });
    expect(resumability({ workDir: "/d/w", state: journalState([start, exp]) }, d).resumable).toBe(true);
    py(d, "INSERT INTO t VALUES (2);");
    const r = resumability({ workDir: "/d/w", state: journalState([start, exp]) }, d);
    expect(r).toEqual({ resumable: false, whyNot: expect.stringMatching(/changed since the export/) });
    expect(resumability({ workDir: "/d/w", state: journalState([start, exp, at({ e: "swap", phase: "new-in-place" })]) }, d).resumable).toBe(true);
  });
});

describe("the live-write gate is journaled as data", () => {
  it("a row committed (Python's sqlite3) before the checks: the run refuses (3), the journal records the gate, and the engine says Resume cannot succeed", async () => {
    const { db } = await sampleInto(tmp("vox-resume-gate-"), 10);
    let wrote = false;
    const err = await runCutover({
      resolved: resolveDatabase({ db }),
      apply: true,
      command: "cutover",
      emit: (e) => {
        if (!wrote && e.type === "step-start" && e.id === "checks") {
          wrote = true;
          py(db, "INSERT INTO names(namespace, name, hash) VALUES ('writer', 'during-checks', '1')");
        }
      },
    }).catch((e: unknown) => e);
    expect(wrote).toBe(true);
    expect(err).toBeInstanceOf(VoxError);
    expect((err as VoxError).exitCode).toBe(3);
    const run = unfinishedRun(db)!;
    expect(run.state.stoppedOn).toMatchObject({ step: "primary-unchanged", gate: "live-write" });
    expect(resumability(run, db)).toEqual({ resumable: false, whyNot: expect.stringMatching(/written to after the export/) });
  });
});

describe("a resumed run keeps the first attempt's warnings", () => {
  it("stopped right after the sidecar merge (conflicts: a warning), resumed: the reused step carries its warning into the events, report.json and report.md; the count agrees with sqlite3", async () => {
    const { db } = await sampleInto(tmp("vox-resume-warn-"), 10);
    const resolved = resolveDatabase({ db });
    const token = new CancelToken();
    const first: { id: string; warnings?: string[] }[] = [];
    const err = await runCutover({
      resolved,
      apply: true,
      command: "cutover",
      options: { sidecarMerge: true },
      token,
      emit: (e) => {
        if (e.type === "step-done") first.push({ id: e.id, warnings: e.warnings });
        if (e.type === "step-done" && e.id === "sidecar") token.request("SIGINT"); // stop at the next safe point
      },
    }).catch((e: unknown) => e);
    expect((err as VoxError).kind).toBe("interrupted");
    const warned = first.find((x) => x.id === "sidecar")!.warnings ?? [];
    expect(warned).toEqual([expect.stringMatching(/^\d+ sidecar conflict\(s\) put in legacy_quarantine$/)]);
    const again: { id: string; reused?: boolean; warnings?: string[] }[] = [];
    const report = await runCutover({
      resolved,
      apply: true,
      resume: true,
      command: "cutover",
      emit: (e) => void (e.type === "step-done" && again.push({ id: e.id, reused: e.reused, warnings: e.warnings })),
    });
    expect(again.find((x) => x.id === "sidecar")).toEqual({ id: "sidecar", reused: true, warnings: warned });
    expect(report.steps.find((x: { id: string }) => x.id === "sidecar")).toMatchObject({ status: "reused", warnings: warned });
    const json = JSON.parse(readFileSync(join(report.workDir!, "report.json"), "utf8"));
    expect(json.steps.find((x: { id: string }) => x.id === "sidecar").warnings).toEqual(warned);
    expect(readFileSync(join(report.workDir!, "report.md"), "utf8")).toContain(`- sidecar: ${warned[0]}`);
    // the number in the warning is the rows legacy_quarantine holds for that reason (Python's sqlite3 reads it)
    const n = execFileSync("python3", [
      "-c",
      "import sqlite3,sys\nprint(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from legacy_quarantine where reason='sidecar-conflict'\").fetchone()[0])",
      db,
    ])
      .toString()
      .trim();
    expect(warned[0]).toMatch(new RegExp(`^${n} sidecar conflict`));
  });
});
