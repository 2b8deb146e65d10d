import { join } from "node:path";
import { contentRoot } from "../util/paths.js";
import { contractFieldError, loadYamlFile } from "../util/yaml.js";

export interface BaselinePolicy {
  path: string;
  baselineInteger: number;
  digestHex: string;
  history: number[];
  digestSource: string;
}

export function policyPath(root = contentRoot()): string {
  return join(root, "contracts", "db", "baseline-version-policy.yaml");
}

export function loadPolicy(root = contentRoot()): BaselinePolicy {
  const path = policyPath(root);
  const raw = loadYamlFile(path) as Record<string, unknown> | null;
  if (!raw || typeof raw !== "object") contractFieldError(path, "repository_baseline_integer", "a mapping");
  const bi = raw.repository_baseline_integer;
  if (typeof bi !== "number" || !Number.isInteger(bi)) contractFieldError(path, "repository_baseline_integer", "an integer");
  const dh = raw.repository_baseline_digest_hex;
  if (typeof dh !== "string" || !/^0x[0-9a-f]{64}$/.test(dh)) {
    contractFieldError(path, "repository_baseline_digest_hex", "0x followed by 64 lowercase hex digits");
  }
  const hist = raw.baseline_history ?? [];
  if (!Array.isArray(hist) || !hist.every((h) => typeof h === "number" && Number.isInteger(h))) {
    contractFieldError(path, "baseline_history", "a list of integers");
  }
  return {
    path,
    baselineInteger: bi as number,
    digestHex: dh as string,
    history: hist as number[],
    digestSource: String(raw.digest_source ?? ""),
  };
}
