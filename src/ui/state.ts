/** The wizard as one typed reducer: screens, transitions, and what each screen shows. Pure. */
import type { CutoverReport } from "../engine/cutover.js";
import type { DecisionRequest, EngineEvent, StepKind, StepStatus } from "../engine/events.js";
import type { Inspection, RunError } from "./protocol.js";

export interface StepView {
  id: string;
  stage: number;
  kind: StepKind;
  title: string;
  description: string;
  status: StepStatus;
  summary?: string;
  progress?: { done: number; total: number; label?: string; startedAt: number; at: number };
}

export type ScreenName = "loading" | "no-db" | "unfinished" | "stage0" | "backup-path" | "plan" | "running" | "confirm" | "sidecar" | "telemetry" | "summary" | "stopped" | "nothing";

export interface WizardState {
  screen: ScreenName;
  /** What the loading screen says. */
  loading: string;
  inspection?: Inspection;
  /** The database the run works on (the real one, or a clone/sample when rehearsing). */
  db?: string;
  original?: string;
  rehearsal: boolean;
  steps: StepView[];
  digest?: string;
  preflightError?: string;
  backupPath: string;
  backupError?: string;
  request?: DecisionRequest;
  typed: string;
  report?: CutoverReport;
  stopped?: { title: string; message: string; exitCode: number };
  notes: string[];
  help: boolean;
}

export type Action =
  | { type: "loading"; text: string }
  | { type: "inspected"; inspection: Inspection; db?: string; original?: string; rehearsal?: boolean }
  | { type: "planned"; report: CutoverReport; defaultBackup: string }
  | { type: "plan-failed"; message: string }
  | { type: "event"; event: EngineEvent; now: number }
  | { type: "request"; request: DecisionRequest }
  | { type: "answered" }
  | { type: "typed"; value: string }
  | { type: "backup"; value: string; error?: string }
  | { type: "finished"; report: CutoverReport }
  | { type: "failed"; error: RunError }
  | { type: "go"; screen: ScreenName }
  | { type: "back" }
  | { type: "help" };

export function initialState(rehearsal = false): WizardState {
  return { screen: "loading", loading: "Looking for the database…", rehearsal, steps: [], backupPath: "", typed: "", notes: [], help: false };
}

/** Where Esc goes from each screen, when going back is safe (nothing is running). */
export const BACK: Partial<Record<ScreenName, ScreenName>> = {
  "backup-path": "stage0",
  plan: "backup-path",
};

export function stageOf(s: WizardState): number | "summary" {
  if (s.screen === "summary") return "summary";
  if (s.screen === "sidecar") return 2;
  if (s.screen === "telemetry") return 3;
  if (s.screen === "running" || s.screen === "confirm") {
    const cur = s.steps.find((x) => x.status === "running") ?? [...s.steps].reverse().find((x) => x.status !== "pending");
    return cur?.stage ?? 1;
  }
  if (s.screen === "backup-path" || s.screen === "plan") return 1;
  return 0;
}

function applyEvent(steps: StepView[], e: EngineEvent, now: number): StepView[] {
  switch (e.type) {
    case "plan":
      return e.steps.map((x) => ({ ...x, status: "pending" as StepStatus }));
    case "step-start":
      return steps.map((x) => (x.id === e.id ? { ...x, status: "running", progress: undefined } : x));
    case "step-progress":
      return steps.map((x) => (x.id === e.id ? { ...x, progress: { done: e.done, total: e.total, label: e.label, startedAt: x.progress?.startedAt ?? now, at: now } } : x));
    case "step-done":
      return steps.map((x) => (x.id === e.id ? { ...x, status: "done", summary: e.summary } : x));
    case "step-skipped":
      return steps.map((x) => (x.id === e.id ? { ...x, status: "skipped", summary: e.reason } : x));
    case "step-failed":
      return steps.map((x) => (x.id === e.id ? { ...x, status: "failed", summary: e.message } : x));
    default:
      return steps;
  }
}

export function reducer(s: WizardState, a: Action): WizardState {
  switch (a.type) {
    case "loading":
      return { ...s, screen: "loading", loading: a.text };
    case "inspected": {
      const i = a.inspection;
      const next = { ...s, inspection: i, db: a.db ?? i.resolved.path, original: a.original ?? s.original, rehearsal: a.rehearsal ?? s.rehearsal };
      if (i.resolved.kind !== "file") return { ...next, screen: "stopped", stopped: { title: "Remote database", message: `The wizard cuts over local files; ${i.resolved.display} is remote. Copy it to this machine and run the wizard with --db PATH.`, exitCode: 1 } };
      if (i.unfinished) return { ...next, screen: "unfinished" };
      if (!i.exists) return { ...next, screen: "no-db" };
      if (i.chain === "not-a-database") return { ...next, screen: "stopped", stopped: { title: "Not a database", message: i.explanation, exitCode: 1 } };
      return { ...next, screen: "loading", loading: "Checking the preconditions (Stage 0)…" };
    }
    case "planned": {
      const r = a.report;
      if (r.outcome === "nothing-to-do" || r.outcome === "already-done") return { ...s, screen: "nothing", report: r };
      return { ...s, screen: "stage0", report: r, digest: r.planDigest ?? undefined, backupPath: s.backupPath || a.defaultBackup, preflightError: undefined, steps: r.steps.map((x) => ({ id: x.id, stage: x.stage, kind: x.kind as StepKind, title: x.title, description: x.summary, status: x.status === "done" ? "done" : "pending", summary: x.status === "done" ? x.summary : undefined })) };
    }
    case "plan-failed":
      return { ...s, screen: "stage0", preflightError: a.message };
    case "event":
      return { ...s, steps: applyEvent(s.steps, a.event, a.now), notes: a.event.type === "note" ? [...s.notes.slice(-4), a.event.text] : s.notes };
    case "request":
      return { ...s, request: a.request, typed: "", screen: a.request.kind === "confirm" ? "confirm" : a.request.kind === "sidecar" ? "sidecar" : "telemetry" };
    case "answered":
      return { ...s, request: undefined, typed: "", screen: "running" };
    case "typed":
      return { ...s, typed: a.value };
    case "backup":
      return { ...s, backupPath: a.value, backupError: a.error };
    case "finished":
      return { ...s, screen: a.report.outcome === "nothing-to-do" || a.report.outcome === "already-done" ? "nothing" : "summary", report: a.report };
    case "failed":
      return {
        ...s,
        screen: "stopped",
        stopped: {
          title: a.error.cancelled ? "Cancelled" : a.error.kind === "interrupted" ? "Stopped" : a.error.kind === "refused" ? "Refused by a safety gate" : "Failed",
          message: a.error.message,
          exitCode: a.error.exitCode,
        },
      };
    case "go":
      return { ...s, screen: a.screen, help: false };
    case "back": {
      const to = BACK[s.screen];
      return to ? { ...s, screen: to, help: false } : s;
    }
    case "help":
      return { ...s, help: !s.help };
  }
}
