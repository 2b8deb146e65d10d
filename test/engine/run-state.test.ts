/** The run's state is reduced from the engine's events by one pure reducer: table-driven, each part checked through its step's schema. */
import { describe, expect, it } from "vitest";
import type { EngineEvent, ImportEvidence } from "../../src/engine/events.js";
import { EMPTY_RUN, reduceRun, runStateFromJournal, runStateOf, type RunState } from "../../src/engine/run-state.js";

const identity = { size: 8192, mtimeNs: "1", changeCounter: 3, walSize: null, walMtimeNs: null, walSha256: null };
const file = { dev: "1", ino: "2", size: 10, mtimeNs: "5", fingerprint: "f" };
const exportOut = { path: "/w/backup.jsonl", sha256: "ab", rows: 3, bytes: 10, identity, tables: [{ name: "users", rows: 3 }], file };
const evidence: ImportEvidence = {
  tables: [{ name: "users", target: "users", rowsIn: 3, loaded: 2, quarantined: 1, reasons: { "not-null": 1 }, partial: 0, columns: [] }],
  rowsIn: 3,
  loaded: 2,
  quarantined: 1,
  partial: 0,
  columnsToQuarantine: [],
  orphans: [{ table: "votes", count: 4 }],
  sequences: { entries: 0, restored: 0, quarantined: 0 },
  backupVerified: true,
};
const importOut = {
  path: "/d/.vox.db.new",
  loaded: 2,
  quarantined: 1,
  integrity: "ok",
  foreignKeyViolations: [{ table: "votes", count: 4 }],
  ftsRebuilt: [],
  tables: [{ name: "users", target: "users", rows: 3, loaded: 2, quarantined: 1 }],
  sequences: null,
  evidence,
  file,
};
const done = (id: string, outputs?: Record<string, unknown>, more: Partial<Extract<EngineEvent, { type: "step-done" }>> = {}): EngineEvent => ({
  type: "step-done",
  id,
  summary: `${id} done`,
  ...(outputs ? { outputs } : {}),
  ...more,
});

