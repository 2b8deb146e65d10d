/** The wizard as one typed reducer: screens, transitions, and what each screen shows. Pure. */
import type { CutoverReport } from "../cutover/index.js";
import type { DecisionRequest, EngineEvent, StepKind, StepStatus } from "../engine/events.js";
import type { EngineEventExtras, Inspection, RunError } from "./protocol.js";
import { EXIT } from "../errors.js";
import { EMPTY_RUN, reduceRun, runStateOf, type PlannedStep, type RunState } from "../engine/run-state.js";

export interface Progress {
  done: number;
  total: number;
  label?: string;
  phase?: string;
  startedAt: number;
  /** When the last report came. */
  at: number;
  /** Smoothed rows/s (undefined until two reports at least 250 ms apart). */
  rate?: number;
  sampleAt: number;
  sampleDone: number;
}

/** What only the screen keeps of a running step: its live progress and when it started. */
interface LiveStep {
  progress?: Progress;
  startedAt?: number;
}

/** A step as the screens show it: the plan's (title, stage, kind) and the run's (status, summary, warnings), both from `RunState`, with the live progress. */
export interface StepView extends PlannedStep, LiveStep {
  status: StepStatus;
  summary?: string;
  /** Problems found by a step that finished (done with warnings). */
  warnings?: string[];
}

export type ScreenName =
  | "loading"
  | "no-db"
  | "unfinished"
  | "stage0"
  | "backup-path"
  | "plan"
  | "running"
  | "confirm"
  | "sidecar"
  | "telemetry"
  | "summary"
  | "stopped"
  | "nothing"
  | "rollback"
  | "rolled-back";

/** Where the database under work came from: given by the operator, or made by the wizard. */
export type Origin = "given" | "sample" | "clone";

export interface WizardState {
  screen: ScreenName;
  loading: string;
  inspection?: Inspection;
  db?: string;
  original?: string;
  origin: Origin;
  /** The scratch folder of a rehearsal (clone or sample): every file of the run stays in it. */
  scratch?: string;
  rehearsal: boolean;
  /** The run's state, reduced from the engine's events: the steps' statuses, summaries and warnings, and the evidence of later decisions. */
  run: RunState;
  /** Live progress of the steps (the screen's alone). */
  live: Readonly<Record<string, LiveStep>>;
  digest?: string;
  preflightError?: string;
  backupPath: string;
  backupError?: string;
  request?: DecisionRequest;
  /** The last confirmation answer was empty: ask again, say so. */
  emptyAnswer: boolean;
  /** How many times the current question was asked (a new field each time). */
  attempt: number;
  /** A wrong name typed at the rollback confirmation. */
  rollbackError?: string;
  /** A wrong name typed at a step's confirmation: it asks again, saying so. */
  confirmError?: string;
  /** What was typed at a prompt that asks again (the field starts with it). */
  draft?: string;
  /** After the rollback: plan again at once (Start over) or not. */
  thenPlan?: boolean;
  /** The sidecar file named by the Stage 2 request (its confirmation asks for this name). */
  sidecarPath?: string;
  sidecarTables?: Extract<DecisionRequest, { kind: "sidecar" }>["tables"];
  report?: CutoverReport;
  stopped?: { title: string; message: string; exitCode: number; /** the last line for the terminal, when it is not the usual one */ note?: string };
  /** A run was started in this session (so quitting may leave state on disk). */
  started: boolean;
  running: boolean;
  stopping?: { presses: number; at: number; what?: string };
  /** Where the rollback confirmation came from (Esc goes back there). */
  rollbackFrom?: "unfinished" | "summary";
  rolledBack?: { message: string; ok: boolean };
  /** The run in progress (or last run) is a rollback. */
  rollingBack?: boolean;
  notes: string[];
  help: boolean;
  /** Counts screen changes: a screen shown again is a new screen (its menu and field start afresh). */
  visit: number;
}

