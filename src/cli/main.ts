#!/bin/sh
//bin/sh -c :; case "${1--}" in -* | wizard) s=2 ;; *) s=4 ;; esac; [ -n "${MALLOC_ARENA_MAX+set}" ] || export MALLOC_ARENA_MAX=2 VOX_CUTOVER_ARENA=launch; exec node --max-semi-space-size=$s -- "$0" "$@"; exit 127
/*
 * The line above is the launch (issue 18: peak RSS ≤ 200 MB at any size), read by `sh`: the `bin`
 * (npm links it; the kernel runs `#!/bin/sh`) and `npm start` (`sh dist/src/cli/main.js`) start the
 * program through it, and Node, which skips the `#!` line, reads it as a comment. It replaces the
 * shell with `node` (one process, the same pid: signals and exit codes are node's), giving the two
 * settings that must be in place before the process starts:
 *   - `--max-semi-space-size`: the main thread's young generation. V8's default grows it to 3 × 16 MB
 *     under a cutover's allocation rate and the program's peak with it; 4 MB for a command, 2 for the
 *     wizard's screens (the wizard, options alone, no argument: fromBundle's test below). Workers
 *     take theirs from `resourceLimits` (util/worker.ts drops the option from their execArgv).
 *   - `MALLOC_ARENA_MAX=2` (unless the operator set one, even empty): glibc gives each busy thread an
 *     arena of its own (up to 8 per core), each keeps what it freed, and their sum grows with the file:
 *     a 2 GB dry-run peaked at 197–199 MB without the cap, 172–176 MB with it (1 GB 183–188 / 164–166).
 *     Its price is contention where four threads allocate at once: ~0.4 s of a 150 MB dry-run, ~0.5 s of
 *     a 2 GB one. Other C libraries ignore the variable. glibc reads it once, at the process's first
 *     allocation, so the program takes it out of its environment again (below): the operator's `vox`,
 *     which it may run, starts with the operator's environment.
 * `//bin/sh -c :` is the comment's start, a command that does nothing and needs no PATH. `${1--}`: no
 * argument at all is the wizard, an empty first argument a command (fromBundle below).
 * `exit 127`: a shell that goes on after a failed `exec` (bash's execfail) stops there. A POSIX `sh` is
 * needed: on Windows run `node dist/src/cli/main.js`, which runs the same program without the two
 * settings (so does `node` in front of the file anywhere). Measured in docs/benchmark.md (session 22).
 */
/**
 * The installed command: src/cli/program.ts, from one of two builds of it. `npm run build` also writes
 * dist/src/cli/program.bundle.js (scripts/bundle-cli.mjs): the program and every module a command
 * loads in one file, so Node reads and links one file instead of ~140 modules before the first line
 * runs (issue 18: the small file's `cutover --apply`, ~0.15 CPU-s). A command runs from it unless a
 * `tsc` build came after it (util/bundle.ts freshBundle: a bare `tsc` after it falls back to the modules). The
 * wizard, no command and options alone run from the modules: the wizard's own bundle imports our
 * modules from dist/, and a process must hold one copy of each (`instanceof VoxError` across them). A
 * command line that can only mean the wizard with its plain options starts it without the program
 * (commander and every command's options: ~50 ms of the first frame; cli/wizard-entry.ts).
 */
import { freshBundle } from "../util/bundle.js";
import { plainWizardArgs } from "./wizard-args.js";

if (process.env.VOX_CUTOVER_ARENA === "launch") {
  delete process.env.MALLOC_ARENA_MAX;
  delete process.env.VOX_CUTOVER_ARENA;
}

function fromBundle(argv: string[]): boolean {
  const first = argv[0];
  if (first === undefined || first.startsWith("-") || first === "wizard") return false;
  return freshBundle(new URL("./program.bundle.js", import.meta.url));
}

// The command lines that can only mean the wizard, with its plain options (wizard-entry.ts): straight to it,
// without commander and every command's options (~50 ms of the first frame).
const wizard = plainWizardArgs(process.argv.slice(2));
if (wizard) {
  const { runWizard, uncaught } = await import("./wizard-entry.js");
  process.exitCode = await runWizard(wizard).catch(uncaught);
} else if (fromBundle(process.argv.slice(2))) await import(new URL("./program.bundle.js", import.meta.url).href);
else await import("./program.js");
