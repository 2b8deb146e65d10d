/**
 * Runs before every test file (vitest `setupFiles`). Test files share worker processes
 * (`isolate: false` in vitest.config.ts: a file no longer pays ~1 CPU-s for a fresh process
 * loading vitest and its modules again), so the process a file leaves is the next file's:
 * - its temp folders are removed when its tests end (the hook used to sit in test/helpers.ts, whose
 *   module now loads once per worker, not once per file);
 * - what it changed of the process — an environment variable, the working folder, a signal handler
 *   — must be put back by the file itself (in its afterAll). A file that leaves one changed fails
 *   here, naming it, and the environment and folder are put back so the next file starts clean.
 */
import { afterAll } from "vitest";
import { removeMadeDirs } from "./helpers.js";

const env = { ...process.env };
const cwd = process.cwd();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const listeners = SIGNALS.map((s) => process.listenerCount(s));

afterAll(() => {
  removeMadeDirs();
  const left: string[] = [];
  for (const k of new Set([...Object.keys(env), ...Object.keys(process.env)])) {
    if (process.env[k] === env[k]) continue;
    left.push(`process.env.${k}`);
    if (env[k] === undefined) delete process.env[k];
    else process.env[k] = env[k];
  }
  if (process.cwd() !== cwd) {
    left.push(`the working folder (${process.cwd()})`);
    process.chdir(cwd);
  }
  SIGNALS.forEach((s, i) => {
    if (process.listenerCount(s) !== listeners[i]) left.push(`${s} listeners (${listeners[i]} → ${process.listenerCount(s)})`);
  });
  if (left.length) throw new Error(`this test file left its process changed (files share a worker process): ${left.join(", ")}; put it back in afterAll`);
});
