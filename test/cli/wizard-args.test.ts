/**
 * main.ts starts the wizard without the program (commander and every command's options: ~50 ms of the
 * first frame) only for the command lines that can only mean it, with its plain options, in a terminal
 * (src/cli/wizard-args.ts); every other command line goes to commander as before.
 */
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { optionsOpenWizard, plainWizardArgs } from "../../src/cli/wizard-args.js";
import { cli, tmp } from "../helpers.js";

describe("the command lines that start the wizard without the program", () => {
  it("nothing, `wizard`, `--db PATH` and `--rehearse` (each once, either order, with or without `wizard`), in a terminal", () => {
    expect(plainWizardArgs([], true)).toEqual({});
    expect(plainWizardArgs(["wizard"], true)).toEqual({});
    expect(plainWizardArgs(["wizard", "--db", "./vox.db"], true)).toEqual({ db: "./vox.db" });
    expect(plainWizardArgs(["--db", "/a b/vox.db", "--rehearse"], true)).toEqual({ db: "/a b/vox.db", rehearse: true });
    expect(plainWizardArgs(["wizard", "--rehearse", "--db", "libsql://x.turso.io"], true)).toEqual({ rehearse: true, db: "libsql://x.turso.io" });
  });

  it("anything else goes to commander: no terminal, another command, another spelling or option, an option twice or without its value", () => {
    for (const argv of [
      ["cutover", "--db", "x"],
      ["wizard", "--help"],
      ["--help"],
      ["--version"],
      ["--db=x"],
      ["wizard", "--db"],
      ["--db", "-x"],
      ["--db", "a", "--db", "b"],
      ["--rehearse", "--rehearse"],
      ["wizard", "--target-schema", "vox"],
      ["wizard", "wizard"],
      ["--db", "x", "wizard"],
      ["-h"],
    ])
      expect(plainWizardArgs(argv, true), argv.join(" ")).toBeNull();
    expect(plainWizardArgs([], false)).toBeNull();
    expect(plainWizardArgs(["wizard", "--db", "x"], false)).toBeNull();
  });

  it("options without a command are the wizard's (program.ts reads them as `wizard …`), in either spelling; without a terminal the wizard refuses (2), nothing made", async () => {
    for (const argv of [["--db", "x"], ["--db=x"], ["--rehearse"], ["--rehearse", "--db", "x"]]) expect(optionsOpenWizard(argv), argv.join(" ")).toBe(true);
    for (const argv of [[], ["wizard"], ["cutover", "--db", "x"], ["--json"], ["--help"]]) expect(optionsOpenWizard(argv), argv.join(" ")).toBe(false);
    const db = join(tmp(), "vox.db");
    for (const argv of [["--db", db], [`--db=${db}`]]) {
      const r = await cli(argv);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toContain("usage error: the wizard needs an interactive terminal");
      expect(existsSync(db)).toBe(false);
    }
  });
});
