import { defineConfig } from "vitest/config";
import LongestFirst from "./test/sequencer.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    // Budgets against a hang, not speed checks: the machine is shared, and a whole cutover in a
    // child process can take a minute when other jobs hold both cores.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Child processes (libsql's native module, signals, process.chdir work as in the CLI). Files share
    // them: isolate: false runs each worker's files one after another in one process with one module
    // cache, instead of a fresh process per file (~1 CPU-s each: Node, vitest and the modules a
    // file imports, loaded again). test/file-setup.ts runs before every file: it removes the file's
    // temp folders when it ends and fails a file that leaves the environment, the working folder or a
    // signal handler changed (putting them back for the next file).
    pool: "forks",
    poolOptions: { forks: { isolate: false } },
    setupFiles: ["./test/file-setup.ts"],
    // Two files at a time on this 2-core machine: vitest's default is one (cores - 1), and some of a
    // test's time is spent waiting on the CLI, sqlite3 or tmux processes it started. Three were
    // tried: in fresh clones with CI=true on the same commit (d97e412, 875 tests) three took 548 s
    // and 1,043 CPU-s, two 520 s and 909 CPU-s — the suite is CPU-bound, and a third process only
    // adds contention. Files share no state: every file works in its own temp folders, tmux sessions
    // are named by process id, and the run-wide production install is built under a lock
    // (test/fixtures/install.ts).
    fileParallelism: true,
    maxWorkers: 2,
    minWorkers: 1,
    // The longest files first, from the figures of a whole run when vitest has no cache (CI's fresh clone).
    sequence: { sequencer: LongestFirst },
    globalSetup: ["./test/global-setup.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
