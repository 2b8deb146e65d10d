/** Schemas at the edges: contract YAML and the wizard's worker messages are checked, never cast. */
import { afterAll, describe, expect, it } from "vitest";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadPolicy } from "../../src/schema/contract.js";
import { loadManifest } from "../../src/schema/manifest.js";
import { check, FromWorkerSchema, problem, ToWorkerSchema } from "../../src/validate/schemas.js";
import { ROOT, tmp } from "../helpers.js";

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function copy(): string {
  const r = tmp("vox-test-edges-");
  roots.push(r);
  cpSync(join(ROOT, "schema"), join(r, "schema"), { recursive: true });
  cpSync(join(ROOT, "contracts"), join(r, "contracts"), { recursive: true });
  return r;
}

describe("contract files", () => {
  it("the bundled policy and manifest pass", () => {
    expect(loadPolicy().baselineInteger).toBe(66);
    expect(loadManifest().fragments.length).toBeGreaterThan(20);
  });

  it.each([
    ['repository_baseline_digest_hex: "0xabc"', /repository_baseline_digest_hex.*0x followed by 64 lowercase hex digits/],
    ["repository_baseline_integer: 66.5", /repository_baseline_integer.*an integer/],
    ["baseline_history: [1, two]", /baseline_history\[1\].*a list of integers/],
  ])("a policy with %s names the field and what it should be", (line, re) => {
    const r = copy();
    const f = join(r, "contracts/db/baseline-version-policy.yaml");
    const key = line.split(":")[0]!;
    writeFileSync(f, readFileSync(f, "utf8").replace(new RegExp(`^${key}:.*$`, "m"), line));
    expect(() => loadPolicy(r)).toThrow(re);
  });

  it("a manifest without fragments, or a fragment without its file, names the field", () => {
    const r = copy();
    const f = join(r, "schema/manifest.yaml");
    const text = readFileSync(f, "utf8");
    writeFileSync(f, text.replace(/fragments:\n(  - .*\n)+/, "fragments: []\n"));
    expect(() => loadManifest(r)).toThrow(/fragments/);
    writeFileSync(f, text.replace("{ domain: foundation, file: domains/01_foundation.sql }", "{ domain: foundation }"));
    expect(() => loadManifest(r)).toThrow(/fragments\[0\]\.file/);
  });
});

describe("worker messages", () => {
  it("accepts what the wizard sends and refuses anything else, saying what is wrong", () => {
    expect(check(ToWorkerSchema, { type: "run", id: 1, job: { db: "/x/vox.db", apply: false, command: "wizard" } })).not.toBeNull();
    expect(check(ToWorkerSchema, { type: "use-target", id: 2, kind: "vox" })).not.toBeNull();
    expect(check(ToWorkerSchema, { type: "run", id: 1, job: { db: "/x/vox.db", apply: "yes", command: "wizard" } })).toBeNull();
    expect(problem(ToWorkerSchema, { type: "run", id: 1, job: { db: "/x/vox.db", apply: "yes", command: "wizard" } })).toMatch(/job\.apply/);
    expect(check(ToWorkerSchema, { type: "rm -rf", id: 1 })).toBeNull();
    expect(check(FromWorkerSchema, { type: "event", id: 3, event: { type: "step-start", id: "export", title: "Export" } })).not.toBeNull();
    expect(check(FromWorkerSchema, { type: "request", id: 3, requestId: 1, request: { kind: "format-disk" } })).toBeNull();
  });
});
