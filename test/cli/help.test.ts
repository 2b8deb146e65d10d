import { describe, expect, it } from "vitest";
import { cli } from "../helpers.js";

const COMMANDS = [
  "wizard",
  "digest",
  "ssot-drift",
  "diagnose",
  "verify",
  "migrate",
  "export-legacy",
  "verify-backup",
  "import-legacy",
  "cutover",
  "rehearse",
  "sidecar",
  "telemetry-check",
  "news-check",
  "drill",
  "gate",
  "ledger",
  "sample",
];

describe("--help", () => {
  it("every command's --help ends with an example that names the command", async () => {
    const res = await Promise.all(COMMANDS.map((c) => cli([c, "--help"])));
    for (const [i, r] of res.entries()) {
      const c = COMMANDS[i]!;
      expect(r.exitCode, c).toBe(0);
      expect(r.stdout, c).toMatch(new RegExp(`\\nExamples?:\\n  vox-cutover ${c}\\b`));
    }
  });

  it("the program's --help has examples too", async () => {
    const r = await cli(["--help"]);
    expect(r.stdout).toMatch(/\nExamples:\n  vox-cutover /);
  });
});
