import { defineConfig } from "vitest/config";
import LongestFirst from "./test/sequencer.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    // Budgets against a hang, not speed checks: the machine is shared, and a whole cutover in a
    // child process can take a minute when other jobs hold both cores.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Each file in its own process (libsql handles, process.env and signal handlers stay per file).
    pool: "forks",
    // Three files at a time on this 2-core machine: vitest's default is one (cores - 1), and much of
    // a test's time is spent waiting on the CLI, sqlite3 or tmux processes it started (with two, the
    // cores sat idle 15 % of the run; three took the whole suite from 532 to 502 s). Files share no
    // state: every file works in its own temp folders, tmux sessions are named by process id, and
    // the run-wide production install is built under a lock (test/fixtures/install.ts).
    fileParallelism: true,
    maxWorkers: 3,
    minWorkers: 1,
    // The longest files first, from the figures of a whole run when vitest has no cache (CI's fresh clone).
    sequence: { sequencer: LongestFirst },
    globalSetup: ["./test/global-setup.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