type Case = [name: string, events: EngineEvent[], check: (s: RunState) => void];
const plan: EngineEvent = {
  type: "plan",
  digest: "d",
  steps: [
    { id: "lock", stage: 0, kind: "read", title: "Lock", description: "" },
    { id: "export", stage: 1, kind: "write", title: "Export", description: "" },
    { id: "telemetry-check", stage: 3, kind: "read", title: "Telemetry", description: "" },
    { id: "swap", stage: 1, kind: "destructive", title: "Swap", description: "" },
  ],
};
const cases: Case[] = [
  ["nothing happened: every part empty", [], (s) => expect(s).toEqual(EMPTY_RUN)],
  [
    "the export: the backup (not verified yet) with the primary's state then",
    [done("export", exportOut)],
    (s) => expect(s.backup).toEqual({ path: "/w/backup.jsonl", sha256: "ab", rows: 3, verified: false, primaryAtExport: identity }),
  ],
  [
    "the verification: the backup verified",
    [done("export", exportOut), done("verify-backup", { verified: true, sha256: "ab", rows: 3 })],
    (s) => expect(s.backup?.verified).toBe(true),
  ],
  [
    "a verification of another file's hash does not verify this backup",
    [done("export", exportOut), done("verify-backup", { verified: true, sha256: "cd", rows: 3 })],
    (s) => expect(s.backup?.verified).toBe(false),
  ],
  [
    "the import: the new file and its evidence",
    [done("build-import", importOut)],
    (s) => expect([s.newFile, s.importEvidence?.orphans]).toEqual([{ path: "/d/.vox.db.new", by: "import" }, [{ table: "votes", count: 4 }]]),
  ],
  [
    "the fold: the new file is the folded copy",
    [
      done("fold", {
        path: "/d/.new",
        from: "3",
        to: 5,
        integrity: "ok",
        tables: [{ name: "t", rowsBefore: 1, rowsAfter: 1, unchanged: true }],
        added: 2,
        settings: { pageSize: 4096, autoVacuum: "none", encoding: "UTF-8", journalMode: "delete", userVersion: 0, applicationId: 0 },
        file,
      }),
    ],
    (s) => expect(s.newFile).toEqual({ path: "/d/.new", by: "fold" }),
  ],
  [
    "the dry-run's trial: the import evidence, no new file",
    [{ type: "trial", evidence }],
    (s) => expect([s.importEvidence?.quarantined, s.newFile]).toEqual([1, null]),
  ],
  [
    "the swap: where the original went",
    [done("swap", { archive: "/w/archive/vox.db", archiveFile: null })],
    (s) => expect(s.swap).toEqual({ archive: "/w/archive/vox.db" }),
  ],
  [
    "outputs of another shape (an event from a foreign writer) are not taken",
    [done("export", { ...exportOut, sha256: 12 }), done("swap", { archive: null })],
    (s) => expect([s.backup, s.swap, s.outputs]).toEqual([null, null, {}]),
  ],
  [
    "warnings and skipped steps are the events' data, one entry per step",
    [
      done("news", { mismatches: 2 }, { warnings: ["2 publication digest mismatch(es)"] }),
      done("telemetry-check", { skipped: true }, { skipped: true }),
      done("news", { mismatches: 2 }, { warnings: ["2 publication digest mismatch(es)"] }),
    ],
    (s) => expect([s.warnings, s.skipped]).toEqual([[{ step: "news", text: "2 publication digest mismatch(es)" }], ["telemetry-check"]]),
  ],
  [
    "a reused step keeps what the earlier attempt recorded",
    [done("export", exportOut), done("export", undefined, { reused: true, summary: "done in an earlier attempt" })],
    (s) => expect([s.backup?.sha256, s.steps.export]).toEqual(["ab", { status: "done", summary: "done in an earlier attempt", reused: true }]),
  ],
  [
    "a reused step re-emitted with what the journal recorded: its outputs, warnings and skipped",
    [
      done("news", { mismatches: 2 }, { reused: true, warnings: ["2 mismatch(es)"] }),
      done("sidecar", { exists: false, archive: null }, { reused: true, skipped: true }),
    ],
    (s) => expect([s.outputs.news, s.warnings, s.skipped]).toEqual([{ mismatches: 2 }, [{ step: "news", text: "2 mismatch(es)" }], ["sidecar"]]),
  ],
  [
    "a failure is named, and cleared when the step starts again",
    [
      { type: "step-start", id: "swap", title: "Swap" },
      { type: "step-failed", id: "swap", message: "held" },
    ],
    (s) => expect([s.failed, s.steps.swap?.status]).toEqual([{ step: "swap", message: "held" }, "failed"]),
  ],
  [
    "…cleared when the step starts again",
    [
      { type: "step-failed", id: "swap", message: "held" },
      { type: "step-start", id: "swap", title: "Swap" },
    ],
    (s) => expect(s.failed).toBeNull(),
  ],
  [
    "a new plan starts an attempt: a passed Stage 0 check keeps its result, later steps are pending until reached, what the run made stays",
    [
      plan,
      done("lock", undefined, { warnings: ["held by pid 7"] }),
      done("export", exportOut, { warnings: ["w"] }),
      done("telemetry-check", undefined, { skipped: true }),
      { type: "step-failed", id: "swap", message: "held" },
      plan,
    ],
    (s) => {
      expect(s.plan.map((x) => x.id)).toEqual(["lock", "export", "telemetry-check", "swap"]);
      expect(s.steps).toEqual({
        lock: { status: "done", summary: "lock done" },
        export: { status: "pending" },
        "telemetry-check": { status: "pending" },
        swap: { status: "pending" },
      });
      expect([s.warnings, s.skipped, s.failed]).toEqual([[{ step: "lock", text: "held by pid 7" }], [], null]);
      expect(s.backup?.sha256).toBe("ab");
    },
  ],
  [
    "progress and notes change nothing",
    [
      { type: "step-progress", id: "export", done: 1, total: 2 },
      { type: "note", text: "hello" },
    ],
    (s) => expect(s).toEqual(EMPTY_RUN),
  ],
];

describe("reduceRun", () => {
  it.each(cases)("%s", (_name, events, check) => check(runStateOf(events)));

  it("is pure: the state it was given is not changed", () => {
    const before = runStateOf([done("export", exportOut)]);
    const copy = structuredClone(before);
    reduceRun(before, done("verify-backup", { verified: true, sha256: "ab", rows: 3 }));
    reduceRun(before, { type: "step-failed", id: "x", message: "m" });
    expect(before).toEqual(copy);
  });

  it("a journal's finished steps give the same state as the events that reported them (resume reads it)", () => {
    const journal = new Map<string, Record<string, unknown>>([
      ["export", { ...exportOut, summary: "3 rows" }],
      ["build-import", { ...importOut, summary: "2 loaded" }],
    ]);
    const s = runStateFromJournal(journal);
    expect(s.outputs).toEqual(runStateOf([done("export", exportOut), done("build-import", importOut)]).outputs);
    expect(s.backup?.primaryAtExport).toEqual(identity);
    expect(s.steps.export?.summary).toBe("3 rows");
  });
});
