/**
 * The run as its readers know it: one `RunState`, reduced from the engine's events by one pure
 * reducer. The report, the wizard and the resume decision read it (never the step outputs by id with
 * casts): the backup, the new file, the swap, the import evidence, warnings and skipped steps. Step
 * outputs are checked through their schemas as they come in (an event from another thread, a journal
 * line), so every part is typed.
 */
import type { ContentState } from "../db/probe.js";
import type { Emit, EngineEvent, ImportEvidence, StepStatus } from "./events.js";
import { hasOutputSchema, parseOutput, type StepOutput, type StepOutputMap, type StepWithOutputs } from "./step-outputs.js";

/** A step as the plan names it: id, stage, kind, title, description. */
export type PlannedStep = Extract<EngineEvent, { type: "plan" }>["steps"][number];

export interface RunState {
  /** The last plan's steps, in order. */
  plan: readonly PlannedStep[];
  /** Each step the engine reported on: its status and summary (reused: done in an earlier attempt). */
  steps: Readonly<Record<string, { status: StepStatus; summary?: string; reused?: boolean }>>;
  /** Every finished step's outputs, checked through its schema. */
  outputs: StepOutputMap;
  /** The verified backup: where, its hash and rows, whether the verification passed, and the primary's content state at the export. */
  backup: { path: string; sha256: string; rows: number; verified: boolean; primaryAtExport: ContentState } | null;
  /** The new file built beside the primary: by the rebuild's import, or the fold's copy. */
  newFile: { path: string; by: "import" | "fold" } | null;
  /** The swap: where the original went. */
  swap: { archive: string } | null;
  /** What the import did (the real one), or will do (the dry-run's trial): the evidence the swap rests on. */
  importEvidence: ImportEvidence | null;
  /** Problems steps found and carried on past, in words, with the step that found each. */
  warnings: { step: string; text: string }[];
  /** Steps that had nothing to do. */
  skipped: string[];
  /** The step the run stopped on, with the engine's message. */
  failed: { step: string; message: string } | null;
}

export const EMPTY_RUN: RunState = {
  plan: [],
  steps: {},
  outputs: {},
  backup: null,
  newFile: null,
  swap: null,
  importEvidence: null,
  warnings: [],
  skipped: [],
  failed: null,
};

/** The one reducer: the state after event `e` (pure; events that say nothing about the run leave it as it is). */
export function reduceRun(s: RunState, e: EngineEvent): RunState {
  switch (e.type) {
    case "plan": {
      // A plan starts an attempt, and a step's status is what this attempt knows: a step after Stage 0 is
      // pending until the attempt reaches it (a resumed run reports each step it reuses as done when it
      // passes it); a Stage 0 check that passed keeps its result until it runs again (the attempt starts
      // with it). What the run made (outputs, backup, new file, swap, evidence) stays.
      const keeps = (x: PlannedStep) => x.stage === 0 && s.steps[x.id]?.status === "done";
      const kept = new Set(e.steps.filter(keeps).map((x) => x.id));
      return {
        ...s,
        plan: e.steps,
        steps: Object.fromEntries(e.steps.map((x) => [x.id, kept.has(x.id) ? s.steps[x.id]! : { status: "pending" as const }])),
        warnings: s.warnings.filter((w) => kept.has(w.step)),
        skipped: s.skipped.filter((id) => kept.has(id)),
        failed: null,
      };
    }
    case "step-start":
      return { ...s, steps: { ...s.steps, [e.id]: { status: "running" } }, failed: s.failed?.step === e.id ? null : s.failed };
    case "step-done": {
      // Reused (done in an earlier attempt): its outputs, warnings and "skipped" as the journal recorded them.
      const steps = {
        ...s.steps,
        [e.id]: { status: e.skipped ? ("skipped" as const) : ("done" as const), summary: e.summary, ...(e.reused ? { reused: true } : {}) },
      };
      const warnings = [...s.warnings.filter((w) => w.step !== e.id), ...(e.warnings ?? []).map((text) => ({ step: e.id, text }))];
      const skipped = [...s.skipped.filter((x) => x !== e.id), ...(e.skipped ? [e.id] : [])];
      if (e.outputs === undefined || !hasOutputSchema(e.id)) return { ...s, steps, warnings, skipped };
      const outputs = withOutput(s.outputs, e.id, e.outputs);
      return { ...s, steps, warnings, skipped, outputs, ...parts(outputs), importEvidence: outputs["build-import"]?.evidence ?? s.importEvidence };
    }
    case "step-failed":
      return { ...s, steps: { ...s.steps, [e.id]: { status: "failed", summary: e.message } }, failed: { step: e.id, message: e.message } };
    case "trial":
      return { ...s, importEvidence: e.evidence };
    default:
      return s;
  }
}

/** The state after `events`, from `from` (the empty run by default). */
export function runStateOf(events: Iterable<EngineEvent>, from: RunState = EMPTY_RUN): RunState {
  let s = from;
  for (const e of events) s = reduceRun(s, e);
  return s;
}

/** The state a journal records: its finished steps' outputs replayed as the engine's step-done events. */
export function runStateFromJournal(done: ReadonlyMap<string, Record<string, unknown>>): RunState {
  return runStateOf(
    [...done].map(([id, outputs]) => {
      const warnings = Array.isArray(outputs.warnings) ? outputs.warnings.map(String) : [];
      return {
        type: "step-done",
        id,
        summary: typeof outputs.summary === "string" ? outputs.summary : "",
        outputs,
        ...(outputs.skipped === true ? { skipped: true } : {}),
        ...(warnings.length ? { warnings } : {}),
      };
    }),
  );
}

function withOutput<K extends StepWithOutputs>(m: StepOutputMap, id: K, raw: unknown): StepOutputMap {
  const o: StepOutput<K> | undefined = parseOutput(id, raw);
  // Another shape is not taken (what the state held for the step stays).
  return o === undefined ? m : { ...m, [id]: o };
}

/** The named parts, from the checked outputs. */
function parts(o: StepOutputMap): Pick<RunState, "backup" | "newFile" | "swap"> {
  const exp = o.export;
  const ver = o["verify-backup"];
  const built = o["build-import"] ? { path: o["build-import"].path, by: "import" as const } : o.fold ? { path: o.fold.path, by: "fold" as const } : null;
  return {
    backup: exp
      ? {
          path: exp.path,
          sha256: ver?.sha256 ?? exp.sha256,
          rows: exp.rows,
          verified: ver?.verified === true && ver.sha256 === exp.sha256,
          primaryAtExport: exp.identity,
        }
      : null,
    newFile: built,
    swap: o.swap ? { archive: o.swap.archive } : null,
  };
}

/** An emitter that keeps the run's state as its events go by (the engine's one place where it is reduced). */
export function trackRun(emit: Emit): { emit: Emit; readonly state: RunState; seed(s: RunState): void } {
  let state = EMPTY_RUN;
  return {
    emit: (e) => {
      state = reduceRun(state, e);
      emit(e);
    },
    get state() {
      return state;
    },
    seed(s) {
      state = s;
    },
  };
}
