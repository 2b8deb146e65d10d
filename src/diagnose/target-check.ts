/**
 * Does the operator's vox (on PATH) agree with the bundled baseline? The wizard asks once when it
 * opens and offers the operator's baseline as the target when they differ.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadBaselineContext } from "./diagnose.js";
import { compareFacts, failingCount } from "../schema/compare.js";
import { baselineSql } from "../schema/manifest.js";
import { currentTarget, factsOfSql, templateFromVox, templateTarget, voxOnPath } from "../schema/target.js";

export type VoxComparison =
  { version: number; voxVersion: string | null; agrees: boolean; differences: number; bundledVersion: number; path: string } | { error: string } | null;

/**
 * null: no vox on PATH. Otherwise its baseline compared with the bundled one, table by table. The
 * template is made inside `parent` (the caller's scratch folder, kept for a later run against it);
 * without a parent it is removed as soon as it was compared.
 */
export async function compareOperatorsVox(parent?: string): Promise<VoxComparison> {
  if (!(await voxOnPath())) return null;
  const own = parent ? null : mkdtempSync(join(tmpdir(), "vox-cutover-compare-"));
  try {
    return await compareIn(parent ?? own!);
  } finally {
    if (own) rmSync(own, { recursive: true, force: true });
  }
}

async function compareIn(parent: string): Promise<VoxComparison> {
  let made: { path: string; voxVersion: string | null };
  try {
    made = await templateFromVox({ parent });
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  const bundled = loadBaselineContext(currentTarget(null));
  const t = templateTarget(made.path, { kind: "vox", path: made.path, label: "the operator's vox", voxVersion: made.voxVersion });
  const c = compareFacts(factsOfSql(baselineSql(t.manifest.fragments)), bundled.facts);
  const differences = failingCount(c) + c.extraTables.length + c.diffs.filter((x) => x.extraColumns.length).length;
  return {
    version: t.manifest.baselineVersion,
    voxVersion: made.voxVersion,
    agrees: differences === 0 && t.manifest.baselineVersion === bundled.manifest.baselineVersion,
    differences,
    bundledVersion: bundled.manifest.baselineVersion,
    path: made.path,
  };
}
