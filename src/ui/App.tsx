import { Box, Text, useApp, useInput, useStdout } from "ink";
import { Select, TextInput } from "@inkjs/ui";
import { existsSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { useCallback, useEffect, useReducer, useRef } from "react";
import type { DecisionAnswer, DecisionRequest, EngineEvent } from "../engine/events.js";
import type { EngineClient, RunJob } from "./protocol.js";
import { bar, eta, human, ICON, STAGES } from "./format.js";
import { formatSeconds } from "../util/duration.js";
import { initialState, reducer, stageOf, type WizardState } from "./state.js";

export interface AppProps {
  client: EngineClient;
  db?: string;
  rehearse?: boolean;
  /** Called once when the wizard ends: exit code and a last line for the terminal. */
  onExit(code: number, note: string): void;
}

const TEXT_SCREENS = new Set(["backup-path", "confirm", "telemetry"]);

export function validateBackupPath(value: string, dbPath: string): string | undefined {
  if (!value.trim()) return "type a path for the backup file";
  if (/[\/\\]$/.test(value)) return "that names a folder: add a file name";
  const p = resolve(value);
  if (p === resolve(dbPath) || p.startsWith(resolve(dbPath) + "-")) return "that is the database itself";
  if (existsSync(p)) return statSync(p).isDirectory() ? "that is a folder: add a file name" : "a file is already there: choose a new name";
  const dir = dirname(p);
  // The default work dir (vox-cutover-runs/<UTC> beside the database) is created when the run starts.
  if (!existsSync(dir)) return basename(dirname(dir)) === "vox-cutover-runs" && existsSync(dirname(dirname(dir))) ? undefined : `the folder ${dir} does not exist`;
  return undefined;
}

const HELP: Record<string, string> = {
  "no-db": "No database was found. Create a sample legacy database in a scratch folder and rehearse the whole runbook on it, or quit and pass --db PATH.",
  unfinished: "A run of this database was left unfinished. Resume continues from the journal; Roll back puts the original back and removes only the run's own temporary files; Start over rolls back first, then plans again.",
  stage0: "Stage 0 checks the preconditions without writing anything. Continue to choose the backup path; Rehearse runs everything on a clone first.",
  "backup-path": "Where the verified backup goes. The folder must exist (the default work dir is created for you); the file must not. Esc goes back.",
  plan: "Every step of the run, with its kind. Destructive steps ask you to type the database's file name before they start.",
  running: "Steps run in order; progress shows rows, rows/s and ETA. q or Ctrl-C stops at the next safe point (the journal keeps the state).",
  confirm: "Type the database's file name exactly to let this destructive step run. Anything else cancels it (nothing of it is done; you can resume later).",
  sidecar: "The sidecar is backed up first either way. Merge copies rows the new file lacks (conflicts go to legacy_quarantine); Archive only keeps them in the archived file.",
  telemetry: "Name JSONL files to check against the telemetry envelope contract (separate with spaces), or submit an empty line to skip.",
  summary: "What changed and where everything is. The same report is in the work dir (report.md, report.json).",
};

export function App({ client, db, rehearse, onExit }: AppProps) {
  const [s, dispatch] = useReducer(reducer, initialState(Boolean(rehearse)));
  const { exit } = useApp();
  const { stdout } = useStdout();
  const cols = Math.max(40, stdout?.columns ?? 80);
  const answerRef = useRef<((a: DecisionAnswer) => void) | null>(null);
  const runningRef = useRef(false);
  const quitAfterStop = useRef(false);
  const lastProgress = useRef(0);
  const stateRef = useRef<WizardState>(s);
  stateRef.current = s;

  const finish = useCallback(
    (code: number, note: string) => {
      onExit(code, note);
      exit();
    },
    [exit, onExit],
  );

  const plan = useCallback(
    async (path: string) => {
      dispatch({ type: "loading", text: "Checking the preconditions (Stage 0)…" });
      const out = await client.run({ db: path, apply: false, command: "wizard" }, { event: () => {}, request: async () => ({ ok: false }) });
      if (out.ok) dispatch({ type: "planned", report: out.report, defaultBackup: out.report.backup.path ?? "" }); // the plan's own work dir
      else dispatch({ type: "plan-failed", message: out.error.message });
    },
    [client],
  );

  const inspect = useCallback(
    async (path?: string, extra: { original?: string; rehearsal?: boolean } = {}) => {
      const i = await client.inspect(path);
      dispatch({ type: "inspected", inspection: i, db: i.resolved.path, ...extra });
      if (i.resolved.kind === "file" && !i.unfinished && i.exists && i.chain !== "not-a-database") await plan(i.resolved.path!);
    },
    [client, plan],
  );

  useEffect(() => {
    void (async () => {
      if (rehearse && db) {
        dispatch({ type: "loading", text: "Cloning the database for a rehearsal…" });
        const c = await client.clone(resolve(db));
        await inspect(c.db, { original: resolve(db), rehearsal: true });
      } else await inspect(db ? resolve(db) : undefined);
    })();
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const run = useCallback(
    async (job: Omit<RunJob, "db" | "command">) => {
      const st = stateRef.current;
      dispatch({ type: "go", screen: "running" });
      runningRef.current = true;
      const out = await client.run(
        { ...job, db: st.db!, command: st.rehearsal ? "rehearse" : "wizard" },
        {
          event: (event: EngineEvent) => {
            const now = Date.now();
            if (event.type === "step-progress" && event.done < event.total && now - lastProgress.current < 100) return; // throttle renders
            lastProgress.current = now;
            dispatch({ type: "event", event, now });
          },
          request: (request: DecisionRequest) =>
            new Promise<DecisionAnswer>((res) => {
              answerRef.current = res;
              dispatch({ type: "request", request });
            }),
        },
      );
      runningRef.current = false;
      if (out.ok) {
        if (job.rollback) {
          dispatch({ type: "loading", text: "Rolled back. Looking at the database again…" });
          await inspect(st.db);
          return;
        }
        dispatch({ type: "finished", report: out.report });
      } else dispatch({ type: "failed", error: out.error });
      if (quitAfterStop.current) finish(out.ok ? 0 : out.error.exitCode, resumeNote(stateRef.current));
    },
    [client, finish, inspect],
  );

  const answer = (a: DecisionAnswer) => {
    const r = answerRef.current;
    answerRef.current = null;
    dispatch({ type: "answered" });
    r?.(a);
  };

  const resumeNote = (st: WizardState) => (st.db ? `State kept. Resume with: vox-cutover${st.rehearsal ? "" : ` --db '${st.db}'`} (the wizard offers Resume), or vox-cutover cutover --db '${st.db}' --resume --apply` : "Nothing was changed.");

  const quit = () => {
    if (runningRef.current) {
      quitAfterStop.current = true;
      if (answerRef.current) answer({ ok: false });
      client.cancel();
      return;
    }
    const st = stateRef.current;
    finish(st.screen === "stopped" ? (st.stopped?.exitCode ?? 0) : 0, st.screen === "summary" || st.screen === "nothing" ? "" : resumeNote(st));
  };

  useInput((input, key) => {
    if (key.ctrl && input === "c") {
      if (runningRef.current) {
        quitAfterStop.current = true;
        if (answerRef.current) answer({ ok: false });
        client.cancel();
      } else finish(130, `Interrupted. ${resumeNote(stateRef.current)}`);
      return;
    }
    const textScreen = TEXT_SCREENS.has(s.screen);
    if (key.escape) {
      if (s.screen === "confirm") answer({ ok: false });
      else if (s.screen === "telemetry") answer({ files: [] });
      else dispatch({ type: "back" });
      return;
    }
    if (textScreen) return;
    if (input === "q") quit();
    else if (input === "?") dispatch({ type: "help" });
    else if (key.return && (s.screen === "summary" || s.screen === "nothing" || s.screen === "stopped")) quit();
  });

  const stage = stageOf(s);
  return (
    <Box flexDirection="column" width={cols}>
      <Box>
        <Text bold>vox-cutover</Text>
        <Text> {s.db ? s.db : ""}</Text>
        {s.rehearsal ? <Text color="yellow"> [REHEARSAL{s.original ? ` on a clone of ${s.original}` : ""}]</Text> : null}
      </Box>
      <Box>
        {STAGES.map((name, i) => (
          <Text key={name} color={stage === i ? "cyan" : undefined} bold={stage === i} dimColor={stage !== i}>
            {`${i} ${name}  `}
          </Text>
        ))}
        <Text color={stage === "summary" ? "cyan" : undefined} bold={stage === "summary"} dimColor={stage !== "summary"}>
          Summary
        </Text>
      </Box>
      <Box marginTop={1} flexDirection="column">
        {s.help ? <Text>{HELP[s.screen] ?? "Enter accepts, arrows move, Esc goes back where safe, q quits (state kept), ? toggles this help."}</Text> : <Body s={s} cols={cols} onPlan={plan} onRun={run} onInspect={inspect} answer={answer} dispatch={dispatch} client={client} finish={finish} />}
      </Box>
      <Box marginTop={1}>
        <Text dimColor>{TEXT_SCREENS.has(s.screen) ? "Enter submit · Esc back/cancel · Ctrl-C stop" : "Enter accept · ↑↓ move · Esc back · q quit (state kept) · ? help"}</Text>
      </Box>
    </Box>
  );
}

interface BodyProps {
  s: WizardState;
  cols: number;
  onPlan(path: string): Promise<void>;
  onRun(job: Omit<RunJob, "db" | "command">): Promise<void>;
  onInspect(path?: string, extra?: { original?: string; rehearsal?: boolean }): Promise<void>;
  answer(a: DecisionAnswer): void;
  dispatch: React.Dispatch<import("./state.js").Action>;
  client: EngineClient;
  finish(code: number, note: string): void;
}

function Steps({ s, cols, only }: { s: WizardState; cols: number; only?: number[] }) {
  return (
    <Box flexDirection="column">
      {s.steps
        .filter((x) => !only || only.includes(x.stage))
        .map((x) => {
          const p = x.progress;
          const e = p ? eta(p) : null;
          return (
            <Box key={x.id} flexDirection="column">
              <Text wrap="truncate-end" color={x.status === "failed" ? "red" : x.status === "done" ? "green" : x.status === "running" ? "cyan" : undefined}>
                {`${ICON[x.status]} ${x.stage} ${x.title}${x.kind === "destructive" ? " [destructive]" : ""}${x.summary ? ` — ${x.summary}` : ""}`}
              </Text>
              {x.status === "running" && p ? (
                <Text wrap="truncate-end">{`    ${bar(p.done, p.total, Math.min(30, cols - 60))} ${p.total ? Math.floor((p.done / p.total) * 100) : 100}% ${human(p.done)}/${human(p.total)} rows · ${human(Math.round(e!.rate))} rows/s · ETA ${formatSeconds(e!.seconds)}${p.label ? ` · ${p.label}` : ""}`}</Text>
              ) : null}
            </Box>
          );
        })}
    </Box>
  );
}

function Body({ s, cols, onPlan, onRun, onInspect, answer, dispatch, client, finish }: BodyProps) {
  const i = s.inspection;
  switch (s.screen) {
    case "loading":
      return <Text>{s.loading}</Text>;
    case "no-db":
      return (
        <Box flexDirection="column">
          <Text>{`No database at ${i?.resolved.display} (${i?.resolved.why}).`}</Text>
          <Text>New here? A sample legacy database (ad-hoc versions, an unknown table, awkward values, a sidecar) can be made in a scratch folder to rehearse the whole runbook on.</Text>
          <Select
            options={[
              { label: "Create a sample legacy database and rehearse on it", value: "sample" },
              { label: "Quit (pass --db PATH to use another database)", value: "quit" },
            ]}
            onChange={(v) => {
              if (v === "quit") return finish(0, "Nothing was changed.");
              dispatch({ type: "loading", text: "Writing a sample legacy database in a scratch folder…" });
              void client.makeSample().then((r) => onInspect(r.db, { rehearsal: true }));
            }}
          />
        </Box>
      );
    case "unfinished":
      return (
        <Box flexDirection="column">
          <Text>{`An unfinished run of this database is recorded in ${i?.unfinished?.workDir}`}</Text>
          <Text>{`It stopped after ${i?.unfinished?.lastStep ?? "its start"}${i?.unfinished?.swapPhase && i.unfinished.swapPhase !== "none" ? ` (swap phase: ${i.unfinished.swapPhase})` : ""}.`}</Text>
          <Select
            options={[
              { label: "Resume it", value: "resume" },
              { label: "Roll back (restore the original, remove only the run's temporary files)", value: "rollback" },
              { label: "Start over (roll back, then plan again)", value: "over" },
            ]}
            onChange={(v) => void onRun(v === "resume" ? { apply: true, resume: true } : { apply: true, rollback: true })}
          />
        </Box>
      );
    case "stage0":
      return (
        <Box flexDirection="column">
          <Text bold>Stage 0 — Preconditions</Text>
          <Steps s={s} cols={cols} only={[0]} />
          {s.preflightError ? <Text color="red">{s.preflightError}</Text> : null}
          <Box marginTop={1}>
            <Text>{i?.explanation}</Text>
          </Box>
          <Select
            options={[
              ...(s.preflightError ? [{ label: "Check again", value: "again" }] : [{ label: "Continue to Stage 1", value: "go" }]),
              ...(!s.rehearsal && !s.preflightError ? [{ label: "Rehearse on a clone first", value: "rehearse" }] : []),
              { label: "Quit (nothing was changed)", value: "quit" },
            ]}
            onChange={(v) => {
              if (v === "quit") return finish(s.preflightError ? 3 : 0, "Nothing was changed.");
              if (v === "again") return void onPlan(s.db!);
              if (v === "rehearse") {
                dispatch({ type: "loading", text: "Cloning the database for a rehearsal…" });
                return void client.clone(s.db!).then((c) => onInspect(c.db, { original: s.db, rehearsal: true }));
              }
              dispatch({ type: "go", screen: "backup-path" });
            }}
          />
        </Box>
      );
    case "backup-path":
      return (
        <Box flexDirection="column">
          <Text bold>Stage 1 — Where should the backup go?</Text>
          <TextInput
            defaultValue={s.backupPath}
            onChange={(v) => dispatch({ type: "backup", value: v, error: validateBackupPath(v, s.db!) })}
            onSubmit={(v) => {
              const err = validateBackupPath(v, s.db!);
              dispatch({ type: "backup", value: v, error: err });
              if (!err) dispatch({ type: "go", screen: "plan" });
            }}
          />
          {s.backupError ? <Text color="red">{`✗ ${s.backupError}`}</Text> : <Text color="green">✓ looks good</Text>}
        </Box>
      );
    case "plan":
      return (
        <Box flexDirection="column">
          <Text bold>{`The plan (digest ${s.digest})`}</Text>
          {s.steps
            .filter((x) => x.stage > 0)
            .map((x) => (
              <Text key={x.id} wrap="truncate-end">{`  ${x.stage} [${x.kind}] ${x.title}`}</Text>
            ))}
          <Text>{`Backup: ${s.backupPath}`}</Text>
          <Select
            options={[
              { label: "Start", value: "start" },
              { label: "Back", value: "back" },
              { label: "Quit (nothing was changed)", value: "quit" },
            ]}
            onChange={(v) => {
              if (v === "quit") return finish(0, "Nothing was changed.");
              if (v === "back") return dispatch({ type: "back" });
              const backupPath = resolve(s.backupPath);
              const inRuns = basename(dirname(dirname(backupPath))) === "vox-cutover-runs";
              void onRun({ apply: true, backupPath, workDir: inRuns ? dirname(backupPath) : undefined });
            }}
          />
        </Box>
      );
    case "running":
      return (
        <Box flexDirection="column">
          <Steps s={s} cols={cols} />
          {s.notes.length ? <Text dimColor wrap="truncate-end">{s.notes.at(-1)}</Text> : null}
        </Box>
      );
    case "confirm": {
      const r = s.request as Extract<DecisionRequest, { kind: "confirm" }>;
      return (
        <Box flexDirection="column">
          <Text bold color="yellow">{`Destructive step: ${r.title}`}</Text>
          <Text>{r.description}</Text>
          <Text>{`Type the database's file name (${r.expected}) to proceed; anything else cancels.`}</Text>
          <TextInput onSubmit={(v) => answer({ ok: v.trim() === r.expected })} />
        </Box>
      );
    }
    case "sidecar": {
      const r = s.request as Extract<DecisionRequest, { kind: "sidecar" }>;
      return (
        <Box flexDirection="column">
          <Text bold>{`Stage 2 — The training-telemetry sidecar ${basename(r.path)}`}</Text>
          {r.tables.map((t) => (
            <Text key={t.name} wrap="truncate-end">{`  ${t.name}: ${t.rows} rows, ${t.present} already in the new file, ${t.merged} missing, ${t.conflicts} conflicting${t.mergeable ? "" : " (no such table in the baseline: kept in the archive)"}`}</Text>
          ))}
          <Select
            options={[
              { label: "Merge the missing rows, then archive the file", value: "merge" },
              { label: "Archive only (its rows stay in the archived file)", value: "archive" },
            ]}
            onChange={(v) => answer({ merge: v === "merge" })}
          />
        </Box>
      );
    }
    case "telemetry": {
      const r = s.request as Extract<DecisionRequest, { kind: "telemetry" }>;
      return (
        <Box flexDirection="column">
          <Text bold>Stage 3 — Telemetry consumers</Text>
          <Text>JSONL files to check against the envelope contract (space-separated; empty to skip):</Text>
          <TextInput defaultValue={r.suggested.join(" ")} onSubmit={(v) => answer({ files: v.split(/\s+/).filter(Boolean).map((f) => resolve(f)) })} />
        </Box>
      );
    }
    case "summary": {
      const r = s.report!;
      return (
        <Box flexDirection="column">
          <Text bold color="green">{`Done: ${r.before.chain} → ${r.after.chain}${s.rehearsal ? " (on the rehearsal clone)" : ""}`}</Text>
          <Steps s={s} cols={cols} only={[2, 3, 4]} />
          <Text wrap="wrap">{`Backup:  ${r.backup.path} (verified)`}</Text>
          <Text wrap="wrap">{`Archive: ${r.archive.path ?? "-"} (the old file, never deleted)`}</Text>
          <Text>{`Rows: ${r.tables.reduce((n, t) => n + t.rowsBefore, 0)} before, ${r.tables.reduce((n, t) => n + t.rowsAfter, 0)} in the new file, ${r.quarantined} in legacy_quarantine`}</Text>
          <Text>{`Ledger: run ${r.runId}`}</Text>
          <Text wrap="wrap">{`Report: ${r.workDir}/report.md`}</Text>
          <Text wrap="wrap">{`Roll back: ${r.rollbackCommand}`}</Text>
          {s.rehearsal && s.original ? <Text wrap="wrap">{`The real database ${s.original} was not touched. Next: vox-cutover --db '${s.original}'`}</Text> : null}
          <Text dimColor>Enter or q to leave.</Text>
        </Box>
      );
    }
    case "nothing":
      return (
        <Box flexDirection="column">
          <Text>{s.report?.message}</Text>
          <Text dimColor>Enter or q to leave.</Text>
        </Box>
      );
    case "stopped":
      return (
        <Box flexDirection="column">
          <Steps s={s} cols={cols} />
          <Text bold color="red">{s.stopped?.title}</Text>
          <Text wrap="wrap">{s.stopped?.message}</Text>
          <Text dimColor>Enter or q to leave; the next start offers Resume / Roll back.</Text>
        </Box>
      );
  }
}
