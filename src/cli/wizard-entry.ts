/**
 * The wizard's way in, one home for both doors: the `wizard` command (program.ts, through commander)
 * and main.ts's, which starts the wizard straight from the command lines that can only mean it with
 * its plain options. Loading commander and building every command's options before the wizard's
 * bundle cost ~50 ms of its first frame (issue 18: ≤ 300 ms; docs/benchmark.md, "Session 30").
 */
import { EXIT } from "../errors.js";
import { freshBundle } from "../util/bundle.js";
import type { WizardOptions } from "./wizard-args.js";

/**
 * The wizard's module: its bundle (scripts/bundle-wizard.mjs: the screens, Ink and React in one file,
 * our other modules imported from dist as usual) unless a `tsc` build came after it (util/bundle.ts
 * freshBundle), else the modules themselves (a bare `tsc` after the bundle was made, a checkout built without it).
 */
async function loadWizard(): Promise<typeof import("../ui/start.js")> {
  // A line at once, before the bundle (or Ink and React) loads; the wizard's first render replaces it.
  // Only on a terminal: without one the wizard refuses (usage error) and nothing else is written.
  if (process.stdin.isTTY && process.stdout.isTTY) process.stdout.write("vox-cutover — starting the wizard…");
  const bundle = new URL("../ui/start.bundle.js", import.meta.url);
  if (freshBundle(bundle)) return (await import(bundle.href)) as typeof import("../ui/start.js");
  return import("../ui/start.js");
}

/** Starts the wizard with `opts`; its exit code. */
export async function runWizard(opts: WizardOptions): Promise<number> {
  const { startWizard } = await loadWizard();
  return startWizard(opts);
}

/** What the process says and exits with when something nobody caught reached the command line (never a stack trace). */
export function uncaught(e: unknown): number {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  return EXIT.failed;
}
