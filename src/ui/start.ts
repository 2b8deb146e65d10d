/**
 * Entry of the interactive wizard. Never mounts Ink without a TTY; honours NO_COLOR (Ink does not,
 * so chalk is switched off before Ink loads); handles Ctrl-C itself (exit 130, never 0).
 */
import { signalExitCode, type StopSignal } from "../util/cancel.js";
import { collectGarbage } from "../util/gc.js";
import { wrapWords } from "./format.js";

const GC_EVERY_FRAMES = 10;

export async function startWizard(opts: { rehearse?: boolean; db?: string }): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    process.stderr.write(
      "usage error: the wizard needs an interactive terminal (stdin and stdout must be TTYs). Use the commands instead: vox-cutover --help\n",
    );
    return 2;
  }
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") process.env.FORCE_COLOR = "0";
  // The placeholder line (written by src/cli/program.ts before this module loads) is replaced by Ink's first render.
  const [{ render }, React, { App }, { workerClient }] = await Promise.all([import("ink"), import("react"), import("./App.js"), import("./client.js")]);
  process.stdout.write("\r\x1b[2K");
  const client = workerClient();
  let code = 0;
  let note = "";
  let frames = 0;
  const signalHandlers = new Set<(sig: StopSignal) => void>();
  const instance = render(
    React.createElement(App, {
      client,
      db: opts.db,
      rehearse: opts.rehearse,
      onExit: (c: number, n: string) => {
        code = c;
        note = n;
      },
      onSignal: (h: (sig: StopSignal) => void) => {
        signalHandlers.add(h);
        return () => signalHandlers.delete(h);
      },
    }),
    // At most ten frames a second (Ink's default is 30): a frame redraws the whole screen (~5–10 ms of
    // CPU at 100×30), the progress changes ten times a second at most, and a burst of changes inside
    // 100 ms is drawn once, its last state (the first change after a quiet spell is drawn at once).
    // Every frame builds the whole screen anew, and V8 leaves what frames promoted in old space until
    // the heap has grown enough for a full collection of its own: one after every 10 frames (at most
    // one a second, while a step's progress moves; a few ms each) keeps that garbage out of the
    // process's peak (issue 18: the 1000-row journey 240 → 225 MB; docs/benchmark.md, session 13).
    { exitOnCtrlC: false, maxFps: 10, onRender: () => ++frames % GC_EVERY_FRAMES === 0 && collectGarbage() },
  );
  // A signal from outside (kill, or the terminal closing: SIGHUP) is handled by the wizard like
  // Ctrl-C: it stops at a safe point and says what is on disk. Should the wizard not end, the process
  // still ends after a while.
  let hungUp = false;
  const onSignal = (sig: NodeJS.Signals) => {
    const s: StopSignal = sig === "SIGTERM" ? "SIGTERM" : sig === "SIGHUP" ? "SIGHUP" : "SIGINT";
    if (s === "SIGHUP" && hungUp) return; // the terminal went away once: said (and handled) once
    if (s === "SIGHUP") {
      // No terminal any more: writing to it fails (EIO). The note goes nowhere; the cleanup still runs.
      hungUp = true;
      for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});
    }
    if (signalHandlers.size) for (const h of signalHandlers) h(s);
    else client.cancel();
    setTimeout(() => {
      if (!note) {
        code = signalExitCode(s);
        note = "Interrupted. The run, if one had started, is recorded in its journal; the next start offers Resume / Roll back.";
      }
      instance.unmount();
    }, 30_000).unref();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  process.on("SIGHUP", onSignal);
  // The terminal can close without a SIGHUP reaching the wizard (the shell that owned it traps or
  // ignores it, so only it is told): reading then gives end-of-file or EIO and writing EIO. That is
  // a hang-up too — stop at the safe point and clean up, instead of waiting for keys that never come.
  const gone = (e?: NodeJS.ErrnoException) => {
    if (!e || e.code === "EIO") onSignal("SIGHUP");
  };
  process.stdin.once("end", () => gone());
  process.stdin.on("error", gone);
  process.stdout.on("error", gone);
  await instance.waitUntilExit();
  // Whatever still runs in the engine (a plan's trial import) stops at its safe point before the
  // worker ends; the wizard's scratch (rehearsal clone, vox template) is removed.
  await client.close();
  // On a terminal the note is wrapped at its width by words (the terminal would cut them anywhere).
  if (note && !hungUp) process.stderr.write((process.stderr.isTTY ? wrapWords(note, process.stderr.columns) : note) + "\n");
  if (hungUp) endByHangup();
  return code;
}

/**
 * The terminal is gone and everything is cleaned up: end the way a hung-up program does, by the
 * signal itself (the shell sees 129). A normal exit would have Node 20 restore the vanished
 * terminal's mode at exit; tcsetattr fails there with EIO and Node aborts with a native assertion
 * (nodejs/node#51519, fixed in later Node releases by nodejs/node#58200).
 */
function endByHangup(): never {
  process.removeAllListeners("SIGHUP");
  process.kill(process.pid, "SIGHUP");
  // The default action ends the process; should the signal be blocked, the exit code still says it.
  process.exit(129);
}