type Action =
  | { type: "loading"; text: string }
  | { type: "inspected"; inspection: Inspection; db?: string; original?: string; rehearsal?: boolean; origin?: Origin; scratch?: string }
  | { type: "planned"; report: CutoverReport; defaultBackup: string }
  | { type: "plan-failed"; message: string }
  | { type: "run-start"; rollback?: boolean }
  | { type: "event"; event: EngineEvent; now: number }
  /** Several events in order, as one update (src/ui/event-pump.ts). */
  | { type: "events"; events: EngineEvent[]; now: number }
  | { type: "request"; request: DecisionRequest }
  | { type: "answered" }
  | { type: "empty-answer" }
  | { type: "rollback-wrong"; text: string }
  | { type: "confirm-wrong"; text: string; draft?: string }
  | { type: "backup"; value: string; error?: string }
  | { type: "finished"; report: CutoverReport }
  | { type: "failed"; error: RunError }
  | { type: "engine-failed"; during: string; error: RunError }
  | { type: "stop-pressed"; now: number; what?: string }
  | { type: "rollback-ask"; from: "unfinished" | "summary"; thenPlan?: boolean }
  | { type: "rolled-back"; message: string; ok: boolean }
  | { type: "go"; screen: ScreenName }
  | { type: "back" }
  | { type: "help" };

export function initialState(rehearsal = false): WizardState {
  return {
    screen: "loading",
    loading: "Looking for the database…",
    rehearsal,
    origin: "given",
    run: EMPTY_RUN,
    live: {},
    backupPath: "",
    emptyAnswer: false,
    attempt: 0,
    started: false,
    running: false,
    notes: [],
    help: false,
    visit: 0,
  };
}

/** Where Esc goes from each screen, when going back is safe (nothing runs, nothing is decided). */
const BACK: Partial<Record<ScreenName, ScreenName>> = {
  "backup-path": "stage0",
  plan: "backup-path",
};

/** The planned steps as the screens show them: status, summary and warnings from the run's state, with live progress. */
export function stepsOf(s: Pick<WizardState, "run" | "live">): StepView[] {
  return s.run.plan.map((p) => {
    const st = s.run.steps[p.id];
    const warnings = s.run.warnings.filter((w) => w.step === p.id).map((w) => w.text);
    return {
      ...p,
      status: st?.status ?? "pending",
      ...(st?.summary !== undefined ? { summary: st.summary } : {}),
      ...(warnings.length ? { warnings } : {}),
      ...s.live[p.id],
    };
  });
}

export function stageOf(s: WizardState): number | "summary" {
  if (
    s.screen === "summary" ||
    ((s.screen === "rollback" || s.screen === "rolled-back" || (s.screen === "stopped" && s.rollingBack)) && s.rollbackFrom === "summary")
  )
    return "summary";
  if (s.screen === "sidecar") return 2;
  if (s.screen === "telemetry") return 3;
  if (s.screen === "confirm" && s.request?.kind === "confirm") {
    // The stage of the step being confirmed (it has not started yet).
    const asked = stepsOf(s).find((x) => x.id === (s.request as { step: string }).step);
    if (asked) return asked.stage;
  }
  if (s.screen === "running" || s.screen === "confirm" || s.screen === "stopped") {
    const steps = stepsOf(s);
    const cur = steps.find((x) => x.status === "running") ?? [...steps].reverse().find((x) => x.status !== "pending");
    // Stopped before any step (looking at the database, a remote or unreadable file): Stage 0, where it stood.
    return cur?.stage ?? (s.screen === "stopped" && !s.started ? 0 : 1);
  }
  if (s.screen === "backup-path" || s.screen === "plan") return 1;
  return 0;
}

function progressOf(prev: Progress | undefined, e: Extract<EngineEvent, { type: "step-progress" }>, now: number): Progress {
  const phase = (e as EngineEventExtras).phase;
  if (!prev) return { done: e.done, total: e.total, label: e.label, phase, startedAt: now, at: now, sampleAt: now, sampleDone: e.done };
  const next: Progress = { ...prev, done: e.done, total: e.total, label: e.label, phase, at: now };
  const dt = (now - prev.sampleAt) / 1000;
  if (dt >= 0.25) {
    const inst = Math.max(0, e.done - prev.sampleDone) / dt;
    next.rate = prev.rate === undefined ? inst : 0.3 * inst + 0.7 * prev.rate;
    next.sampleAt = now;
    next.sampleDone = e.done;
  }
  return next;
}

