import { join } from "node:path";
import { contentRoot } from "../util/paths.js";
import { contractFieldError, loadYamlFile } from "../util/yaml.js";

export interface ImporterRule {
  from: string;
  into: string;
  why: string;
  /** source column → target column; columns not listed are unknown (quarantined copy). */
  columns: Record<string, string>;
}

function importersPath(root = contentRoot()): string {
  return join(root, "contracts", "db", "legacy-importers.yaml");
}

export function loadImporters(root = contentRoot()): Map<string, ImporterRule> {
  const path = importersPath(root);
  const raw = loadYamlFile(path) as Record<string, unknown> | null;
  const tables = (raw?.tables ?? {}) as Record<string, unknown>;
  if (typeof tables !== "object" || Array.isArray(tables)) contractFieldError(path, "tables", "a mapping of legacy table → {into, columns}");
  const out = new Map<string, ImporterRule>();
  for (const [from, v] of Object.entries(tables)) {
    const r = v as Record<string, unknown>;
    if (!r || typeof r.into !== "string") contractFieldError(path, `tables.${from}.into`, "a table name");
    const cols = (r.columns ?? {}) as Record<string, unknown>;
    if (typeof cols !== "object" || Object.values(cols).some((c) => typeof c !== "string"))
      contractFieldError(path, `tables.${from}.columns`, "a mapping of column → column");
    out.set(from, { from, into: r.into as string, why: String(r.why ?? ""), columns: cols as Record<string, string> });
  }
  return out;
}
