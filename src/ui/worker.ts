/**
 * The engine, off the UI thread: export and import run synchronously inside a step, so the wizard
 * keeps rendering progress while they work. Only this side touches databases.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { diagnose, loadBaselineContext } from "../diagnose/diagnose.js";
import { resolveDatabase } from "../db/resolve.js";
import { EXIT, VoxError } from "../errors.js";
import { CancelToken } from "../util/cancel.js";
import { cloneWithSidecar } from "../db/clone.js";
import { runCutover } from "../cutover/index.js";
import type { DecisionAnswer } from "../engine/events.js";
import { readJournal, JOURNAL_NAME } from "../engine/journal.js";
import { runKind, unfinishedRun, type RunOnDisk } from "../engine/runs.js";
import { planRollback } from "../rollback/from-run.js";
import { resumability } from "../cutover/resume.js";
import { stage0 } from "../../stages/stage0-preconditions.js";
import { stage1Baseline, stage1Behind } from "../../stages/stage1-fold.js";
import { stage1Legacy } from "../../stages/stage1-legacy.js";
import { stage1Import } from "../../stages/stage1-import.js";
import { stages2to4 } from "../../stages/stage2to4.js";
import { stepsFor } from "../../stages/index.js";
import { generateSample } from "../sample/generate.js";
import type { FromWorker, Inspection, TargetInfo, ToWorker, UnfinishedRun } from "./protocol.js";
import { setTarget, type ChosenTarget } from "../schema/chosen.js";
import { check, problem, ToWorkerSchema } from "../validate/schemas.js";
import { compareOperatorsVox, type VoxComparison } from "../diagnose/target-check.js";
import { engineBesideScreens } from "../util/worker.js";
import { dropTrialsKeptHere } from "../engine/kept-trial.js";

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
const stopFlag: Int32Array | undefined = (workerData as { stopFlag?: Int32Array } | undefined)?.stopFlag;
// The wizard's engine starts only the workers it cannot do without (util/worker.ts: isolates fewer at the peak).
engineBesideScreens(true);
// The CLI's --target-schema, handed over as a value.
setTarget((workerData as { target?: ChosenTarget | null } | undefined)?.target ?? null);

/** A token that also sees the main thread's shared stop flag, so a synchronous step stops at its next check. */
class SharedCancelToken extends CancelToken {
  private poll(): void {
    if (!this.signal && stopFlag && Atomics.load(stopFlag, 0) === 1) this.request("SIGINT");
  }
  override get cancelled(): boolean {
    this.poll();
    return super.cancelled;
  }
  override throwIfCancelled(where: string): void {
    this.poll();
    super.throwIfCancelled(where);
  }
}

let token: CancelToken = new SharedCancelToken();
const pending = new Map<number, (a: DecisionAnswer) => void>();
let nextRequest = 1;

function errorOf(e: unknown) {
  if (e instanceof VoxError)
    return {
      kind: e.kind,
      message: e.message,
      exitCode: e.exitCode,
      cancelled: e.details?.signal === "cancelled",
      ...(e.untouched ? { untouched: e.untouched } : {}),
      ...(e.next ? { next: e.next } : {}),
    };
  return { kind: "failed", message: e instanceof Error ? e.message : String(e), exitCode: EXIT.failed };
}

/** Where an unfinished run stands, in stages and files, and whether Resume can succeed. */
function describeRun(run: RunOnDisk, dbPath: string): UnfinishedRun {
  const st = run.state;
  const start = st.start!;
  // Titles and stages of every step of the runbook, by id (the journal records ids).
  const byId = new Map([...stage0, ...stage1Legacy, ...stage1Import, ...stage1Behind, ...stage1Baseline, ...stages2to4].map((s) => [s.id, s]));
  const entries = readJournal(join(run.workDir, JOURNAL_NAME));
  const stop = st.stoppedOn;
  const failed = stop ? { step: stop.step, title: byId.get(stop.step)?.title, message: stop.message } : null;
  const last = [...entries].reverse().find((e) => e.e === "step-failed" || e.e === "interrupted" || e.e === "step-done");
  const interrupted = Boolean(last && last.e === "interrupted");
  const archivedPrimary = join(start.archiveDir, basename(dbPath));
  const can = resumability(run, dbPath);
  // The step the run would do next: where it really stopped when the last step had finished (a
  // declined confirmation, a stop between steps), not the last step that ran.
  const chain = start.chainBefore ?? start.chain;
  const route = start.route ?? (chain === "legacy" ? "rebuild" : chain === "empty" ? "baseline" : "fold");
  const next = st.lastStep && st.done.has(st.lastStep) ? stepsFor(route, start.command).find((x) => !st.done.has(x.id)) : undefined;
  const u: UnfinishedRun = {
    workDir: run.workDir,
    lastStep: st.lastStep,
    swapPhase: st.swapPhase,
    runId: start.runId,
    lastStepTitle: st.lastStep ? byId.get(st.lastStep)?.title : undefined,
    lastStepStage: st.lastStep ? byId.get(st.lastStep)?.stage : undefined,
    ...(next ? { nextStepTitle: next.title, nextStepStage: next.stage } : {}),
    failed,
    interrupted,
    resumable: can.resumable,
    ...(can.resumable ? {} : { whyNot: can.whyNot }),
    backupPath: start.backupPath,
    backupExists: existsSync(start.backupPath),
    archiveDir: start.archiveDir,
    newPath: start.newPath,
    newExists: existsSync(start.newPath),
    primaryExists: existsSync(dbPath),
    archivedPrimary: existsSync(archivedPrimary) ? archivedPrimary : null,
    startedAt: entries[0]?.ts,
    kind: runKind(start.command),
    rollback: planRollback(run, dbPath),
  };
  return u;
}

