import { readFileSync } from "node:fs";
import { join } from "node:path";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { failed } from "../errors.js";
import { contentRoot } from "../util/paths.js";
import { derivedFor } from "../util/derived.js";
import { contractFieldError, loadYamlFile } from "../util/yaml.js";
import { firstIssue, ManifestSchema } from "../validate/schemas.js";
import type * as v from "valibot";

export interface Fragment {
  domain: string;
  file: string;
  sql: string;
}

export interface FoldStep {
  id: string;
  below: number;
  description: string;
  sql: string;
}

export interface Manifest {
  path: string;
  baselineVersion: number;
  fragments: Fragment[];
  foldSteps: FoldStep[];
}

const MANIFEST_EXPECT: Record<string, string> = {
  baseline_version: "a positive integer",
  fragments: "a list of {domain, file}",
  fold_steps: "a list of {id, below, sql}",
};

function manifestPath(root = contentRoot()): string {
  return join(root, "schema", "manifest.yaml");
}

export function loadManifest(root = contentRoot()): Manifest {
  const path = manifestPath(root);
  const raw = loadYamlFile(path) as Record<string, unknown> | null;
  if (!raw || typeof raw !== "object") contractFieldError(path, "baseline_version", "a mapping");
  const issue = firstIssue(ManifestSchema, raw);
  if (issue) contractFieldError(path, issue.field, MANIFEST_EXPECT[issue.top] ?? issue.message);
  const checked = raw as unknown as v.InferOutput<typeof ManifestSchema>;
  const fragments = checked.fragments.map((fr) => {
    const file = join(root, "schema", fr.file);
    let sql: string;
    try {
      sql = readFileSync(file, "utf8");
    } catch (e) {
      throw failed({
        what: `The schema fragment ${file} listed in ${path} cannot be read (${(e as NodeJS.ErrnoException).code}).`,
        untouched: "No database was opened or changed.",
        next: "Restore the fragment from the repository, or remove it from the manifest together with a contract update.",
      });
    }
    return { domain: fr.domain, file: fr.file, sql };
  });
  const foldSteps = (checked.fold_steps ?? []).map((st) => ({ id: st.id, below: st.below, description: st.description ?? "", sql: st.sql }));
  return { path, baselineVersion: checked.baseline_version, fragments, foldSteps };
}

/** Baseline SQL exactly as the contract defines it. */
export function baselineSql(fragments: readonly { sql: string }[]): string {
  const parts = fragments.map((f) => f.sql.trim()).filter((s) => s.length > 0);
  return parts.join("\n\n") + "\n";
}

/** `0x` + lowercase hex Keccak-256 (original padding, as Ethereum) of the UTF-8 bytes. */
export function keccakDigestHex(text: string): string {
  return "0x" + bytesToHex(keccak_256(new TextEncoder().encode(text)));
}

/**
 * The baseline SQL's digest: Keccak-256 of its text, taken from schema/derived.json when that holds
 * the digest of exactly this text (keyed by its SHA-256; test/schema/derived.test.ts holds it to
 * the Keccak computed here), else computed. The first Keccak of a process costs ~0.05-0.1 s (the
 * hash warming up), every cutover's drift check among them.
 */
export function baselineDigest(manifest: Manifest): string {
  const sql = baselineSql(manifest.fragments);
  return derivedFor<{ digest: string }>("baseline", sql)?.digest ?? keccakDigestHex(sql);
}
