/**
 * The wizard in a real terminal (tmux): start it with CI removed (Ink renders only at exit when CI
 * is set), wait for a screen (never a fixed sleep), send keys, read its exit code and stderr.
 * Shared by the tmux test files; `cleanUpTmux()` in afterAll ends the sessions and removes folders.
 */
import { expect } from "vitest";
import { execaSync } from "execa";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BIN, shq, shortTmp } from "../helpers.js";

const sessions: string[] = [];
let n = 0;

const made: string[] = [];
/** Screens show paths and wrap them: every file here lives under a short folder of fixed length, whatever TMPDIR is. */
export function scratchDir(): string {
  const d = shortTmp();
  made.push(d);
  return d;
}

/** Starts the wizard in tmux, CI removed from its environment; its stderr goes to a file (React warnings are looked for there). */
/** trapHup: the shell survives the terminal closing (the wizard does not: it gets SIGHUP), so it records the wizard's exit status. */
export function start(
  args: string,
  opts: { cols?: number; rows?: number; env?: string; cwd?: string; trapHup?: boolean } = {},
): { name: string; exitFile: string; errFile: string } {
  const name = `vox${process.pid}x${n++}`;
  const d = scratchDir();
  const exitFile = join(d, "exit");
  const errFile = join(d, "stderr");
  const cmd = `${opts.trapHup ? "trap 'true' HUP; " : ""}cd ${shq(opts.cwd ?? d)} && env -u CI -u VOX_DB_PATH -u VOX_DB_URL ${opts.env ?? ""} node ${shq(BIN)} ${args} 2> ${shq(errFile)}; echo $? > ${shq(exitFile)}; cat ${shq(errFile)}; sleep 30`;
  execaSync("tmux", ["new-session", "-d", "-s", name, "-x", String(opts.cols ?? 100), "-y", String(opts.rows ?? 30), cmd]);
  sessions.push(name);
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

/** Waits for the screen to show `re` (the budget is against a hang: a loaded machine starts the wizard slowly). */
export async function waitFor(name: string, re: RegExp, ms = 60_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const s = screen(name);
    if (re.test(s)) return s;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${re} in:\n${s}`);
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
  for (const d of made) rmSync(d, { recursive: true, force: true });
  for (const s of sessions) {
    try {
      execaSync("tmux", ["kill-session", "-t", s]);
    } catch {
      /* gone */
    }
  }
}
