import { readFileSync } from "node:fs";
import { join } from "node:path";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { failed } from "../errors.js";
import { contentRoot } from "../util/paths.js";
import { contractFieldError, loadYamlFile } from "../util/yaml.js";

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

export function manifestPath(root = contentRoot()): string {
  return join(root, "schema", "manifest.yaml");
}

export function loadManifest(root = contentRoot()): Manifest {
  const path = manifestPath(root);
  const raw = loadYamlFile(path) as Record<string, unknown> | null;
  if (!raw || typeof raw !== "object") contractFieldError(path, "baseline_version", "a mapping");
  const bv = raw.baseline_version;
  if (typeof bv !== "number" || !Number.isInteger(bv) || bv < 1) contractFieldError(path, "baseline_version", "a positive integer");
  if (!Array.isArray(raw.fragments) || raw.fragments.length === 0) contractFieldError(path, "fragments", "a list of {domain, file}");
  const fragments = (raw.fragments as unknown[]).map((f, i) => {
    const fr = f as Record<string, unknown>;
    if (!fr || typeof fr.file !== "string" || typeof fr.domain !== "string") {
      contractFieldError(path, `fragments[${i}]`, "{domain, file}");
    }
    const file = join(root, "schema", fr.file as string);
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
    return { domain: fr.domain as string, file: fr.file as string, sql };
  });
  const foldSteps = ((raw.fold_steps as unknown[] | undefined) ?? []).map((s, i) => {
    const st = s as Record<string, unknown>;
    if (!st || typeof st.id !== "string" || typeof st.below !== "number" || typeof st.sql !== "string") {
      contractFieldError(path, `fold_steps[${i}]`, "{id, below, sql}");
    }
    return { id: st.id as string, below: st.below as number, description: String(st.description ?? ""), sql: st.sql as string };
  });
  return { path, baselineVersion: bv as number, fragments, foldSteps };
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

export function baselineDigest(manifest: Manifest): string {
  return keccakDigestHex(baselineSql(manifest.fragments));
}
