/**
 * No dead files, exports or dependencies (knip, configured in knip.json: the CLI, its workers, the
 * scripts and the tests are the entry points). An export only its own file uses loses `export`; a
 * file nothing imports is removed.
 */
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tmp } from "./helpers.js";

interface KnipReport {
  files: string[];
  issues: { file: string; [kind: string]: unknown }[];
}

async function knip(cwd: string, config?: string): Promise<KnipReport> {
  const r = await execa(join(ROOT, "node_modules/.bin/knip"), ["--no-progress", "--reporter", "json", ...(config ? ["--config", config] : [])], {
    cwd,
    reject: false,
  });
  return JSON.parse(String(r.stdout)) as KnipReport;
}

describe("knip: `npm run knip`", () => {
  it("finds no unused file, export, type or dependency in src/, stages/, bench/ and test/", async () => {
    const r = await knip(ROOT);
    expect(r.files).toEqual([]);
    expect(r.issues.map((i) => `${i.file}: ${JSON.stringify(i)}`)).toEqual([]);
  }, 120_000);

  it("would fail on an export nobody imports and on a file nobody imports (so the check above can fail)", async () => {
    const dir = tmp("vox-knip-");
    try {
      mkdirSync(join(dir, "src"));
      writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "k", type: "module", private: true }));
      writeFileSync(join(dir, "knip.json"), JSON.stringify({ entry: ["src/main.ts"], project: ["src/**/*.ts"] }));
      writeFileSync(join(dir, "src/main.ts"), 'import { used } from "./lib.js";\nconsole.log(used);\n');
      writeFileSync(join(dir, "src/lib.ts"), "export const used = 1;\nexport const deadExport = 2;\n");
      writeFileSync(join(dir, "src/orphan.ts"), "export const x = 3;\n");
      const r = await knip(dir);
      expect(r.files.map((f) => f.replace(/\\/g, "/"))).toEqual(["src/orphan.ts"]);
      expect(JSON.stringify(r.issues)).toContain("deadExport");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
