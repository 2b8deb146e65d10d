import { Box, Text, useInput, useStdout, type Key } from "ink";
import { FocusContext, type FocusSlot, type KeyHandler } from "./components.js";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef } from "react";
import { tabs } from "./format.js";
import { keysFor, TEXT_SCREENS } from "./keys.js";
import type { EngineClient } from "./protocol.js";
import type { StopSignal } from "../util/cancel.js";
import { stageOf, type ScreenName } from "./state.js";
import { useEngine, type Engine } from "./useEngine.js";
import type { ScreenProps } from "./screens/common.js";
import { BackupPath } from "./screens/BackupPath.js";
import { Confirm } from "./screens/Confirm.js";
import { Loading } from "./screens/Loading.js";
import { NoDb } from "./screens/NoDb.js";
import { Nothing } from "./screens/Nothing.js";
import { Plan } from "./screens/Plan.js";
import { Rollback } from "./screens/Rollback.js";
import { RolledBack } from "./screens/RolledBack.js";
import { Running } from "./screens/Running.js";
import { Sidecar } from "./screens/Sidecar.js";
import { Stage0 } from "./screens/Stage0.js";
import { Stopped } from "./screens/Stopped.js";
import { Summary } from "./screens/Summary.js";
import { Telemetry } from "./screens/Telemetry.js";
import { Unfinished } from "./screens/Unfinished.js";

export { validateBackupPath } from "./notes.js";

interface AppProps {
  client: EngineClient;
  db?: string;
  rehearse?: boolean;
  /** Called once when the wizard ends: exit code and a last line for the terminal. */
  onExit(code: number, note: string): void;
  /** SIGINT/SIGTERM from outside (kill): handled like Ctrl-C. Returns an unsubscribe. */
  onSignal?(handler: (sig: StopSignal) => void): () => void;
}

const SCREENS: Record<ScreenName, (p: ScreenProps) => React.JSX.Element> = {
  loading: Loading,
  "no-db": NoDb,
  unfinished: Unfinished,
  stage0: Stage0,
  "backup-path": BackupPath,
  plan: Plan,
  running: Running,
  confirm: Confirm,
  sidecar: Sidecar,
  telemetry: Telemetry,
  summary: Summary,
  stopped: Stopped,
  nothing: Nothing,
  rollback: Rollback,
  "rolled-back": RolledBack,
};

const HELP: Record<ScreenName, string> = {
  loading: "The wizard is looking at the database; nothing is written.",
  "no-db": "No database was found. Create a sample legacy database in a scratch folder and rehearse the whole runbook on it, or quit and pass --db PATH.",
  unfinished:
    "A run of this database was left unfinished. Resume continues from the journal (offered only where it can succeed); Roll back puts the original back and removes only the run's own temporary files (it asks for the file name first); Start over rolls back, then plans again.",
  stage0:
    "Stage 0 checks the preconditions without writing anything. Continue to choose the backup path; Rehearse runs everything on a clone in a scratch folder first.",
  "backup-path":
    "Where the verified backup goes. The folder must exist (the run's own folder is created for you); the file must not. ~ is your home. Esc goes back.",
  plan: "Every step of the run. Destructive steps stop and ask you to type the name of the file they act on, showing the evidence first.",
  running:
    "Steps run in order; progress shows the phase, rows, a smoothed rate and an ETA. q or Ctrl-C stops at the next safe point (the journal keeps the state); a second Ctrl-C says how to force it.",
  confirm:
    "Type the file's name exactly to let this destructive step run. An empty answer or a different name asks again (and says so). Esc cancels the step: nothing of it is done, and the next screen offers to resume at once.",
  sidecar:
    "The sidecar is backed up first either way. Merge copies rows the new file lacks (conflicts go to legacy_quarantine); Archive only keeps them in the archived file.",
  telemetry: "Name JSONL files to check against the telemetry envelope contract (separate with spaces), or submit an empty line to skip the check.",
  summary: "What changed and where everything is. The same report is in the work dir (report.md, report.json). Roll back asks for the file name first.",
  stopped: "The run stopped. What is on disk is said above; the next start offers Resume or Roll back.",
  nothing: "Nothing to do for this database.",
  rollback: "Roll back moves the files listed. Type the database's file name to do it; Esc goes back without changing anything.",
  "rolled-back": "The rollback is done; the lines above say what moved where.",
};

