/**
 * schema/derived.json (src/util/derived.ts): what every process would compute from the bundled
 * baseline at start, computed once. It must be exactly what a fresh derivation gives (so schema/ and
 * contracts/ stay the single source of truth), and it may only answer for the very text it came from.
 */
import { describe, expect, it } from "vitest";
import { appendFileSync, cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tmp } from "../helpers.js";
import { derivedText } from "../../src/schema/derive.js";
import { derivedFor, derivedPath } from "../../src/util/derived.js";
import { baselineSql, keccakDigestHex, loadManifest } from "../../src/schema/manifest.js";
import { loadPolicy } from "../../src/schema/contract.js";
import { loadBaselineContext } from "../../src/diagnose/diagnose.js";
import { loadYamlFile } from "../../src/util/yaml.js";
import type { DerivedBaseline } from "../../src/schema/derive.js";
import { compareFacts, structureFingerprint } from "../../src/schema/compare.js";
import { factsOfSql } from "../../src/schema/target.js";

/** A copy of the package's schema/ and contracts/ to edit (VOX_CUTOVER_ROOT points at it); removed by the helpers. */
function contentCopy(): string {
  const d = tmp("vox-derived-");
  cpSync(join(ROOT, "schema"), join(d, "schema"), { recursive: true });
  cpSync(join(ROOT, "contracts"), join(d, "contracts"), { recursive: true });
  return d;
}

function withRoot<T>(root: string, f: () => T): T {
  const before = process.env.VOX_CUTOVER_ROOT;
  process.env.VOX_CUTOVER_ROOT = root;
  try {
    return f();
  } finally {
    if (before === undefined) delete process.env.VOX_CUTOVER_ROOT;
    else process.env.VOX_CUTOVER_ROOT = before;
  }
}

describe("schema/derived.json", () => {
  it("is byte for byte what deriving from schema/ and contracts/ gives now (run `npm run schema:derive` after editing them)", () => {
    expect(derivedText(ROOT) === readFileSync(derivedPath(ROOT), "utf8")).toBe(true);
  });

  it("answers for the bundled baseline SQL with the contract's digest, and for no other text", () => {
    const sql = baselineSql(loadManifest().fragments);
    const known = derivedFor<DerivedBaseline>("baseline", sql);
    expect(known?.digest).toBe(loadPolicy().digestHex); // the contract's own digest, written independently
    expect(known?.digest).toBe(keccakDigestHex(sql));
    expect(derivedFor("baseline", sql + " ")).toBeUndefined();
    expect(derivedFor("baseline", sql.replace("CREATE TABLE", "CREATE  TABLE"))).toBeUndefined();
  });

  it("an edited fragment is derived afresh: its new table is in the facts and the catalog, and the digest is the edited SQL's", () => {
    const root = contentCopy();
    appendFileSync(join(root, "schema", "domains", "01_foundation.sql"), "\nCREATE TABLE IF NOT EXISTS derived_probe (id INTEGER PRIMARY KEY, note TEXT);\n");
    const bundled = loadBaselineContext();
    const edited = withRoot(root, () => loadBaselineContext());
    expect(edited.sql).toContain("derived_probe");
    expect(edited.digest).toBe(keccakDigestHex(edited.sql));
    expect(edited.digest).not.toBe(bundled.digest);
    expect(Object.keys(edited.facts.tables)).toContain("derived_probe");
    expect(Object.keys(bundled.facts.tables)).not.toContain("derived_probe");
    expect(edited.catalog.map((t) => t.name)).toContain("derived_probe");
    expect(edited.catalog.length).toBe(bundled.catalog.length + 1);
  });

  it("the target's structure fingerprint a comparison reports is the derived one, and it is the fingerprint of facts read from the SQL now", () => {
    const ctx = loadBaselineContext();
    const known = derivedFor<DerivedBaseline>("baseline", ctx.sql)!;
    const fresh = structureFingerprint(factsOfSql(ctx.sql));
    expect(known.fingerprint).toBe(fresh);
    expect(compareFacts(factsOfSql(ctx.sql), ctx.facts).targetFingerprint).toBe(fresh);
    // An edited baseline is fingerprinted afresh (its facts are not the derived ones).
    const root = contentCopy();
    appendFileSync(join(root, "schema", "domains", "01_foundation.sql"), "\nCREATE TABLE IF NOT EXISTS derived_probe (id INTEGER PRIMARY KEY);\n");
    const edited = withRoot(root, () => loadBaselineContext());
    const c = compareFacts(ctx.facts, edited.facts);
    expect(c.targetFingerprint).toBe(structureFingerprint(factsOfSql(edited.sql)));
    expect(c.targetFingerprint).not.toBe(fresh);
  });

  it("a contract's parse: the bundled text gives a fresh copy each time; an edited text is parsed (and a malformed one refused)", () => {
    const policy = join(ROOT, "contracts", "db", "baseline-version-policy.yaml");
    const a = loadYamlFile(policy) as { baseline_history: number[] };
    a.baseline_history.push(999);
    expect((loadYamlFile(policy) as { baseline_history: number[] }).baseline_history).not.toContain(999);
    const root = contentCopy();
    const copy = join(root, "contracts", "db", "baseline-version-policy.yaml");
    writeFileSync(copy, readFileSync(copy, "utf8").replace(/baseline_history: \[[^\]]*\]/, "baseline_history: [7, 8]"));
    expect((loadYamlFile(copy) as { baseline_history: number[] }).baseline_history).toEqual([7, 8]);
    writeFileSync(copy, "repository_baseline_integer: [\n");
    expect(() => loadYamlFile(copy)).toThrow(/not valid YAML at line/);
  });
});
