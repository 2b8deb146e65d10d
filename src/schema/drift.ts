import { baselineDigest, loadManifest, type Manifest } from "./manifest.js";
import { loadPolicy, type BaselinePolicy } from "./contract.js";

interface DriftReport {
  ok: boolean;
  manifest: { path: string; baselineVersion: number; fragments: number };
  contract: { path: string; baselineInteger: number; digestHex: string; history: number[] };
  computedDigest: string;
  problems: string[];
  fix: string[];
}

/** Contract vs manifest vs baseline SQL: integer and digest parity. */
export function checkDrift(manifest: Manifest = loadManifest(), policy: BaselinePolicy = loadPolicy()): DriftReport {
  const computed = baselineDigest(manifest);
  const problems: string[] = [];
  const fix: string[] = [];
  if (manifest.baselineVersion !== policy.baselineInteger) {
    problems.push(
      `baseline integer differs: manifest baseline_version = ${manifest.baselineVersion}, contract repository_baseline_integer = ${policy.baselineInteger}`,
    );
    fix.push(`set repository_baseline_integer: ${manifest.baselineVersion} in ${policy.path} (or correct the manifest)`);
  }
  if (computed !== policy.digestHex) {
    problems.push(`baseline digest differs: computed from the fragments ${computed}, contract repository_baseline_digest_hex ${policy.digestHex}`);
    fix.push(`if the fragment change is intended, paste into ${policy.path}:\n  repository_baseline_digest_hex: "${computed}"`);
  }
  if (policy.history.includes(manifest.baselineVersion)) {
    problems.push(`baseline_history lists the current baseline ${manifest.baselineVersion}; history holds earlier baselines only`);
    fix.push(`remove ${manifest.baselineVersion} from baseline_history in ${policy.path}`);
  }
  return {
    ok: problems.length === 0,
    manifest: { path: manifest.path, baselineVersion: manifest.baselineVersion, fragments: manifest.fragments.length },
    contract: { path: policy.path, baselineInteger: policy.baselineInteger, digestHex: policy.digestHex, history: policy.history },
    computedDigest: computed,
    problems,
    fix,
  };
}
