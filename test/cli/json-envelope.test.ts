/**
 * The contract: "--json output always has at least command, ok, mode, db and durationMs" — one JSON
 * object on stdout, whatever happened: a usage error commander finds before any command runs, a
 * refusal before the database was resolved, a failed dry-run, and commands that touch no database
 * (db: null). helper-102 found stdout empty, db missing and a failed dry-run's mode "read".
 */
import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, tmp } from "../helpers.js";

const dir = tmp();
const junk = join(dir, "junk.db");
writeFileSync(junk, "not a database at all, but long enough to be looked at by SQLite as one\n".repeat(20));

describe("every --json output is one object with command, ok, mode, db, durationMs", () => {
  it.each<[string, string[], number, Record<string, unknown>]>([
    ["a command that touches no database", ["digest", "--json"], 0, { command: "digest", ok: true, mode: "read", db: null }],
    ["an unknown option", ["diagnose", "--bogus", "--json"], 2, { command: "diagnose", ok: false, mode: "read", db: null }],
    ["an unknown option to a command that takes --apply", ["cutover", "--bogus", "--json"], 2, { command: "cutover", ok: false, mode: "dry-run" }],
    ["--work-dir with its folder left out", ["drill", "--work-dir", "--json"], 2, { command: "drill", ok: false }],
    ["a missing argument", ["export-legacy", "--json"], 2, { command: "export-legacy", ok: false }],
    ["--db with its path left out", ["cutover", "--db", "--json"], 2, { command: "cutover", ok: false, db: null }],
    // An empty path was the current folder (--backup '': refused 3, "already holds a folder") or the default (--work-dir ''): a usage error.
    ["--backup given an empty path", ["cutover", "--db", junk, "--apply", "--backup", "", "--json"], 2, { command: "cutover", ok: false, mode: "apply" }],
    ["--work-dir given an empty path", ["migrate", "--db", junk, "--work-dir", "", "--json"], 2, { command: "migrate", ok: false }],
    ["--sidecar given an empty path", ["sidecar", "--db", junk, "--sidecar", "", "--json"], 2, { command: "sidecar", ok: false }],
    // An empty positional path was the current folder too ("is a directory", 3): a usage error, naming the argument.
    ["export-legacy given an empty OUT", ["export-legacy", "", "--db", junk, "--json"], 2, { command: "export-legacy", ok: false }],
    ["import-legacy given an empty IN", ["import-legacy", "", "--db", junk, "--apply", "--json"], 2, { command: "import-legacy", ok: false, mode: "apply" }],
    ["telemetry-check given an empty FILE among others", ["telemetry-check", junk, "", "--json"], 2, { command: "telemetry-check", ok: false }],
    ["--plan with its digest left out", ["cutover", "--db", junk, "--apply", "--plan", "--json"], 2, { command: "cutover", ok: false, mode: "apply" }],
    [
      "a refusal before the database is resolved",
      ["diagnose", "--db", junk, "--target-schema", join(dir, "none.db"), "--json"],
      2,
      { db: { path: junk, source: "--db" } },
    ],
    ["a failed dry-run", ["migrate", "--db", junk, "--json"], 1, { command: "migrate", ok: false, mode: "dry-run", db: { path: junk, source: "--db" } }],
  ])("%s", async (_what, args, code, want) => {
    const r = await cli(args);
    expect(r.exitCode, r.stderr).toBe(code);
    const j = JSON.parse(r.stdout);
    for (const k of ["command", "ok", "mode", "db", "durationMs"]) expect(j, k).toHaveProperty(k);
    expect(typeof j.durationMs).toBe("number");
    expect(j).toMatchObject(want);
    if (code === 2) expect(j.error.kind).toBe("usage");
    if (args.includes("")) expect(j.error.message).toMatch(/(OUT|IN|FILE|--\w[\w-]*) was given an empty value: it needs a (path|folder)/);
    if (code !== 0) expect(j.error.message).toEqual(expect.any(String));
  });
});
