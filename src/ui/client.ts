import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type { DecisionAnswer, DecisionRequest, EngineEvent } from "../engine/events.js";
import type { EngineClient, FromWorker, Inspection, RunJob, RunOutcome, ToWorker } from "./protocol.js";
import { check, FromWorkerSchema, problem } from "../validate/schemas.js";
import { EXIT } from "../errors.js";
import { chosenTarget } from "../schema/chosen.js";
import { WORKER_LIMITS, workerExecArgv } from "../util/worker.js";
import { freshBundle } from "../util/bundle.js";

/**
 * The engine thread's code: its one-file build (scripts/bundle-cli.mjs: the engine's ~140 modules in
 * one file, ~0.1 s less to load while the first frame is drawn) unless a `tsc` build came after it
 * (util/bundle.ts freshBundle), else the modules themselves.
 */
function engineEntry(): URL {
  const modules = new URL("./worker.js", import.meta.url);
  const bundle = new URL("./worker.bundle.js", import.meta.url);
  return freshBundle(bundle) ? bundle : modules;
}

/** The wizard's handle on the engine worker. */
export function workerClient(): EngineClient {
  // A shared flag: a worker busy in a synchronous step (export, import) cannot read a message until
  // the step ends, but the step's progress callbacks can read this at once.
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  // The worker's scratch (the operator's vox template, when vox is on PATH): removed when the wizard closes.
  const scratchRoot = mkdtempSync(join(tmpdir(), "vox-cutover-wizard-"));
  let nextId = 1;
  const waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: unknown) => void; on?: { event(e: EngineEvent): void; request(r: DecisionRequest): Promise<DecisionAnswer> } }
  >();
  // The engine thread starts on the first call (the screen's first request, made once its first frame
  // is drawn): loading the engine (~0.1 s of CPU) then does not compete with that frame for a core.
  let started: Worker | undefined;
  const worker = (): Worker => {
    if (started) return started;
    const thread = new Worker(engineEntry(), {
      workerData: { stopFlag, scratchRoot, target: chosenTarget() },
      // The engine keeps its data in SQLite and streams rows: a small young generation, like the engine's own workers.
      resourceLimits: WORKER_LIMITS,
      execArgv: workerExecArgv(),
    });
    thread.on("message", (raw: unknown) => {
      const m = check(FromWorkerSchema, raw) as FromWorker | null;
      if (!m) {
        // Not a message the wizard understands: every waiting call fails with what was wrong, nothing is guessed.
        for (const w of waiting.values())
          w.reject({
            kind: "failed",
            message: `The engine worker sent a message the wizard does not understand: ${problem(FromWorkerSchema, raw)}`,
            exitCode: EXIT.failed,
          });
        waiting.clear();
        return;
      }
      const w = waiting.get(m.id);
      if (!w) return;
      if (m.type === "event") w.on?.event(m.event);
      else if (m.type === "request") void w.on?.request(m.request).then((answer) => send({ type: "answer", id: m.requestId, answer }));
      else if (m.type === "result") {
        waiting.delete(m.id);
        w.resolve(m.value);
      } else if (m.type === "failure") {
        waiting.delete(m.id);
        w.reject(m.error);
      }
    });
    thread.on("error", (e) => {
      for (const w of waiting.values()) w.reject({ kind: "failed", message: e.message, exitCode: EXIT.failed });
      waiting.clear();
    });
    started = thread;
    return thread;
  };
  const send = (m: ToWorker) => worker().postMessage(m);
  const inflight = new Set<Promise<unknown>>();
  const call = <T>(
    m: Omit<ToWorker & { id: number }, "id">,
    on?: { event(e: EngineEvent): void; request(r: DecisionRequest): Promise<DecisionAnswer> },
  ): Promise<T> => {
    const p = new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, on });
      send({ ...(m as object), id } as ToWorker);
    });
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    inflight.add(settled);
    void settled.then(() => inflight.delete(settled));
    return p;
  };
  return {
    inspect: (db?: string) => call<Inspection>({ type: "inspect", db } as never),
    makeSample: () => call({ type: "sample" } as never),
    clone: (db: string) => call({ type: "clone", db } as never),
    setTarget: (kind: "vox" | "bundled") => call({ type: "use-target", kind } as never),
    async run(job: RunJob, on): Promise<RunOutcome> {
      Atomics.store(stopFlag, 0, 0);
      try {
        return { ok: true, report: await call({ type: "run", job } as never, on) };
      } catch (error) {
        return { ok: false, error: error as RunOutcome extends { error: infer E } ? E : never };
      }
    },
    cancel: () => {
      Atomics.store(stopFlag, 0, 1);
      if (started) send({ type: "cancel" }); // nothing asked yet: nothing to stop
    },
    async close(graceMs = 20_000) {
      // Never terminate the worker inside a native call (a libsql handle torn down mid-call panics,
      // and its finally blocks, which remove trial folders, never run): ask it to stop at its next
      // safe point and wait for every call to settle, then end it and remove the scratch folder.
      if (inflight.size) {
        Atomics.store(stopFlag, 0, 1);
        send({ type: "cancel" });
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([Promise.all([...inflight]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
        clearTimeout(timer);
      }
      if (started) {
        // The trials the wizard's dry-runs kept go with it (engine/kept-trial.ts); a worker that does not answer is ended all the same.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([call({ type: "forget-trials" } as never).catch(() => undefined), new Promise((r) => (timer = setTimeout(r, 5_000)))]);
        clearTimeout(timer);
      }
      await started?.terminate();
      rmSync(scratchRoot, { recursive: true, force: true });
    },
  };
}
