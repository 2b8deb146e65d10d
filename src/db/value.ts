/** A SQLite value as the product carries it: the storage class is the JS type. */
export type SqlValue = null | bigint | number | string | Uint8Array;
export type Row = Record<string, SqlValue>;

/** Normalises what a driver hands back (ArrayBuffer blobs, JS ints from remote) into SqlValue. */
export function normalizeValue(v: unknown): SqlValue {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint" || typeof v === "string" || typeof v === "number") return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (v instanceof Uint8Array) return v;
  if (typeof v === "boolean") return v ? 1n : 0n;
  return String(v);
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
