/**
 * Does the operator's vox (on PATH) agree with the bundled baseline? The wizard asks once when it
 * opens and offers the operator's baseline as the target when they differ.
 */
import { loadBaselineContext } from "../db/diagnose.js";
import { compareFacts, isFailing } from "../schema/facts.js";
import { baselineSql } from "../schema/manifest.js";
import { factsOfSql, TARGET_ENV, templateFromVox, templateTarget, voxOnPath } from "../schema/target.js";

export type VoxComparison = { version: number; voxVersion: string | null; agrees: boolean; differences: number; bundledVersion: number; path: string } | { error: string } | null;

/** null: no vox on PATH. Otherwise its baseline compared with the bundled one, table by table. */
export async function compareOperatorsVox(): Promise<VoxComparison> {
  if (!(await voxOnPath())) return null;
  let made: { path: string; voxVersion: string | null };
  try {
    made = await templateFromVox();
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  const saved = process.env[TARGET_ENV];
  delete process.env[TARGET_ENV];
  let bundled: ReturnType<typeof loadBaselineContext>;
  try {
    bundled = loadBaselineContext();
  } finally {
    if (saved) process.env[TARGET_ENV] = saved;
  }
  const t = templateTarget(made.path, { kind: "vox", path: made.path, label: "the operator's vox", voxVersion: made.voxVersion });
  const c = compareFacts(factsOfSql(baselineSql(t.manifest.fragments)), bundled.facts);
  const differences = c.diffs.filter(isFailing).length + c.missingFts.length + c.extraTables.length + c.diffs.filter((x) => x.extraColumns.length).length;
  return {
    version: t.manifest.baselineVersion,
    voxVersion: made.voxVersion,
    agrees: differences === 0 && t.manifest.baselineVersion === bundled.manifest.baselineVersion,
    differences,
    bundledVersion: bundled.manifest.baselineVersion,
    path: made.path,
  };
}
