/**
 * Chain classification: a pure function of the evidence, rules applied in the contract's order.
 */
export type Chain = "missing" | "empty" | "current" | "behind" | "ahead" | "legacy" | "not-a-database";

export interface ChainEvidence {
  exists: boolean;
  /** Set when the file cannot be read as SQLite. */
  notADatabase?: string;
  /** `absent`: no schema_version table; `other-shape`: not (version INTEGER PRIMARY KEY, applied_at). */
  schemaTable: "absent" | "ok" | "other-shape";
  /** Every `version` value as stored (BigInt for integers; anything else is an unknown row). */
  versions: unknown[];
  /** Every table and column of the baseline is in the file (decides `ahead` vs `legacy` above the baseline). */
  holdsBaseline?: boolean;
}

export interface Classification {
  chain: Chain;
  maxVersion: bigint | null;
  /** Rows that are neither the baseline nor in baseline_history. */
  unknownVersions: string[];
  /** One line: which rule decided. */
  rule: string;
}

export function classifyChain(ev: ChainEvidence, baseline: number, history: readonly number[]): Classification {
  if (!ev.exists) return { chain: "missing", maxVersion: null, unknownVersions: [], rule: "no file at the path" };
  if (ev.notADatabase !== undefined) {
    return { chain: "not-a-database", maxVersion: null, unknownVersions: [], rule: ev.notADatabase };
  }
  const ints = ev.versions.filter((v): v is bigint => typeof v === "bigint");
  const nonInts = ev.versions.filter((v) => typeof v !== "bigint").map(displayVersion);
  const maxVersion = ints.length ? ints.reduce((a, b) => (b > a ? b : a)) : null;
  if (ev.schemaTable === "other-shape") {
    return {
      chain: "legacy",
      maxVersion,
      unknownVersions: nonInts,
      rule: "schema_version has another shape than (version INTEGER PRIMARY KEY, applied_at TEXT)",
    };
  }
  if (ev.versions.length === 0) {
    return {
      chain: "empty",
      maxVersion: null,
      unknownVersions: [],
      rule: ev.schemaTable === "absent" ? "no schema_version table" : "schema_version has no rows",
    };
  }
  const B = BigInt(baseline);
  const hist = new Set(history.map((h) => BigInt(h)));
  const unknown = [...nonInts, ...ints.filter((v) => v !== B && !hist.has(v)).map(displayVersion)];
  if (nonInts.length > 0) {
    return { chain: "legacy", maxVersion, unknownVersions: unknown, rule: "schema_version holds non-integer versions" };
  }
  const m = maxVersion!;
  let seenMax = false;
  const others = ints.filter((v) => {
    if (!seenMax && v === m) {
      seenMax = true;
      return false;
    }
    return true;
  });
  if (m === B && others.every((v) => hist.has(v))) {
    return { chain: "current", maxVersion: m, unknownVersions: [], rule: "MAX(version) is the baseline; every other row is in baseline_history" };
  }
  if (m < B && ints.every((v) => hist.has(v))) {
    return { chain: "behind", maxVersion: m, unknownVersions: [], rule: "MAX(version) is below the baseline; every row is in baseline_history" };
  }
  if (m > B && others.every((v) => v === B || hist.has(v)) && ev.holdsBaseline === false) {
    return {
      chain: "legacy",
      maxVersion: m,
      unknownVersions: [displayVersion(m)],
      rule: "MAX(version) is above the baseline but the file lacks parts of the baseline",
    };
  }
  if (m > B && others.every((v) => v === B || hist.has(v))) {
    return {
      chain: "ahead",
      maxVersion: m,
      unknownVersions: [displayVersion(m)],
      rule: "MAX(version) is above the baseline; every other row is the baseline or in baseline_history",
    };
  }
  return {
    chain: "legacy",
    maxVersion: m,
    unknownVersions: unknown,
    rule: "some rows are neither the baseline nor in baseline_history",
  };
}

export function displayVersion(v: unknown): string {
  if (typeof v === "bigint" || typeof v === "number") return String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null) return "NULL";
  if (v instanceof Uint8Array) return `x'${Buffer.from(v).toString("hex")}'`;
  return String(v);
}

/** BigInt → number when safe, else a string: for JSON output. */
export function jsonInt(v: bigint | null): number | string | null {
  if (v === null) return null;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}
