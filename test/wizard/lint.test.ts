import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { ROOT } from "../helpers.js";

describe("eslint (react-hooks, typescript-eslint) on the wizard", () => {
  it("src/ui has no lint errors", async () => {
    const r = await execa("npx", ["eslint", "--format", "json", "src/ui"], { cwd: ROOT, reject: false });
    const results = JSON.parse(String(r.stdout)) as { filePath: string; errorCount: number; messages: { ruleId: string; message: string; line: number }[] }[];
    expect(results.length).toBeGreaterThan(5); // it really linted the wizard's files
    const errors = results.flatMap((f) => f.messages.map((m) => `${f.filePath}:${m.line} ${m.ruleId}: ${m.message}`));
    expect(errors).toEqual([]);
    expect(r.exitCode).toBe(0);
  }, 120_000);
});
