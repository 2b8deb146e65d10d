/**
 * schema_version rows in an import: which load and why the others are kept in legacy_quarantine.
 *
 * The target's `version` is an INTEGER PRIMARY KEY. A legacy file whose column had another type
 * may hold a version as TEXT ('66'): written into the target, SQLite's INTEGER affinity turns it
 * into the integer 66, the same row vox would have written. It "fits" when its text is exactly the
 * decimal form of the baseline or of a number in baseline_history ('66', not '066', ' 66' or '66.0')
 * and no INTEGER row of that number is in the file (that one wins: the TEXT row is then a duplicate,
 * kept in quarantine with a reason naming it). Everything else is quarantined as before.
 */
import type { SqlValue } from "../db/value.js";

type VersionDecision =
  /** Load the row with `version` set to this integer (a TEXT version converted as SQLite's affinity would). */
  { load: bigint; fromText: boolean } | { quarantine: string };

const KEPT = "kept here, not loaded";

export function versionDecision(v: SqlValue, baseline: bigint, history: ReadonlySet<bigint>): VersionDecision {
  const known = (n: bigint) => n === baseline || history.has(n);
  const what = (n: bigint) => (n === baseline ? `baseline ${n}` : `${n} of baseline_history`);
  if (typeof v === "bigint")
    return known(v) ? { load: v, fromText: false } : { quarantine: `legacy-schema-version: not the baseline nor in baseline_history; ${KEPT}` };
  if (typeof v === "string") {
    if (/^-?[1-9]\d{0,18}$|^0$/.test(v)) {
      const n = BigInt(v);
      if (known(n)) return { load: n, fromText: true };
    }
    const trimmed = v.trim();
    if (/^[+-]?\d+(\.0*)?$/.test(trimmed)) {
      const n = BigInt(trimmed.replace(/^\+/, "").replace(/\.0*$/, ""));
      if (known(n)) return { quarantine: `legacy-schema-version: the TEXT ${JSON.stringify(v)} names ${what(n)} but is not its exact number; ${KEPT}` };
    }
    return { quarantine: `legacy-schema-version: the TEXT ${JSON.stringify(v.slice(0, 40))} is not the baseline nor in baseline_history; ${KEPT}` };
  }
  return {
    quarantine: `legacy-schema-version: a ${v === null ? "NULL" : typeof v === "number" ? "REAL" : "BLOB"} version is not the baseline nor in baseline_history; ${KEPT}`,
  };
}

/** The reason a TEXT version that fits is not loaded: the file also holds the same number as an INTEGER. */
export function duplicateTextVersion(text: string, n: bigint, baseline: bigint): string {
  return `legacy-schema-version: the TEXT ${JSON.stringify(text)} is ${n === baseline ? `baseline ${n}` : `${n} of baseline_history`} stored as TEXT; the file also holds ${n} as an INTEGER (that row loaded); ${KEPT}`;
}
