/**
 * verify-backup --db hashes the backup's rows without parsing them and proves them through the
 * database's canonical hashes; a backup edited by hand with every hash recomputed must still be
 * refused at its first bad line, as the full row-by-row check names it (tamper-backup.py is an
 * independent editor: Python's json and hashlib).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { cli, tmp } from "../helpers.js";
import { makeTortureDb } from "../fixtures/torture.js";

let dir: string;
const p = (n: string) => join(dir, n);
const TAMPER = join(import.meta.dirname, "..", "guard", "tamper-backup.py");

beforeAll(async () => {
  dir = tmp();
  makeTortureDb(p("src.db"));
  const r = await cli(["export-legacy", p("good.jsonl"), "--db", p("src.db")]);
  if (r.exitCode !== 0) throw new Error(r.stderr);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("verify-backup --db: rows proven by the database's hashes, damage still named at its line", () => {
  it("passes a good backup", async () => {
    const r = await cli(["verify-backup", p("good.jsonl"), "--db", p("src.db"), "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.ok).toBe(true);
  });

  it.each([
    ["a non-canonical spelling, every hash recomputed", ["plain"], /at line \d+ \(table plain\): the row is not in canonical form/],
    ["two rows swapped, every hash recomputed", ["ipk", "swap"], /at line \d+ \(table ipk\): rows are not in ascending rowid order/],
  ])("refuses %s (exit 3)", async (_name, args, message) => {
    const f = p(`t-${args.join("-")}.jsonl`);
    copyFileSync(p("good.jsonl"), f);
    await execa("python3", [TAMPER, f, ...args]);
    // Internally consistent: a read without the database's proof would not see it by its hashes.
    const v = await cli(["verify-backup", f, "--db", p("src.db"), "--json"]);
    expect(v.exitCode, v.stderr).toBe(3);
    expect(v.stderr).toMatch(message);
  });
});
