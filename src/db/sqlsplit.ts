import { quotedEnd } from "./sqltokens.js";
/**
 * Splits SQL text into statements (each without its trailing `;`), honouring quotes, comments and
 * CREATE TRIGGER … BEGIN … END bodies.
 */
export function splitSql(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  let inTrigger = false;
  let lastWord = "";
  const flush = (end: number) => {
    const s = stripComments(sql.slice(start, end)).trim();
    if (s) out.push(s);
    start = end + 1;
    inTrigger = false;
    lastWord = "";
  };
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === "`" || c === "[") {
      i = quotedEnd(sql, i);
      lastWord = "";
      continue;
    }
    if (c === "-" && sql[i + 1] === "-") {
      while (i < n && sql[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < n && /[A-Za-z0-9_]/.test(sql[j]!)) j++;
      const word = sql.slice(i, j).toUpperCase();
      if (word === "TRIGGER" && /^\s*CREATE\s+(TEMP\s+|TEMPORARY\s+)?$/i.test(stripComments(sql.slice(start, i)))) inTrigger = true;
      lastWord = word;
      i = j;
      continue;
    }
    if (c === ";") {
      if (!inTrigger || lastWord === "END") flush(i);
      i++;
      continue;
    }
    if (!/\s/.test(c)) lastWord = "";
    i++;
  }
  flush(n);
  return out;
}

function stripComments(s: string): string {
  return s.replace(/^(\s*(--[^\n]*\n|\/\*[\s\S]*?\*\/))+/g, "");
}

/** `CREATE TABLE IF NOT EXISTS foo` → `{verb: 'CREATE TABLE', name: 'foo'}` for plan listings. */
export function describeStatement(stmt: string): string {
  const m = /^\s*(CREATE\s+(?:VIRTUAL\s+TABLE|TABLE|UNIQUE\s+INDEX|INDEX|TRIGGER|VIEW))\s+(?:IF\s+NOT\s+EXISTS\s+)?("[^"]+"|\S+)/i.exec(stmt);
  if (m) return `${m[1]!.replace(/\s+/g, " ").toUpperCase()} ${m[2]}`;
  return stmt.replace(/\s+/g, " ").slice(0, 100);
}
