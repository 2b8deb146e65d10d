import { RawText, type SqlValue } from "../db/value.js";

export type Affinity = "INTEGER" | "TEXT" | "BLOB" | "REAL" | "NUMERIC";

/** SQLite's rules for a declared type's affinity (datatype3.html §3.1), in order. */
export function affinityOf(declared: string): Affinity {
  const t = declared.toUpperCase();
  if (t.includes("INT")) return "INTEGER";
  if (t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT")) return "TEXT";
  if (t === "" || t.includes("BLOB")) return "BLOB";
  if (t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB")) return "REAL";
  return "NUMERIC";
}

/** A target column's affinity: in a STRICT table, ANY keeps every value as it is (stricttables.html §3), where `affinityOf` would say NUMERIC. */
export function columnAffinity(declared: string, strict: boolean): Affinity {
  return strict && declared.trim().toUpperCase() === "ANY" ? "BLOB" : affinityOf(declared);
}

const NUMERIC_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/**
 * Whether storing `v` in a column of this affinity would change its storage class. Conservative:
 * any text that looks numeric counts, so a row is quarantined rather than silently converted.
 */
export function wouldConvert(v: SqlValue, aff: Affinity): boolean {
  // Text that is not UTF-8 stays TEXT under any affinity (it cannot look like a number: digits are ASCII).
  if (v === null || aff === "BLOB" || v instanceof Uint8Array || v instanceof RawText) return false;
  switch (aff) {
    case "TEXT":
      return typeof v !== "string";
    case "INTEGER":
    case "NUMERIC":
      if (typeof v === "number") return Number.isInteger(v) && Math.abs(v) <= 9.223372036854776e18;
      if (typeof v === "string") return NUMERIC_TEXT.test(v);
      return false;
    case "REAL":
      if (typeof v === "bigint") return true;
      if (typeof v === "string") return NUMERIC_TEXT.test(v);
      return false;
  }
}
