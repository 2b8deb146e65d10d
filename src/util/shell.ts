/** The one shell-quoting rule for every command the tool prints: a word `sh` reads back as the same string. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
