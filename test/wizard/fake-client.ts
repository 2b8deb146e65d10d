import { dirname, join } from "node:path";
import type { CutoverReport } from "../../src/cutover/index.js";
import type { DecisionAnswer, DecisionRequest, EngineEvent } from "../../src/engine/events.js";
import type { EngineClient, Inspection, RunJob, RunOutcome } from "../../src/ui/protocol.js";

export function inspection(over: Partial<Inspection> = {}): Inspection {
  return {
    resolved: { display: "/data/vox.db", why: "given with --db", source: "--db", kind: "file", path: "/data/vox.db", warnings: [] },
    exists: true,
    chain: "legacy",
    reason: "some rows are neither the baseline nor in baseline_history",
    explanation: "some rows are neither the baseline nor in baseline_history. It cannot be folded in place.",
    unfinished: null,
    ...over,
  };
}

export function report(over: Partial<CutoverReport> = {}): CutoverReport {
  const steps = [
    ["resolve", 0, "read"],
    ["disk", 0, "read"],
    ["export", 1, "write"],
    ["swap", 1, "destructive"],
    ["sidecar", 2, "destructive"],
    ["telemetry-check", 3, "read"],
    ["news", 4, "write"],
  ] as const;
  return {
    mode: "dry-run",
    outcome: "planned",
    runId: "run-1",
    planDigest: "abcdef0123456789",
    before: { chain: "legacy" },
    after: { chain: "legacy" },
    workDir: "/data/vox-cutover-runs/x",
    backup: { path: "/data/vox-cutover-runs/x/backup.jsonl", verified: false, sha256: null },
    archive: { path: null },
    newPath: null,
    tables: [],
    quarantined: 0,
    steps: steps.map(([id, stage, kind]) => ({
      id,
      stage,
      kind,
      title: `Title of ${id}`,
      status: stage === 0 ? "done" : "pending",
      summary: stage === 0 ? `${id} ok` : `what ${id} does`,
    })),
    rollbackCommand: "vox-cutover cutover --db /data/vox.db --rollback --apply",
    resumeCommand: null,
    message: "",
    durationMs: 5,
    ...over,
  };
}

type Script = (job: RunJob, on: { event(e: EngineEvent): void; request(r: DecisionRequest): Promise<DecisionAnswer> }) => Promise<RunOutcome>;

/** A scripted engine: records every call; `apply` decides what a real run does. */
export function fakeClient(
  opts: { inspect?: (db?: string) => Inspection; apply?: Script; plan?: (on: { event(e: EngineEvent): void }) => RunOutcome | Promise<RunOutcome> } = {},
) {
  const calls: { type: string; arg?: unknown }[] = [];
  const answers: DecisionAnswer[] = [];
  const client: EngineClient & { calls: typeof calls; answers: typeof answers } = {
    calls,
    answers,
    async inspect(db) {
      calls.push({ type: "inspect", arg: db });
      return (opts.inspect ?? (() => inspection()))(db);
    },
    async makeSample() {
      calls.push({ type: "sample" });
      return { db: "/tmp/sample/vox.db", dir: "/tmp/sample" };
    },
    async clone(db) {
      calls.push({ type: "clone", arg: db });
      return { db: "/tmp/clone/vox.db", scratch: "/tmp/clone" };
    },
    async run(job, on) {
      calls.push({ type: "run", arg: job });
      // Like the engine's dry-run: the backup goes into the run's work dir (given, or beside the database).
      const workDir = job.workDir ?? join(dirname(job.db), "vox-cutover-runs", "20260101T000000Z");
      const planned = report({ workDir, backup: { path: join(workDir, "backup.jsonl"), verified: false, sha256: null } });
      if (!job.apply) return opts.plan ? opts.plan(on) : { ok: true, report: planned };
      const wrapped = {
        event: on.event,
        request: async (r: DecisionRequest) => {
          const a = await on.request(r);
          answers.push(a);
          return a;
        },
      };
      return (opts.apply ?? (async () => ({ ok: true, report: report({ mode: "apply", outcome: "completed" }) })))(job, wrapped);
    },
    async setTarget(kind) {
      calls.push({ type: "use-target", arg: kind });
    },
    cancel() {
      calls.push({ type: "cancel" });
    },
    close() {},
  };
  return client;
}
