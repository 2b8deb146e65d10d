/**
 * A test hook's whole number from the environment: the value when it is a whole number of at least
 * `min`, else `dflt` (unset, empty or anything else reads as not given).
 */
export function envInteger(name: string, dflt: number, min = 0): number {
  const raw = process.env[name];
  const v = raw === undefined || raw.trim() === "" ? NaN : Number(raw);
  return Number.isInteger(v) && v >= min ? v : dflt;
}