function applyEvent(before: WizardState, e: EngineEvent, now: number): WizardState {
  // Statuses, summaries, warnings and skipped steps are the run's state (the engine's answers, data on
  // its events, never read from words); the screen keeps only each running step's live progress.
  const run = reduceRun(before.run, e);
  const s = run === before.run ? before : { ...before, run };
  const live = (id: string, l: LiveStep | undefined) => {
    const { [id]: _gone, ...rest } = s.live;
    return { ...s, live: l ? { ...rest, [id]: l } : rest };
  };
  switch (e.type) {
    case "plan":
      return { ...s, live: {} };
    case "step-start":
      return live(e.id, { startedAt: now });
    case "step-progress":
      return live(e.id, { ...s.live[e.id], progress: progressOf(s.live[e.id]?.progress, e, now) });
    case "step-done":
    case "step-failed":
      return live(e.id, undefined);
    case "note":
      return { ...s, notes: [...s.notes.slice(-4), e.text] };
    default:
      return s;
  }
}

export function reducer(s: WizardState, a: Action): WizardState {
  const next = step(s, a);
  return next.screen !== s.screen || (a.type === "inspected" && next !== s) ? { ...next, visit: s.visit + 1 } : next;
}

function step(s: WizardState, a: Action): WizardState {
  switch (a.type) {
    case "loading":
      return { ...s, screen: "loading", loading: a.text, help: false };
    case "inspected": {
      const i = a.inspection;
      const changedDb = a.db !== undefined && a.db !== s.db;
      const next: WizardState = {
        ...s,
        inspection: i,
        db: a.db ?? i.resolved.path,
        original: a.original ?? s.original,
        rehearsal: a.rehearsal ?? s.rehearsal,
        origin: a.origin ?? s.origin,
        scratch: a.scratch ?? s.scratch,
        // A new database (a rehearsal clone, a sample): nothing of the previous plan carries over.
        ...(changedDb ? { backupPath: "", backupError: undefined, run: EMPTY_RUN, live: {}, report: undefined, digest: undefined } : {}),
        started: false,
        running: false,
        stopping: undefined,
        help: false,
      };
      if (i.resolved.kind !== "file")
        return {
          ...next,
          screen: "stopped",
          stopped: {
            title: "Remote database",
            message: `The wizard cuts over local files; ${i.resolved.display} is remote. Copy it to this machine and run the wizard with --db PATH. Nothing was changed.`,
            exitCode: EXIT.failed,
          },
        };
      if (i.unfinished) return { ...next, screen: "unfinished" };
      if (!i.exists) return { ...next, screen: "no-db" };
      if (i.chain === "not-a-database")
        return { ...next, screen: "stopped", stopped: { title: "Not a database", message: `${i.explanation} Nothing was changed.`, exitCode: EXIT.failed } };
      return { ...next, screen: "loading", loading: "Checking the preconditions (Stage 0)…" };
    }
    case "planned": {
      const r = a.report;
      if (r.outcome === "nothing-to-do" || r.outcome === "already-done") return { ...s, screen: "nothing", report: r };
      return {
        ...s,
        screen: "stage0",
        report: r,
        digest: r.planDigest ?? undefined,
        backupPath: s.backupPath || a.defaultBackup,
        backupError: undefined,
        preflightError: undefined,
        // A new plan: the run's state as the dry-run left it (its Stage 0 results), nothing of an earlier run.
        run: runStateOf([
          {
            type: "plan",
            digest: r.planDigest ?? "",
            steps: r.steps.map((x) => ({ id: x.id, stage: x.stage, kind: x.kind as StepKind, title: x.title, description: x.summary })),
          },
          ...r.steps
            .filter((x) => x.status === "done")
            .map((x): EngineEvent => ({ type: "step-done", id: x.id, summary: x.summary, ...(x.warnings?.length ? { warnings: x.warnings } : {}) })),
        ]),
        live: {},
      };
    }
    case "plan-failed":
      return { ...s, screen: "stage0", preflightError: a.message };
    case "run-start":
      return { ...s, screen: "running", started: !a.rollback, rollingBack: Boolean(a.rollback), running: true, stopping: undefined, help: false, notes: [] };
    case "event":
      return applyEvent(s, a.event, a.now);
    case "events":
      return a.events.reduce((st, e) => applyEvent(st, e, a.now), s);
    case "request":
      return {
        ...s,
        request: a.request,
        emptyAnswer: false,
        confirmError: undefined,
        draft: undefined,
        attempt: s.attempt + 1,
        sidecarPath: a.request.kind === "sidecar" ? a.request.path : s.sidecarPath,
        sidecarTables: a.request.kind === "sidecar" ? a.request.tables : s.sidecarTables,
        screen: a.request.kind === "confirm" ? "confirm" : a.request.kind === "sidecar" ? "sidecar" : "telemetry",
      };
    case "answered":
      return { ...s, request: undefined, emptyAnswer: false, confirmError: undefined, screen: "running" };
    case "empty-answer":
      return { ...s, emptyAnswer: true, rollbackError: undefined, confirmError: undefined, attempt: s.attempt + 1 };
    case "confirm-wrong":
      return { ...s, emptyAnswer: false, confirmError: a.text, draft: a.draft, attempt: s.attempt + 1 };
    case "rollback-wrong":
      return { ...s, emptyAnswer: false, rollbackError: a.text, attempt: s.attempt + 1 };
    case "backup":
      return { ...s, backupPath: a.value, backupError: a.error };
    case "finished":
      if (a.report.outcome === "rolled-back")
        return { ...s, running: false, stopping: undefined, screen: "rolled-back", report: a.report, rolledBack: { message: a.report.message, ok: true } };
      return {
        ...s,
        running: false,
        stopping: undefined,
        screen: a.report.outcome === "nothing-to-do" || a.report.outcome === "already-done" ? "nothing" : "summary",
        report: a.report,
      };
    case "failed":
      return {
        ...s,
        running: false,
        request: undefined,
        screen: "stopped",
        stopped: {
          title: s.rollingBack
            ? "Roll back not done"
            : a.error.cancelled
              ? "Cancelled"
              : a.error.kind === "interrupted"
                ? "Stopped"
                : a.error.kind === "refused"
                  ? "Refused by a safety gate"
                  : "Failed",
          message: a.error.message,
          exitCode: a.error.exitCode,
        },
      };
    case "engine-failed": {
      // Not a run: nothing was written by the wizard. The engine's message says what was wrong; what was left
      // untouched and what to do next are its error's own parts when it gave them (data, never read from the words).
      const r: WizardState = {
        ...s,
        running: false,
        request: undefined,
        help: false,
        screen: "stopped",
        stopped: {
          title: a.error.kind === "refused" ? `Refused while ${a.during}` : `Failed while ${a.during}`,
          message: `${a.error.message}${a.error.untouched ? "" : " Nothing was written: no run had started, and the database was only read."}${a.error.next ? "" : " Next: fix what is named above and start the wizard again (vox-cutover diagnose --db PATH shows the same without the wizard)."}`,
          exitCode: a.error.exitCode > 0 ? a.error.exitCode : EXIT.failed,
        },
      };
      return { ...r, stopped: { ...r.stopped!, note: `${r.stopped!.title}: ${r.stopped!.message}` } };
    }
    case "stop-pressed":
      return { ...s, stopping: { presses: (s.stopping?.presses ?? 0) + 1, at: s.stopping?.at ?? a.now, what: s.stopping?.what ?? a.what } };
    case "rollback-ask":
      return {
        ...s,
        screen: "rollback",
        rollbackFrom: a.from,
        thenPlan: a.thenPlan,
        emptyAnswer: false,
        rollbackError: undefined,
        attempt: s.attempt + 1,
        help: false,
      };
    case "rolled-back":
      return { ...s, running: false, screen: "rolled-back", rolledBack: { message: a.message, ok: a.ok } };
    case "go":
      return { ...s, screen: a.screen, help: false };
    case "back": {
      const to = s.screen === "rollback" ? s.rollbackFrom : BACK[s.screen];
      return to ? { ...s, screen: to, help: false } : s;
    }
    case "help":
      return { ...s, help: !s.help };
  }
}

/** Stage 0 gates that would refuse Start now (another process holds the file, a folder is not writable): the engine's warnings. */
export function startBlockers(s: WizardState): string[] {
  return stepsOf(s)
    .filter((x) => x.stage === 0 && x.warnings?.length)
    .flatMap((x) => x.warnings!);
}
