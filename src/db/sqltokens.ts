/**
 * A small SQL tokenizer: words (keywords and bare identifiers), quoted identifiers, strings,
 * numbers and punctuation, with comments skipped. Used only where SQLite reports nothing through
 * a PRAGMA (AUTOINCREMENT, a partial index's WHERE, virtual-table module arguments).
 */
export interface SqlToken {
  kind: "word" | "ident" | "string" | "number" | "punct";
  text: string;
  /** Upper-cased text for words. */
  upper: string;
  start: number;
  end: number;
}

/** The index just past the quoted string or identifier that starts at `i` ('…', "…", `…`, […]; doubled quotes escape). */
export function quotedEnd(sql: string, i: number): number {
  const c = sql[i]!;
  const close = c === "[" ? "]" : c;
  const n = sql.length;
  i++;
  while (i < n) {
    if (sql[i] === close) {
      if (close !== "]" && sql[i + 1] === close) {
        i += 2;
        continue;
      }
      break;
    }
    i++;
  }
  return Math.min(n, i + 1);
}

export function sqlTokens(sql: string): SqlToken[] {
  const out: SqlToken[] = [];
  const n = sql.length;
  let i = 0;
  const push = (kind: SqlToken["kind"], start: number, end: number) => {
    const text = sql.slice(start, end);
    out.push({ kind, text, upper: kind === "word" ? text.toUpperCase() : text, start, end });
  };
  while (i < n) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      i = nl < 0 ? n : nl + 1;
      continue;
    }
    if (c === "/" && sql[i + 1] === "*") {
      const e = sql.indexOf("*/", i + 2);
      i = e < 0 ? n : e + 2;
      continue;
    }
    if (c === "'" || c === '"' || c === "`" || c === "[") {
      const start = i;
      i = quotedEnd(sql, i);
      push(c === "'" ? "string" : "ident", start, i);
      continue;
    }
    if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      const start = i;
      while (i < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[i]!)) i++;
      push("word", start, i);
      continue;
    }
    if (/[0-9.]/.test(c) && (c !== "." || /[0-9]/.test(sql[i + 1] ?? ""))) {
      const start = i;
      while (i < n && /[0-9A-Za-z_.]/.test(sql[i]!)) {
        if ((sql[i] === "e" || sql[i] === "E") && (sql[i + 1] === "+" || sql[i + 1] === "-")) i++;
        i++;
      }
      push("number", start, i);
      continue;
    }
    push("punct", i, i + 1);
    i++;
  }
  return out;
}

/** The identifier a token names (quotes removed). */
export function identText(t: SqlToken): string {
  if (t.kind !== "ident") return t.text;
  const q = t.text[0]!;
  const inner = t.text.slice(1, -1);
  return q === "[" ? inner : inner.split(q + q).join(q);
}
