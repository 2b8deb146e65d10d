/**
 * The wizard's side effects in one hook: the engine calls, the pending decision, stopping and quitting.
 * Screens call these actions from their handlers; nothing here runs during render.
 */
import { useApp } from "ink";
import { basename, dirname, join, resolve } from "node:path";
import { useCallback, useEffect, useLayoutEffect, useReducer, useRef, useState } from "react";
import type { DecisionAnswer, DecisionRequest, EngineEvent } from "../engine/events.js";
import { signalExitCode, type StopSignal } from "../util/cancel.js";
import { escapeControls, expandHome } from "./format.js";
import type { EngineClient, RunError, RunJob, RunOutcome } from "./protocol.js";
import { confirmTarget, quitNote, telemetryPathProblem, validateBackupPath, whatStops } from "./notes.js";
import { initialState, reducer, startBlockers, type Origin, type WizardState } from "./state.js";
import { eventPump } from "./event-pump.js";
import { EXIT } from "../errors.js";

export interface Engine {
  s: WizardState;
  makeSample(): void;
  rehearseClone(): void;
  planAgain(): void;
  /** Plans again against the operator's vox (on PATH) or the bundled baseline. */
  setTarget(kind: "vox" | "bundled"): void;
  toBackup(): void;
  setBackup(v: string): void;
  submitBackup(v: string): void;
  start(): void;
  resume(): void;
  /** After a cancelled confirmation: resume the same run at once (it asks again). */
  resumeHere(): void;
  askRollback(from: "unfinished" | "summary", thenPlan?: boolean): void;
  submitRollback(v: string): void;
  submitConfirm(v: string): void;
  chooseSidecar(merge: boolean): void;
  submitTelemetry(v: string): void;
  back(): void;
  escape(): void;
  help(): void;
  quit(): void;
  interrupt(sig?: StopSignal): void;
}