function useKeys(engine: Engine, focus: { current: KeyHandler | null }) {
  // A stable handler that reads the latest engine: keys arriving between a render and its effects
  // are judged against the screen on display, never a stale one.
  const ref = useRef(engine);
  useLayoutEffect(() => {
    ref.current = engine;
  });
  const handle = useCallback(
    (input: string, key: Key) => {
      const e = ref.current;
      const s = e.s;
      if (key.ctrl && input === "c") return e.interrupt("SIGINT");
      if (key.escape) return e.escape();
      if (TEXT_SCREENS.has(s.screen)) return focus.current?.(input, key); // q and ? are text in a text field
      if (s.screen === "loading") return;
      if (input === "q") return e.quit();
      if (input === "?") return e.help();
      const cancelledMenu = s.screen === "stopped" && s.stopped?.title === "Cancelled" && s.started;
      if (key.return && !s.running && !cancelledMenu && (s.screen === "stopped" || s.screen === "nothing")) return e.quit();
      focus.current?.(input, key);
    },
    [focus],
  );
  useInput(handle);
}

export function App({ client, db, rehearse, onExit, onSignal }: AppProps) {
  const e = useEngine({ client, db, rehearse, onExit });
  const s = e.s;
  const { stdout } = useStdout();
  const cols = Math.max(40, stdout?.columns ?? 80);
  const rows = Math.max(16, stdout?.rows ?? 30);
  const focus = useRef<KeyHandler | null>(null);
  const slot = useMemo<FocusSlot>(
    () => ({
      set: (h) => {
        focus.current = h;
      },
      clear: (h) => {
        if (focus.current === h) focus.current = null;
      },
    }),
    [],
  );
  useKeys(e, focus);
  const interrupt = e.interrupt;
  useEffect(() => (onSignal ? onSignal((sig) => interrupt(sig)) : undefined), [onSignal, interrupt]);
  const stage = stageOf(s);
  const Screen = SCREENS[s.screen];
  const keys = keysFor(s);
  const badge = s.rehearsal
    ? s.origin === "sample"
      ? "[REHEARSAL on a sample the wizard made]"
      : `[REHEARSAL on a clone${s.original ? ` of ${s.original}` : ""}]`
    : "";
  const help = s.help ? HELP[s.screen] : "";
  const footer = keys.map((k) => `${k.key} ${k.label}`).join(" · ");
  // Header, tabs, the blank line, the footer as it wraps, and the line Ink's cursor ends on: a body
  // taller than the rest would scroll the header (which database) off a small terminal.
  const bodyRows = rows - 4 - Math.ceil(footer.length / cols) - (badge ? Math.ceil(badge.length / cols) : 0) - (help ? Math.ceil(help.length / cols) + 1 : 0);
  return (
    <FocusContext.Provider value={slot}>
      <Box flexDirection="column" width={cols}>
        <Text wrap="truncate-middle">
          <Text bold>vox-cutover</Text>
          {` ${s.db ?? db ?? ""}`}
        </Text>
        {badge ? (
          <Text bold wrap="wrap">
            {badge}
          </Text>
        ) : null}
        <Text wrap="truncate-end">
          {tabs(stage, cols).map((t, i) => (
            <Text key={i} color={t.current ? "cyan" : undefined} bold={t.current} dimColor={!t.current}>
              {`${i ? "  " : ""}${t.text}`}
            </Text>
          ))}
        </Text>
        {help ? (
          <Box marginTop={1}>
            <Text wrap="wrap">{`Help: ${help}`}</Text>
          </Box>
        ) : null}
        <Box marginTop={1} flexDirection="column">
          <Screen key={s.visit} e={e} cols={cols} rows={bodyRows} />
        </Box>
        <Text dimColor wrap="wrap">
          {footer}
        </Text>
      </Box>
    </FocusContext.Provider>
  );
}
