/** The engine's decisions as pure functions, table-tested: journal state, reuse on resume, rollback ownership, plan-digest inputs, owned paths. */
import { describe, expect, it } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { journalState, readJournal, type Stamped } from "../../src/engine/journal.js";
import { reuseOnResume } from "../../src/cutover/index.js";
import { checkOwnedPath, checkPlanOption, checkWorkDir, identify, planDefaultWorkDir } from "../../src/safety/guard.js";
import { planDigest, type PlanIdentity } from "../../src/db/plan-digest.js";
import { isOwnTempBeside, isPartial, newFilePath } from "../../src/layout.js";
import { VoxError } from "../../src/errors.js";
import type { RunContext } from "../../stages/types.js";
import { tmp } from "../helpers.js";

const start: Stamped = {
  ts: "2026-01-01T00:00:00Z",
  e: "run-start",
  runId: "r1",
  command: "cutover",
  db: "/d/vox.db",
  chain: "legacy",
  chainBefore: "legacy",
  maxVersionBefore: "110",
  route: "rebuild",
  planDigest: "0123456789abcdef",
  workDir: "/d/w",
  backupPath: "/d/w/backup.jsonl",
  newPath: "/d/.vox.db.vox-cutover-new",
  archiveDir: "/d/w/archive",
  toolVersion: "0.1.0",
  identity: { path: "/d/vox.db", real: "/d/vox.db", dev: "1", ino: "2" },
};
const at = (e: Record<string, unknown>): Stamped => ({ ts: "2026-01-01T00:00:01Z", ...e }) as Stamped;

describe("journal state", () => {
  it.each([
    ["started only", [start], { swapPhase: "none", finished: false, lastStep: null }],
    [
      "export done",
      [start, at({ e: "step-start", step: "export" }), at({ e: "step-done", step: "export", outputs: { sha256: "x" } })],
      { swapPhase: "none", finished: false, lastStep: "export" },
    ],
    [
      "killed mid-swap",
      [start, at({ e: "step-start", step: "swap" }), at({ e: "swap", phase: "intent" }), at({ e: "swap", phase: "primary-archived" })],
      { swapPhase: "primary-archived", finished: false, lastStep: "swap" },
    ],
    [
      "finished",
      [
        start,
        at({ e: "swap", phase: "new-in-place" }),
        at({
          e: "run-done",
          outcome: "completed",
          finalIdentity: { size: 1, mtimeNs: "1", changeCounter: 3, walSize: null, walMtimeNs: null },
          finalInode: { dev: "1", ino: "9" },
        }),
      ],
      { swapPhase: "new-in-place", finished: true, lastStep: null },
    ],
    ["rolled back", [start, at({ e: "rollback-start" }), at({ e: "rollback-done", restored: false })], { rolledBack: true }],
  ])("%s", (_name, entries, want) => {
    const s = journalState(entries as Stamped[]);
    expect(s).toMatchObject(want);
    expect(s.start?.chainBefore).toBe("legacy");
    expect(s.start?.identity?.real).toBe("/d/vox.db");
  });

  it("keeps the final identity of a finished run (rollback after finish checks it)", () => {
    const s = journalState([
      start,
      at({
        e: "run-done",
        outcome: "completed",
        finalIdentity: { size: 4096, mtimeNs: "5", changeCounter: 7, walSize: null, walMtimeNs: null },
        finalInode: { dev: "1", ino: "9" },
      }),
    ]);
    expect(s.final).toEqual({ identity: { size: 4096, mtimeNs: "5", changeCounter: 7, walSize: null, walMtimeNs: null }, inode: { dev: "1", ino: "9" } });
  });

  it("reading stops at a torn last line and at a line this tool did not write (checked, not cast)", () => {
    const d = tmp();
    const p = join(d, "journal.jsonl");
    writeFileSync(
      p,
      [
        JSON.stringify(start),
        JSON.stringify(at({ e: "step-start", step: "export" })),
        '{"e":"swap","phase":"sideways"}',
        JSON.stringify(at({ e: "run-done", outcome: "completed" })),
      ].join("\n") + "\n",
    );
    expect(readJournal(p).map((e) => e.e)).toEqual(["run-start", "step-start"]);
    writeFileSync(p, JSON.stringify(start) + "\n" + '{"ts":"x","e":"step-do');
    expect(readJournal(p)).toHaveLength(1);
  });
});

describe("reuse on resume", () => {
  const ctx = (swapPhase: RunContext["swapPhase"]) => ({ swapPhase }) as RunContext;
  it.each([
    ["lock is never reused", { reuse: "never" as const }, "none", 3, 12, false],
    ["lock is never reused even past the swap", { reuse: "never" as const }, "new-in-place", 3, 12, false],
    ["disk is always reused", { reuse: "always" as const }, "none", 2, 12, true],
    ["export reused when its file holds", { reuse: "check" as const, reusable: () => true }, "none", 7, 12, true],
    ["export run again when its file is gone", { reuse: "check" as const, reusable: () => false }, "none", 7, 12, false],
    ["a step without reuse runs again", {}, "none", 9, 12, false],
    ["past the swap every earlier step is reused", { reuse: "check" as const, reusable: () => false }, "primary-archived", 7, 12, true],
    ["the swap itself is not reused (it finishes)", {}, "primary-archived", 12, 12, false],
    ["steps after the swap run again", {}, "new-in-place", 13, 12, false],
  ])("%s", (_n, step, phase, index, swapIdx, want) => {
    expect(reuseOnResume(step, ctx(phase as RunContext["swapPhase"]), { summary: "x" }, index, swapIdx)).toBe(want);
  });
});

