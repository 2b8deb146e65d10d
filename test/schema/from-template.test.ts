/**
 * A vox baseline bump is a data change: `npm run schema:from-template -- FILE` regenerates the
 * fragments, manifest and policy from a vox template (a SQLite file made by vox, or a facts JSON).
 */
import { afterAll, describe, expect, it } from "vitest";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "libsql";
import { execa } from "execa";
import { factsToFragments } from "../../src/schema/ddl.js";
import { readFacts, type SchemaFacts } from "../../src/schema/facts.js";
import { compareFacts } from "../../src/schema/compare.js";
import { baselineSql, loadManifest } from "../../src/schema/manifest.js";
import { cli, ROOT, tmp } from "../helpers.js";

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A copy of the repository's schema/ and contracts/ to regenerate into. */
function repoCopy(): string {
  const root = tmp("vox-test-regen-");
  made.push(root);
  cpSync(join(ROOT, "schema"), join(root, "schema"), { recursive: true });
  cpSync(join(ROOT, "contracts"), join(root, "contracts"), { recursive: true });
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "vox-cutover" }));
  return root;
}

function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    try {
      out[f] = readFileSync(join(dir, f), "utf8");
    } catch {
      /* a folder */
    }
  }
  return out;
}

const GEN = join(ROOT, "dist", "src", "schema", "from-template.js");

describe("schema:from-template", () => {
  it("regenerating from vox's schema-66 facts reproduces the bundled fragments, manifest and policy byte for byte", async () => {
    const root = repoCopy();
    const r = await execa("node", [GEN, join(ROOT, "schema/vox-reference/schema-66.json")], { env: { ...process.env, VOX_CUTOVER_ROOT: root }, reject: false });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("baseline 66 → 66: 189 tables");
    expect(files(join(root, "schema"))).toEqual(files(join(ROOT, "schema")));
    expect(files(join(root, "contracts"))).toEqual(files(join(ROOT, "contracts")));
  });

  it("a newer vox's file (a table and a column more, row 67) becomes the baseline: policy 67, 66 joins the history, no drift, same structure", async () => {
    const root = repoCopy();
    const facts = JSON.parse(readFileSync(join(ROOT, "schema/vox-reference/schema-66.json"), "utf8")) as SchemaFacts;
    facts.tables.users!.columns.push({ name: "nickname", type: "TEXT", notnull: false, default: null, pk: 0 });
    facts.tables.release_notes = { columns: [{ name: "id", type: "INTEGER", notnull: false, default: null, pk: 1 }, { name: "body", type: "TEXT", notnull: true, default: "''", pk: 0 }], autoincrement: true };
    const dir = join(root, "vox67");
    mkdirSync(dir);
    const template = join(dir, "vox.db");
    const db = new Database(template);
    db.exec(factsToFragments(facts).flatMap((f) => f.statements).join("\n"));
    db.exec("INSERT INTO schema_version (version) VALUES (67)");
    db.close();
    const r = await execa("node", [GEN, template], { env: { ...process.env, VOX_CUTOVER_ROOT: root }, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("baseline 66 → 67: 190 tables");
    const policy = readFileSync(join(root, "contracts/db/baseline-version-policy.yaml"), "utf8");
    expect(policy).toContain("repository_baseline_integer: 67");
    expect(policy).toContain("baseline_history: [1, 33, 35, 37, 38, 40, 41, 42, 59, 60, 61, 62, 63, 64, 66]");
    // The new table lands in a fragment of its own; known tables keep theirs.
    expect(readdirSync(join(root, "schema/domains"))).toContain("23_added_in_67.sql");
    const drift = await cli(["ssot-drift", "--json"], { env: { VOX_CUTOVER_ROOT: root } });
    expect(drift.exitCode, drift.stderr).toBe(0);
    expect(drift.json.ok).toBe(true);
    // The regenerated baseline builds exactly the template's structure (and seed rows).
    const m = loadManifest(root);
    const built = new Database(":memory:");
    built.defaultSafeIntegers(true);
    built.exec(baselineSql(m.fragments));
    const got = readFacts(built, { seedRows: true });
    built.close();
    const t = new Database(template);
    t.defaultSafeIntegers(true);
    const want = readFacts(t, { seedRows: true });
    t.close();
    const c = compareFacts(got, want);
    expect(c.diffs).toEqual([]);
    expect(c.equal).toBe(true);
    expect(got.tables.developer_journey_steps!.seed_rows).toEqual(want.tables.developer_journey_steps!.seed_rows);
  });

  it("says how to use it when given nothing, and fails clearly on a file that is neither", async () => {
    const r = await execa("node", [GEN], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("usage: npm run schema:from-template -- FILE");
    const root = repoCopy();
    writeFileSync(join(root, "junk.txt"), "not a database");
    const r2 = await execa("node", [GEN, join(root, "junk.txt")], { env: { ...process.env, VOX_CUTOVER_ROOT: root }, reject: false });
    expect(r2.exitCode).toBe(1);
    expect(r2.stderr).toMatch(/schema:from-template: .*junk\.txt/);
    expect(files(join(root, "schema"))).toEqual(files(join(ROOT, "schema")));
  });
});
