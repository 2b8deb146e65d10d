import { join } from "node:path";
import { contentRoot } from "../util/paths.js";
import { contractFieldError, loadYamlFile } from "../util/yaml.js";
import { firstIssue, PolicySchema } from "../validate/schemas.js";

export interface BaselinePolicy {
  path: string;
  baselineInteger: number;
  digestHex: string;
  history: number[];
  digestSource: string;
}

const POLICY_EXPECT: Record<string, string> = {
  repository_baseline_integer: "an integer",
  repository_baseline_digest_hex: "0x followed by 64 lowercase hex digits",
  baseline_history: "a list of integers",
  digest_source: "a string",
};

function policyPath(root = contentRoot()): string {
  return join(root, "contracts", "db", "baseline-version-policy.yaml");
}

export function loadPolicy(root = contentRoot()): BaselinePolicy {
  const path = policyPath(root);
  const raw = loadYamlFile(path) as Record<string, unknown> | null;
  if (!raw || typeof raw !== "object") contractFieldError(path, "repository_baseline_integer", "a mapping");
  const issue = firstIssue(PolicySchema, raw);
  if (issue) contractFieldError(path, issue.field, POLICY_EXPECT[issue.top] ?? issue.message);
  const ok = raw as { repository_baseline_integer: number; repository_baseline_digest_hex: string; baseline_history?: number[]; digest_source?: string };
  return {
    path,
    baselineInteger: ok.repository_baseline_integer,
    digestHex: ok.repository_baseline_digest_hex,
    history: ok.baseline_history ?? [],
    digestSource: ok.digest_source ?? "",
  };
}