describe("rollback ownership: only the product's own temporary files beside the database", () => {
  const db = "/data/vox.db";
  it.each([
    [".vox.db.vox-cutover-new", true],
    [".vox.db.vox-cutover-new-journal", true],
    ["..vox.db.vox-cutover-new.vox-cutover-building-123", true],
    ["..vox.db.vox-cutover-new.vox-cutover-building-123-journal", true],
    [".vox.db.vox-cutover-creating-4711", true],
    [".vox.db.vox-cutover-creating-4711-journal", true],
    ["vox.db", false],
    ["vox.db-wal", false],
    ["vox_training_telemetry.db", false],
    [".vox.db.vox-cutover-new.bak-by-hand", false],
    [".other.db.vox-cutover-new", false],
    ["vox.db.vox-cutover.lock", false],
  ])("%s → %s", (name, ours) => {
    expect(isOwnTempBeside(db, name)).toBe(ours);
  });
  it("the new file's name", () => expect(newFilePath(db)).toBe("/data/.vox.db.vox-cutover-new"));
  it.each([
    [".backup.jsonl.partial-123", true],
    ["backup.jsonl", false],
    [".backup.jsonl.partial-x", false],
  ])("partial %s → %s", (n, v) => expect(isPartial(n)).toBe(v));
});

describe("plan digest inputs", () => {
  const base: PlanIdentity = {
    db: "/d/vox.db",
    chain: "legacy",
    sizeBytes: 4096,
    walBytes: null,
    changeCounter: 3,
    steps: ["export:write", "swap:destructive"],
    target: "0xabc",
  };
  it("the same inputs give the same digest (16 hex digits)", () => {
    expect(planDigest(base)).toBe(planDigest({ ...base, steps: [...base.steps] }));
    expect(planDigest(base)).toMatch(/^[0-9a-f]{16}$/);
  });
  it.each([
    ["db", { db: "/d/other.db" }],
    ["chain", { chain: "behind" }],
    ["size", { sizeBytes: 8192 }],
    ["wal", { walBytes: 32 }],
    ["change counter", { changeCounter: 4 }],
    ["steps", { steps: ["export:write"] }],
    ["target", { target: "0xdef" }],
  ])("%s changes the digest", (_n, change) => {
    expect(planDigest({ ...base, ...change })).not.toBe(planDigest(base));
  });
  it.each([
    ["", false],
    ["xyz", false],
    ["0123456789ABCDEF", false],
    ["0123456789abcdef", true],
    [undefined, true],
  ])("--plan %j accepted: %s", (v, ok) => {
    if (ok) expect(() => checkPlanOption(v)).not.toThrow();
    else expect(() => checkPlanOption(v)).toThrow(expect.objectContaining({ kind: "usage" }));
  });
});

describe("owned paths and work dirs", () => {
  const kind = (f: () => unknown): string => {
    try {
      f();
      return "ok";
    } catch (e) {
      return e instanceof VoxError ? e.kind : "crash";
    }
  };
  it("decides per path", () => {
    const d = tmp();
    const db = join(d, "vox.db");
    writeFileSync(db, "x");
    writeFileSync(join(d, "vox_training_telemetry.db"), "s");
    writeFileSync(join(d, "taken.jsonl"), "t");
    const run = join(d, "run");
    mkdirSync(run);
    writeFileSync(
      join(run, ".vox-cutover-run.json"),
      JSON.stringify({ format: "vox-cutover-run", runId: "other", command: "cutover", db, dev: null, ino: null, createdAt: "t" }),
    );
    const id = identify(db);
    const owned = (p: string, ours = false) => kind(() => checkOwnedPath({ flag: "--backup", path: p, ours }, id, "me"));
    expect(owned(join(d, "new.jsonl"))).toBe("ok");
    expect(owned(db)).toBe("refused");
    expect(owned(`${db}-wal`)).toBe("refused");
    expect(owned(join(d, "vox_training_telemetry.db"))).toBe("refused");
    expect(owned(join(d, "taken.jsonl"))).toBe("refused");
    expect(owned(join(d, "taken.jsonl"), true)).toBe("ok");
    expect(owned(join(run, "b.jsonl"))).toBe("refused");
    expect(owned(join(d, "missing", "b.jsonl"))).toBe("usage");
    // a backup inside the work dir the run is about to make (the wizard's rehearsal) needs no folder yet
    expect(kind(() => checkOwnedPath({ flag: "--backup", path: join(d, "newrun", "b.jsonl"), within: join(d, "newrun") }, id, "me"))).toBe("ok");
    const wd = (p: string, ours = false) => kind(() => checkWorkDir(p, id, "me", ours));
    expect(wd(join(d, "fresh"))).toBe("ok");
    expect(wd(db)).toBe("refused");
    expect(wd(join(d, "taken.jsonl"))).toBe("refused");
    expect(wd(run)).toBe("refused");
    expect(wd(join(run, "inner"))).toBe("refused");
    expect(kind(() => checkWorkDir(run, id, "other", true))).toBe("ok");
  });
  it("default work dirs: the next free name in the same second", () => {
    const d = tmp();
    const db = join(d, "vox.db");
    const now = new Date("2026-01-02T03:04:05.678Z");
    const first = planDefaultWorkDir(db, now);
    expect(first).toBe(join(d, "vox-cutover-runs", "20260102T030405Z"));
    mkdirSync(first, { recursive: true });
    expect(planDefaultWorkDir(db, now)).toBe(`${first}-2`);
  });
});
