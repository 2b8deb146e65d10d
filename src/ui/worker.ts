/**
 * The engine, off the UI thread: export and import run synchronously inside a step, so the wizard
 * keeps rendering progress while they work. Only this side touches databases.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parentPort } from "node:worker_threads";
import { diagnose, loadBaselineContext } from "../db/diagnose.js";
import { resolveDatabase } from "../db/resolve.js";
import { VoxError } from "../errors.js";
import { CancelToken } from "../engine/cancel.js";
import { cloneWithSidecar } from "../engine/clone.js";
import { runCutover } from "../engine/cutover.js";
import type { DecisionAnswer } from "../engine/events.js";
import { unfinishedRun } from "../engine/runs.js";
import { generateSample } from "../sample/generate.js";
import type { FromWorker, Inspection, ToWorker } from "./protocol.js";

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
let token = new CancelToken();
const pending = new Map<number, (a: DecisionAnswer) => void>();
let nextRequest = 1;

function errorOf(e: unknown) {
  if (e instanceof VoxError) return { kind: e.kind, message: e.message, exitCode: e.exitCode, cancelled: e.details?.signal === "cancelled" };
  return { kind: "failed", message: e instanceof Error ? e.message : String(e), exitCode: 1 };
}

async function inspect(db?: string): Promise<Inspection> {
  const r = resolveDatabase({ db });
  const info: Inspection = { resolved: { display: r.display, why: r.why, source: r.source, kind: r.kind, path: r.path, warnings: r.warnings }, exists: false, chain: null, explanation: "", unfinished: null };
  if (r.kind === "file") {
    const run = unfinishedRun(r.path!);
    if (run) info.unfinished = { workDir: run.workDir, lastStep: run.state.lastStep, swapPhase: run.state.swapPhase, runId: run.state.start!.runId };
  }
  const d = await diagnose(r, loadBaselineContext());
  info.exists = d.chain !== "missing";
  info.chain = d.chain;
  info.explanation = d.error ? d.error.message : d.explanation;
  return info;
}

port.on("message", async (m: ToWorker) => {
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
      case "sample": {
        const dir = mkdtempSync(join(tmpdir(), "vox-cutover-sample-"));
        const r = generateSample({ out: join(dir, "vox.db"), seed: 1, rows: 200 });
        post({ type: "result", id: m.id, value: { db: r.path, dir } });
        return;
      }
      case "clone": {
        const scratch = mkdtempSync(join(tmpdir(), "vox-cutover-rehearse-"));
        const c = cloneWithSidecar(m.db, scratch);
        post({ type: "result", id: m.id, value: { db: c.db, scratch } });
        return;
      }
      case "run": {
        token = new CancelToken();
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
