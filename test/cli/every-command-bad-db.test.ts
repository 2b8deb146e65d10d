import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, snapshotDir, tmp } from "../helpers.js";

/** Every command that opens a database, given a corrupt file, a directory, or nothing at all. */
const COMMANDS: [string, string[]][] = [
  ["diagnose", []],
  ["verify", []],
  ["migrate", ["--apply"]],
  ["export-legacy", ["OUT"]],
  ["cutover", ["--apply"]],
  ["rehearse", []],
  ["sidecar", ["--apply", "--merge"]],
  ["news-check", ["--apply"]],
  ["drill", ["--apply"]],
  ["ledger", []],
];

describe("bad databases: a clear one-paragraph error, the contract's exit code, nothing modified or created", () => {
  it.each(COMMANDS)("%s", async (cmd, extra) => {
    const dir = tmp();
    writeFileSync(join(dir, "junk.db"), "this is not a database at all\n".repeat(100));
    const args = (db: string) => [
      cmd,
      ...extra.map((a) => (a === "OUT" ? join(dir, "out.jsonl") : a)),
      "--db",
      db,
      ...(cmd === "export-legacy" ? ["--force"] : []),
    ];
    const before = snapshotDir(dir);
    for (const db of [join(dir, "junk.db"), dir]) {
      const r = await cli(args(db));
      expect(r.exitCode, `${cmd} on ${db}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/not-a-database/);
      expect(r.stderr).toMatch(/untouched/);
      expect(r.stderr).not.toMatch(/\n\s+at .*:\d+/);
      expect(snapshotDir(dir)).toEqual(before);
    }
    const missing = await cli(args(join(dir, "missing.db")));
    expect(missing.stderr).not.toMatch(/\n\s+at .*:\d+/);
    if (cmd === "diagnose")
      expect(missing.exitCode).toBe(0); // chain "missing" is a diagnosis
    else if (cmd === "migrate")
      expect(missing.exitCode).toBe(0); // --apply creates it: its job
    else if (cmd === "cutover")
      expect(missing.exitCode).toBe(0); // nothing to cut over, says so
    else if (cmd === "sidecar")
      expect(missing.exitCode).toBe(1); // no database to merge into: a clear error, nothing written
    else expect([1, 3]).toContain(missing.exitCode);
    if (!["migrate"].includes(cmd)) expect(snapshotDir(dir)).toEqual(before);
  });
});