export function useEngine({
  client,
  db,
  rehearse,
  onExit,
}: {
  client: EngineClient;
  db?: string;
  rehearse?: boolean;
  onExit(code: number, note: string): void;
}): Engine {
  const [s, dispatch] = useReducer(reducer, initialState(Boolean(rehearse)));
  const { exit } = useApp();
  const stateRef = useRef(s);
  useLayoutEffect(() => {
    stateRef.current = s;
  });
  const answerRef = useRef<{ req: DecisionRequest; res: (a: DecisionAnswer) => void } | null>(null);
  const runningRef = useRef(false);
  const lastWorkDir = useRef<string | undefined>(undefined);
  const stopRef = useRef(0);
  const quitAfterStop = useRef(false);
  // The run's events reach the reducer in batches, row progress at most ten times a second.
  const [pump] = useState(() => eventPump((events, now) => dispatch({ type: "events", events, now })));
  useEffect(() => () => pump.dispose(), [pump]);
  const ended = useRef(false);

  const finish = useCallback(
    (code: number, note: string) => {
      if (ended.current) return;
      ended.current = true;
      onExit(code, note);
      exit();
    },
    [exit, onExit],
  );

  /**
   * The one runner of engine calls that are not a run (inspect, clone, sample, target, plan): any
   * failure becomes the Stopped screen with what, what was left untouched and what to do next, and
   * a clean exit code — never an unhandled rejection.
   */
  const guard = useCallback((during: string, p: Promise<unknown>) => {
    void p.catch((err: unknown) => {
      if (ended.current) return;
      dispatch({ type: "engine-failed", during, error: asRunError(err) });
    });
  }, []);

  const plan = useCallback(
    async (path: string, workDir?: string, rehearsal = false) => {
      dispatch({ type: "loading", text: "Checking the preconditions (Stage 0)…" });
      // The dry-run makes the trial import (the same export and import as the real run, into a scratch
      // folder): on a large file that takes a while, so the loading screen says what it is doing.
      let last = 0;
      const event = (ev: EngineEvent) => {
        if (ev.type !== "step-progress" || ev.id !== "trial-import") return;
        const now = Date.now();
        if (now - last < 100 && ev.done < ev.total) return;
        last = now;
        const pct = ev.total ? Math.floor((100 * ev.done) / ev.total) : 0;
        dispatch({
          type: "loading",
          text: `Checking the preconditions (Stage 0), then a trial import into a scratch folder to predict what the import keeps and what goes to quarantine: ${pct} %${ev.label ? ` (${ev.label})` : ""}…`,
        });
      };
      // Planned as the apply will run (its command is in the trial the dry-run keeps for it: engine/kept-trial.ts).
      const command = rehearsal ? "rehearse" : "wizard";
      const out = await client.run({ db: path, apply: false, command, workDir }, { event, request: async () => ({ ok: false }) });
      if (out.ok) dispatch({ type: "planned", report: out.report, defaultBackup: out.report.backup.path ?? "" });
      else dispatch({ type: "plan-failed", message: out.error.message });
    },
    [client],
  );

  const inspect = useCallback(
    async (path?: string, extra: { original?: string; rehearsal?: boolean; origin?: Origin; scratch?: string } = {}) => {
      const i = await client.inspect(path);
      dispatch({ type: "inspected", inspection: i, db: i.resolved.path, ...extra });
      const scratch = extra.scratch ?? stateRef.current.scratch;
      if (i.resolved.kind === "file" && !i.unfinished && i.exists && i.chain !== "not-a-database")
        await plan(i.resolved.path!, scratch ? join(scratch, "run") : undefined, extra.rehearsal ?? stateRef.current.rehearsal);
    },
    [client, plan],
  );

  useEffect(() => {
    guard(
      rehearse && db ? "cloning the database for a rehearsal" : "looking at the database",
      (async () => {
        if (rehearse && db) {
          dispatch({ type: "loading", text: "Cloning the database for a rehearsal…" });
          const c = await client.clone(resolve(db));
          await inspect(c.db, { original: resolve(db), rehearsal: true, origin: "clone", scratch: c.scratch });
        } else await inspect(db ? resolve(db) : undefined);
      })(),
    );
    // Runs once: the wizard looks at the database when it opens.
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const decline = (r: DecisionRequest): DecisionAnswer => (r.kind === "confirm" ? { ok: false } : r.kind === "sidecar" ? { merge: false } : { files: [] });

  const answer = useCallback((a: DecisionAnswer) => {
    const r = answerRef.current;
    answerRef.current = null;
    dispatch({ type: "answered" });
    r?.res(a);
  }, []);

  const run = useCallback(
    async (job: Omit<RunJob, "db" | "command">) => {
      if (runningRef.current) return;
      const st = stateRef.current;
      runningRef.current = true;
      stopRef.current = 0;
      if (job.workDir) lastWorkDir.current = job.workDir;
      dispatch({ type: "run-start", rollback: Boolean(job.rollback) });
      const out: RunOutcome = await client.run(
        { ...job, db: st.db!, command: st.rehearsal ? "rehearse" : "wizard" },
        {
          event: (event: EngineEvent) => pump.push(event),
          request: (request: DecisionRequest) =>
            new Promise<DecisionAnswer>((res) => {
              pump.flush(); // the steps that led to the question first
              // Stopping: decline at once (a declined confirmation stops the run before its step).
              if (stopRef.current > 0) return res(decline(request));
              answerRef.current = { req: request, res };
              dispatch({ type: "request", request });
            }),
        },
      );
      pump.flush();
      runningRef.current = false;
      answerRef.current = null;
      if (out.ok) dispatch({ type: "finished", report: out.report });
      else dispatch({ type: "failed", error: out.error });
      if (quitAfterStop.current) {
        const after = reducer(stateRef.current, out.ok ? { type: "finished", report: out.report } : { type: "failed", error: out.error });
        finish(out.ok ? EXIT.ok : out.error.exitCode, quitNote({ ...after, started: true }));
      }
    },
    [client, finish, pump],
  );

  const workDirFor = (st: WizardState, backupPath: string): string | undefined => {
    const planned = st.report?.workDir ?? undefined;
    if (planned && dirname(backupPath) === resolve(planned)) return planned;
    if (basename(dirname(dirname(backupPath))) === "vox-cutover-runs") return dirname(backupPath);
    return st.scratch ? join(st.scratch, "run") : undefined;
  };

  const stop = (force: boolean, code: number = EXIT.sigint) => {
    const st = stateRef.current;
    if (!runningRef.current) {
      finish(
        force
          ? code
          : st.screen === "stopped"
            ? (st.stopped?.exitCode ?? EXIT.ok)
            : st.screen === "stage0" && (st.preflightError || startBlockers(st).length)
              ? EXIT.refused
              : EXIT.ok,
        `${force ? "Interrupted. " : ""}${quitNote(st)}`,
      );
      return;
    }
    stopRef.current++;
    if (stopRef.current === 1) {
      quitAfterStop.current = true;
      client.cancel();
      const pending = answerRef.current;
      if (pending) answer(decline(pending.req));
    } else if (stopRef.current >= 3 && force) {
      finish(
        code,
        `Forced quit while a step ran. The journal in ${st.report?.workDir ?? "the run's work dir"} keeps every finished step; the next start offers Resume / Roll back.`,
      );
      return;
    }
    dispatch({ type: "stop-pressed", now: Date.now(), what: whatStops(st) });
  };

  return {
    s,
    makeSample: () => {
      dispatch({ type: "loading", text: "Writing a sample legacy database in a scratch folder…" });
      guard(
        "writing the sample database",
        client.makeSample().then((r) => inspect(r.db, { rehearsal: true, origin: "sample", scratch: r.dir })),
      );
    },
    rehearseClone: () => {
      const st = stateRef.current;
      dispatch({ type: "loading", text: "Cloning the database for a rehearsal…" });
      guard(
        "cloning the database for a rehearsal",
        client.clone(st.db!).then((c) => inspect(c.db, { original: st.db, rehearsal: true, origin: "clone", scratch: c.scratch })),
      );
    },
    planAgain: () => guard("checking the database again", inspect(stateRef.current.db)),
    setTarget: (kind) => {
      dispatch({ type: "loading", text: kind === "vox" ? "Planning against your vox's baseline…" : "Planning against the bundled baseline…" });
      guard(
        kind === "vox" ? "planning against your vox's baseline" : "planning against the bundled baseline",
        client.setTarget(kind).then(() => inspect(stateRef.current.db)),
      );
    },
    toBackup: () => dispatch({ type: "go", screen: "backup-path" }),
    setBackup: (v) => dispatch({ type: "backup", value: v, error: validateBackupPath(v, stateRef.current.db!, stateRef.current.report?.workDir ?? undefined) }),
    submitBackup: (v) => {
      const err = validateBackupPath(v, stateRef.current.db!, stateRef.current.report?.workDir ?? undefined);
      dispatch({ type: "backup", value: v, error: err });
      if (!err) dispatch({ type: "go", screen: "plan" });
      else dispatch({ type: "empty-answer" }); // a new field, the error shown
    },
    start: () => {
      const st = stateRef.current;
      const backupPath = resolve(expandHome(st.backupPath.trim()));
      void run({ apply: true, backupPath, workDir: workDirFor(st, backupPath) });
    },
    resume: () => void run({ apply: true, resume: true, workDir: stateRef.current.inspection?.unfinished?.workDir }),
    resumeHere: () => void run({ apply: true, resume: true, workDir: lastWorkDir.current ?? stateRef.current.report?.workDir ?? undefined }),
    askRollback: (from, thenPlan) => dispatch({ type: "rollback-ask", from, thenPlan }),
    submitRollback: (v) => {
      const st = stateRef.current;
      const expected = basename(st.db!);
      if (!v.trim()) return dispatch({ type: "empty-answer" });
      if (v.trim() !== expected)
        return dispatch({
          type: "rollback-wrong",
          text: `"${escapeControls(v.trim())}" is not ${expected}: nothing was done. Type ${expected}, or Esc to go back.`,
        });
      const workDir = st.rollbackFrom === "summary" ? (st.report?.workDir ?? undefined) : st.inspection?.unfinished?.workDir;
      void run({ apply: true, rollback: true, workDir });
    },
    submitConfirm: (v) => {
      const st = stateRef.current;
      const r = st.request;
      if (!r || r.kind !== "confirm") return;
      if (!v.trim()) return dispatch({ type: "empty-answer" });
      const want = confirmTarget(st);
      // A typo is not a decision: say so and ask again (Esc is the way to cancel the step).
      if (v.trim() !== want)
        return dispatch({
          type: "confirm-wrong",
          text: `"${escapeControls(v.trim())}" is not ${want}: nothing was done. Type ${want} to proceed, or Esc to cancel this step.`,
        });
      answer({ ok: true });
    },
    chooseSidecar: (merge) => answer({ merge }),
    submitTelemetry: (v) => {
      const files = v
        .split(/\s+/)
        .filter(Boolean)
        .map((f) => resolve(expandHome(f)));
      // Checked here, at the prompt: a mistyped path is a question again, never "1 envelope violation".
      const problems = files.map(telemetryPathProblem).filter((x): x is string => Boolean(x));
      if (problems.length)
        return dispatch({
          type: "confirm-wrong",
          draft: v,
          text: `${problems.join("; ")}. Nothing was checked: correct the name${problems.length > 1 ? "s" : ""}, or submit an empty line to skip the check.`,
        });
      answer({ files });
    },
    back: () => dispatch({ type: "back" }),
    escape: () => {
      const st = stateRef.current;
      if (st.screen === "confirm" && answerRef.current) answer({ ok: false });
      else if (st.screen === "backup-path" || st.screen === "plan" || st.screen === "rollback") dispatch({ type: "back" });
    },
    help: () => dispatch({ type: "help" }),
    quit: () => stop(false),
    interrupt: (sig = "SIGINT") => stop(true, signalExitCode(sig)),
  };
}

/** Whatever an engine call rejected with, as the wizard shows it. */
function asRunError(err: unknown): RunError {
  if (err && typeof err === "object" && typeof (err as RunError).message === "string") {
    const e = err as Partial<RunError>;
    return {
      kind: typeof e.kind === "string" ? e.kind : "failed",
      message: e.message!,
      exitCode: typeof e.exitCode === "number" ? e.exitCode : EXIT.failed,
      ...(typeof e.untouched === "string" ? { untouched: e.untouched } : {}),
      ...(typeof e.next === "string" ? { next: e.next } : {}),
    };
  }
  return { kind: "failed", message: String(err), exitCode: EXIT.failed };
}
