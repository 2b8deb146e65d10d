/** The one number format of every screen and report: `34,662` (en-US grouping), bigints exact. */
export function formatCount(n: number | bigint): string {
  // Whole numbers grouped by hand: toLocaleString builds a number format per call (ICU), and
  // progress lines format counts many times a second. The same text as en-US.
  if (typeof n === "bigint" || (Number.isSafeInteger(n) && !Object.is(n, -0))) {
    const s = String(n);
    const digits = s[0] === "-" ? s.slice(1) : s;
    return (s[0] === "-" ? "-" : "") + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  return Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: 1 }) : String(n);
}

/** `1 table`, `176 tables`: a count with its noun. */
export function plural(n: number | bigint, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${Number(n) === 1 ? one : many}`;
}
