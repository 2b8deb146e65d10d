/** The one number format of every screen and report: `34,662` (en-US grouping), bigints exact. */
export function formatCount(n: number | bigint): string {
  return typeof n === "bigint" ? n.toLocaleString("en-US") : Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: 1 }) : String(n);
}

/** `1 table`, `176 tables`: a count with its noun. */
export function plural(n: number | bigint, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${Number(n) === 1 ? one : many}`;
}
