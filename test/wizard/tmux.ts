/**
 * The wizard in a real terminal (tmux): start it with CI removed (Ink renders only at exit when CI
 * is set), wait for a screen (never a fixed sleep), send keys, read its exit code and stderr.
 * Shared by the tmux test files; `cleanUpTmux()` in afterAll ends the sessions and removes folders.
 */
import { expect } from "vitest";
import { execaSync } from "execa";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { BIN, lockDirEnv, NOT_IN_TEST_PROCESSES, shq, shortTmp } from "../helpers.js";

const sessions: string[] = [];
let n = 0;

const made: string[] = [];
/** Screens show paths and wrap them: every file here lives under a short folder of fixed length, whatever TMPDIR is. */
export function scratchDir(): string {
  const d = shortTmp();
  made.push(d);
  return d;
}

/** Starts the wizard in tmux, CI removed from its environment (and NOT_IN_TEST_PROCESSES, as test/helpers.ts cleanEnv does); its stderr goes to a file (React warnings are looked for there). */
/** trapHup: the shell survives the terminal closing (the wizard does not: it gets SIGHUP), so it records the wizard's exit status. */
export function start(
  args: string,
  opts: { cols?: number; rows?: number; env?: string; cwd?: string; trapHup?: boolean } = {},
): { name: string; exitFile: string; errFile: string } {
  const name = `vox${process.pid}x${n++}`;
  const d = scratchDir();
  const exitFile = join(d, "exit");
  const errFile = join(d, "stderr");
  const cmd = `${opts.trapHup ? "trap 'true' HUP; " : ""}cd ${shq(opts.cwd ?? d)} && env -u CI -u VOX_DB_PATH -u VOX_DB_URL ${NOT_IN_TEST_PROCESSES.map((k) => `-u ${k}`).join(" ")} ${lockDirEnv()} ${opts.env ?? ""} sh ${shq(BIN)} ${args} 2> ${shq(errFile)}; echo $? > ${shq(exitFile)}; cat ${shq(errFile)}; sleep 30`;
  // pipe-pane copies everything the pane is sent into a file: waitFor reads the screen again only when that grew.
  const cols = String(opts.cols ?? 100);
  const rows = String(opts.rows ?? 30);
  const out = join(d, "pane-output");
  execaSync("tmux", ["new-session", "-d", "-s", name, "-x", cols, "-y", rows, cmd]);
  // Output sent before this is not in the file: the first waitFor reads the screen whatever the file holds.
  execaSync("tmux", ["pipe-pane", "-t", name, `cat >> ${shq(out)}`]);
  sessions.push(name);
  paneOutput.set(name, out);
  return { name, exitFile, errFile };
}

const REACT_WARNING = /Warning:|Maximum update depth|Cannot update a component|React|act\(/;
export function noReactWarnings(errFile: string): void {
  const text = existsSync(errFile) ? readFileSync(errFile, "utf8") : "";
  expect(text.split("\n").filter((l) => REACT_WARNING.test(l))).toEqual([]);
}

export function screen(name: string, escapes = false): string {
  return execaSync("tmux", ["capture-pane", "-t", name, "-p", ...(escapes ? ["-e"] : [])]).stdout;
}

/** Session → the file its pane's output is copied to (pipe-pane, set up by start). */
const paneOutput = new Map<string, string>();

/** How many bytes the pane has been sent so far (-1: not known, a session not made by start). */
function outputBytes(name: string): number {
  const f = paneOutput.get(name);
  try {
    return f ? statSync(f).size : -1;
  } catch {
    return -1;
  }
}

/**
 * Waits for the screen to show `re` (the budget is against a hang: a loaded machine starts the wizard
 * slowly). The screen changes only with what the pane is sent, so it is read again (a tmux process,
 * ~25 ms of CPU on this machine) only when the pane's output grew since the last read, and at least
 * once a second in any case; checking the size every 50 ms costs a stat. The size is taken before
 * the read: output arriving during a read grows it, and the next round reads again.
 */
export async function waitFor(name: string, re: RegExp, ms = 60_000): Promise<string> {
  const t0 = Date.now();
  let read: { bytes: number; at: number } | undefined;
  let s = "";
  for (;;) {
    const bytes = outputBytes(name);
    if (!read || bytes < 0 || bytes !== read.bytes || Date.now() - read.at >= 1000) {
      read = { bytes, at: Date.now() };
      s = screen(name);
      if (re.test(s)) return s;
    }
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${re} in:\n${screen(name)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stage 0's Continue, the default backup path, the plan accepted: the walk most journeys start with. */
export async function acceptToPlan(name: string, onPlan?: (plan: string) => void): Promise<void> {
  await waitFor(name, /Continue to Stage 1/);
  keys(name, "Enter");
  await waitFor(name, /Where should the backup go/);
  keys(name, "Enter");
  const plan = await waitFor(name, /The plan[\s\S]*▸ Start/);
  onPlan?.(plan);
  keys(name, "Enter");
}

export function keys(name: string, ...k: string[]): void {
  execaSync("tmux", ["send-keys", "-t", name, ...k]);
}

/** Types text; unless it ends with a newline (a paste that submits), waits until the screen shows it, not a fixed time. */
export async function type(name: string, text: string): Promise<void> {
  execaSync("tmux", ["send-keys", "-t", name, "-l", text]);
  if (!text.endsWith("\n")) await waitFor(name, new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
}

export async function exitCode(f: string, ms = 60_000): Promise<number> {
  const t0 = Date.now();
  while (!existsSync(f) || !readFileSync(f, "utf8").trim()) {
    if (Date.now() - t0 > ms) throw new Error("the wizard did not exit");
    await new Promise((r) => setTimeout(r, 50));
  }
  return Number(readFileSync(f, "utf8").trim());
}

export function cleanUpTmux(): void {
  // spliced: the next test file in this worker process shares this module and cleans up only its own
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  for (const s of sessions.splice(0)) {
    try {
      execaSync("tmux", ["kill-session", "-t", s]);
    } catch {
      /* gone */
    }
  }
}
