import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { join } from "node:path";
import { ROOT } from "./helpers.js";

/** The project's prettier, run directly (npx costs ~0.7 CPU-s a call to find the same file). */
const PRETTIER = join(ROOT, "node_modules", ".bin", "prettier");

describe("eslint (typescript-eslint everywhere, react-hooks on the wizard): `npm run lint`", () => {
  it("src/, stages/, bench/ and test/ have no lint errors", async () => {
    const r = await execa("npm", ["run", "--silent", "lint", "--", "--format", "json"], { cwd: ROOT, reject: false });
    const results = JSON.parse(String(r.stdout)) as { filePath: string; errorCount: number; messages: { ruleId: string; message: string; line: number }[] }[];
    // it really linted every folder, the wizard's files included
    for (const dir of ["src/ui", "src/engine", "stages", "bench", "test/engine", "test/wizard"]) {
      expect(results.filter((f) => f.filePath.startsWith(`${ROOT}/${dir}/`)).length, dir).toBeGreaterThan(0);
    }
    const errors = results.flatMap((f) => f.messages.map((m) => `${f.filePath}:${m.line} ${m.ruleId}: ${m.message}`));
    expect(errors).toEqual([]);
    expect(r.exitCode).toBe(0);
  }, 120_000);
});

describe("prettier: `npm run format:check`", () => {
  it("every file the formatter covers (code, config; not prose or generated files) is formatted", async () => {
    const r = await execa(PRETTIER, ["--list-different", "."], { cwd: ROOT, reject: false });
    // it found files to check: the code of src/ and test/ is covered (not ignored)
    const covered = await execa(PRETTIER, ["--file-info", "src/cli/main.ts"], { cwd: ROOT, reject: false });
    expect(JSON.parse(String(covered.stdout)).ignored).toBe(false);
    expect(String(r.stdout).split("\n").filter(Boolean), "run `npm run format`").toEqual([]);
    expect(r.exitCode).toBe(0);
  }, 120_000);
});

describe("tsc over the tests too: `npm run typecheck`", () => {
  it("test/ type-checks against the code it drives (a test double that drifts from its interface fails here, not at run time)", async () => {
    // The tests import the engine from dist/ (worker threads run compiled files): the build's declarations type those imports.
    // `tsc -b`: tsconfig.test.json references the build (tsconfig.json), so src/ is not checked again — the build that
    // `npm test` ran first is up to date, and test/ is checked against its declarations (an out-of-date build is rebuilt first).
    const r = await execa("npm", ["run", "--silent", "typecheck"], { cwd: ROOT, reject: false });
    expect(
      String(r.stdout)
        .split("\n")
        .filter((l) => l.includes("error TS")),
    ).toEqual([]);
    expect(r.exitCode).toBe(0);
  }, 120_000);
});
