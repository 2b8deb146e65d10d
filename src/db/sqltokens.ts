/**
 * A small SQL tokenizer: words (keywords and bare identifiers), quoted identifiers, strings,
 * numbers and punctuation, with comments skipped. Used only where SQLite reports nothing through
 * a PRAGMA (AUTOINCREMENT, a partial index's WHERE, virtual-table module arguments, a column's COLLATE).
 */
interface SqlToken {
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

/** A token's text without its quotes ('…', "…", `…` with doubled quotes inside, […]); a bare word as it is. */
export function unquoteToken(v: string): string {
  const t = v.trim();
  const q = t[0];
  if ((q === "'" || q === '"' || q === "`") && t.endsWith(q))
    return t
      .slice(1, -1)
      .split(q + q)
      .join(q);
  if (q === "[" && t.endsWith("]")) return t.slice(1, -1);
  return t;
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
function identText(t: SqlToken): string {
  if (t.kind !== "ident") return t.text;
  const q = t.text[0]!;
  const inner = t.text.slice(1, -1);
  return q === "[" ? inner : inner.split(q + q).join(q);
}

/**
 * `CREATE VIRTUAL TABLE x USING mod(a, b UNINDEXED, key='v')` → the module name and its arguments as
 * written (split at top-level commas, trimmed); null when there is no USING. SQLite treats these
 * arguments as opaque text, so they are read from the statement.
 */
export function moduleArgs(sql: string): { module: string; args: string[] } | null {
  const toks = sqlTokens(sql);
  const using = toks.findIndex((t) => t.kind === "word" && t.upper === "USING");
  const mod = toks[using + 1];
  if (using < 0 || !mod) return null;
  const args: string[] = [];
  const open = toks[using + 2];
  if (open?.text === "(") {
    let depth = 0;
    let start = open.end;
    for (let i = using + 3; i < toks.length; i++) {
      const t = toks[i]!;
      if (t.text === "(") depth++;
      else if (t.text === ")") {
        if (depth === 0) {
          args.push(sql.slice(start, t.start).trim());
          break;
        }
        depth--;
      } else if (t.text === "," && depth === 0) {
        args.push(sql.slice(start, t.start).trim());
        start = t.end;
      }
    }
  }
  return { module: identText(mod).toLowerCase(), args: args.filter((a) => a.length > 0) };
}

/** A module argument of the form `key=value`: the key and the raw value text; null for a column. */
export function optionArg(a: string): { key: string; value: string } | null {
  const eq = a.indexOf("=");
  return eq > 0 && /^\s*[A-Za-z_][A-Za-z0-9_]*\s*$/.test(a.slice(0, eq)) ? { key: a.slice(0, eq).trim(), value: a.slice(eq + 1).trim() } : null;
}
