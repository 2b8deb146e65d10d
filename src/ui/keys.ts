/** The keys that work on each screen: the footer shows exactly these, and the tests press each one. */
import type { WizardState } from "./state.js";

interface KeyHelp {
  key: string;
  label: string;
}

/** Screens whose keys go to a text field: q and ? are text there. */
export const TEXT_SCREENS = new Set(["backup-path", "confirm", "telemetry", "rollback"]);

export function keysFor(s: WizardState): KeyHelp[] {
  const menu: KeyHelp[] = [
    { key: "↑↓", label: "move" },
    { key: "Enter", label: "choose" },
  ];
  const help = { key: "?", label: "help" };
  const quitNothing = { key: "q", label: "quit (nothing changed)" };
  if (s.running) {
    if (s.stopping) return s.stopping.presses >= 2 ? [{ key: "Ctrl-C", label: "force quit now (see above)" }] : [{ key: "Ctrl-C", label: "how to force it" }];
    switch (s.screen) {
      case "confirm":
        return [
          { key: "type", label: "the file name" },
          { key: "Enter", label: "confirm" },
          { key: "Esc", label: "cancel here (nothing of the step is done)" },
          { key: "Ctrl-C", label: "stop" },
        ];
      case "telemetry":
        return [
          { key: "type", label: "file names" },
          { key: "Enter", label: "check them (empty: skip)" },
          { key: "Ctrl-C", label: "stop" },
        ];
      case "sidecar":
        return [...menu, { key: "q/Ctrl-C", label: "stop before Stage 2" }, help];
      default:
        return [{ key: "q/Ctrl-C", label: "stop at the next safe point" }, help];
    }
  }
  switch (s.screen) {
    case "loading":
      return [{ key: "Ctrl-C", label: "quit" }];
    case "no-db":
    case "stage0":
      return [...menu, quitNothing, help];
    case "unfinished":
      return [...menu, { key: "q", label: "quit (the run stays recorded)" }, help];
    case "backup-path":
      return [
        { key: "type", label: "a path (~ is your home)" },
        { key: "Enter", label: "accept" },
        { key: "Esc", label: "back" },
        { key: "Ctrl-C", label: "quit (nothing changed)" },
      ];
    case "plan":
      return [...menu, { key: "Esc", label: "back" }, quitNothing, help];
    case "rollback":
      return [
        { key: "type", label: "the file name" },
        { key: "Enter", label: "roll back" },
        { key: "Esc", label: "back (nothing changed)" },
        { key: "Ctrl-C", label: "quit" },
      ];
    case "summary":
    case "rolled-back":
      return [...menu, { key: "q", label: "leave" }, help];
    case "stopped":
      if (s.stopped?.title === "Cancelled" && s.started) return [...menu, { key: "q", label: "leave (the run stays recorded)" }, help];
      return [{ key: "Enter/q", label: "leave" }, help];
    case "nothing":
      return [{ key: "Enter/q", label: "leave" }, help];
    default:
      return [help];
  }
}
