#!/usr/bin/env node
/**
 * The installed command: src/cli/program.ts, from one of two builds of it. `npm run build` also writes
 * dist/src/cli/program.bundle.js (scripts/bundle-cli.mjs): the program and every module a command
 * loads in one file, so Node reads and links one file instead of ~140 modules before the first line
 * runs (issue 18: the small file's `cutover --apply`, ~0.15 CPU-s). A command runs from it unless a
 * `tsc` build came after it (util/bundle.ts freshBundle: a bare `tsc` after it falls back to the modules). The
 * wizard, no command and options alone run from the modules: the wizard's own bundle imports our
 * modules from dist/, and a process must hold one copy of each (`instanceof VoxError` across them).
 */
import { freshBundle } from "../util/bundle.js";

function fromBundle(argv: string[]): boolean {
  const first = argv[0];
  if (first === undefined || first.startsWith("-") || first === "wizard") return false;
  return freshBundle(new URL("./program.bundle.js", import.meta.url));
}

if (fromBundle(process.argv.slice(2))) await import(new URL("./program.bundle.js", import.meta.url).href);
else await import("./program.js");