/** The operator's vox, asked once per wizard (undefined: not asked yet). */
let voxTemplate: VoxComparison | undefined;

async function targetInfo(base: ReturnType<typeof loadBaselineContext>): Promise<TargetInfo> {
  // The template lives in the wizard's scratch folder (removed by the main thread when the wizard closes).
  if (voxTemplate === undefined) voxTemplate = await compareOperatorsVox((workerData as { scratchRoot?: string }).scratchRoot);
  const vox =
    voxTemplate === null
      ? null
      : "error" in voxTemplate
        ? { error: voxTemplate.error }
        : {
            version: voxTemplate.version,
            voxVersion: voxTemplate.voxVersion,
            agrees: voxTemplate.agrees,
            differences: voxTemplate.differences,
            bundledVersion: voxTemplate.bundledVersion,
          };
  return { kind: base.origin.kind, origin: base.origin.label, version: base.manifest.baselineVersion, vox };
}

async function inspect(db?: string): Promise<Inspection> {
  const r = resolveDatabase({ db });
  const info: Inspection = {
    resolved: { display: r.display, why: r.why, source: r.source, kind: r.kind, path: r.path, warnings: r.warnings },
    exists: false,
    chain: null,
    reason: "",
    explanation: "",
    unfinished: null,
  };
  if (r.kind === "file") {
    const run = unfinishedRun(r.path!);
    if (run) info.unfinished = describeRun(run, r.path!);
  }
  const base = loadBaselineContext();
  const d = await diagnose(r, base);
  info.target = await targetInfo(base);
  info.exists = d.chain !== "missing";
  info.chain = d.chain;
  info.reason = d.classification.rule;
  info.explanation = d.error ? d.error.message : d.sentence;
  return info;
}

port.on("message", async (raw: unknown) => {
  // A message is checked before it is acted on: the main thread is ours, but never cast what crosses a boundary.
  const m = check(ToWorkerSchema, raw) as ToWorker | null;
  if (!m) {
    const id = typeof (raw as { id?: unknown })?.id === "number" ? (raw as { id: number }).id : -1;
    post({
      type: "failure",
      id,
      error: { kind: "failed", message: `The engine worker got a message it does not understand: ${problem(ToWorkerSchema, raw)}`, exitCode: EXIT.failed },
    });
    return;
  }
  try {
    switch (m.type) {
      case "answer":
        pending.get(m.id)?.(m.answer);
        pending.delete(m.id);
        return;
      case "cancel":
        token.request("SIGINT");
        return;
      case "inspect":
        post({ type: "result", id: m.id, value: await inspect(m.db) });
        return;
      case "use-target":
        // The engine runs in this worker: the target it loads is the one in force here (a value, not the environment).
        setTarget(
          m.kind === "vox" && voxTemplate && !("error" in voxTemplate) ? { kind: "vox", path: voxTemplate.path, voxVersion: voxTemplate.voxVersion } : null,
        );
        post({ type: "result", id: m.id, value: null });
        return;
      case "forget-trials":
        dropTrialsKeptHere();
        post({ type: "result", id: m.id, value: null });
        return;
      case "sample": {
        const dir = mkdtempSync(join(tmpdir(), "vox-cutover-sample-"));
        const r = generateSample({ out: join(dir, "vox.db"), seed: 1, rows: 200 });
        post({ type: "result", id: m.id, value: { db: r.path, dir } });
        return;
      }
      case "clone": {
        // Inside the wizard's own scratch root: removed when the wizard closes, however it closes.
        const root = (workerData as { scratchRoot?: string } | undefined)?.scratchRoot ?? tmpdir();
        const scratch = mkdtempSync(join(root, "rehearse-"));
        const c = cloneWithSidecar(m.db, scratch);
        post({ type: "result", id: m.id, value: { db: c.db, scratch } });
        return;
      }
      case "run": {
        token = new SharedCancelToken();
        const r = resolveDatabase({ db: m.job.db });
        const report = await runCutover({
          resolved: r,
          apply: m.job.apply,
          resume: m.job.resume,
          rollback: m.job.rollback,
          backupPath: m.job.backupPath,
          workDir: m.job.workDir,
          command: m.job.command,
          token,
          emit: (event) => post({ type: "event", id: m.id, event }),
          decide: (request) =>
            new Promise((resolve) => {
              const requestId = nextRequest++;
              pending.set(requestId, resolve);
              post({ type: "request", id: m.id, requestId, request });
            }),
        });
        post({ type: "result", id: m.id, value: report });
        return;
      }
    }
  } catch (e) {
    if ("id" in m) post({ type: "failure", id: m.id, error: errorOf(e) });
  }
});
