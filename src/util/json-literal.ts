/**
 * The one JSON parser that keeps what JSON.parse loses: a number's literal as written (an integer
 * literal stays an integer, `9223372036854775807` keeps its digits), every key of an object in order
 * with its duplicates, and `__proto__` as an ordinary key. It reads bytes (one line of a file), so a
 * caller never decodes a line twice. Used by the telemetry check (src/telemetry) and by vox's
 * export-legacy reader (src/backup/reference.ts).
 */

/** A number as written; `value` is what JSON.parse would give. */
export class JsonNumber {
  constructor(readonly raw: string) {}
  /** Written without fraction or exponent. */
  get integer(): boolean {
    return !/[.eE]/.test(this.raw);
  }
  get value(): number {
    return Number(this.raw);
  }
}

/** An object's entries in the order written, duplicates included; `map` and `duplicates` read them. */
export class JsonObject {
  constructor(readonly entries: [string, JsonValue][]) {}
  /** Key → value (the last one of a duplicated key, as JSON.parse keeps). */
  get map(): Map<string, JsonValue> {
    return new Map(this.entries);
  }
  /** Keys written more than once (each repeat listed). */
  get duplicates(): string[] {
    const seen = new Set<string>();
    const twice: string[] = [];
    for (const [k] of this.entries) {
      if (seen.has(k)) twice.push(k);
      seen.add(k);
    }
    return twice;
  }
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    /** 0-based byte offset in the parsed bytes. */
    readonly pos: number,
  ) {
    super(message);
  }
}

const MAX_DEPTH = 512;

class Parser {
  i = 0;
  constructor(private readonly b: Buffer) {}

  ws(): void {
    const b = this.b;
    while (this.i < b.length) {
      const c = b[this.i]!;
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else break;
    }
  }

  fail(what: string): never {
    throw new JsonSyntaxError(what, this.i);
  }

  value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    this.ws();
    const c = this.b[this.i];
    switch (c) {
      case 0x22:
        return this.string();
      case 0x7b:
        return this.object(depth);
      case 0x5b:
        return this.array(depth);
      case 0x6e:
        return this.word("null", null);
      case 0x74:
        return this.word("true", true);
      case 0x66:
        return this.word("false", false);
      default:
        if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) return this.number();
        return this.fail(c === undefined ? "unexpected end of input" : `unexpected character ${JSON.stringify(String.fromCharCode(c))}`);
    }
  }

  word<T>(w: string, v: T): T {
    if (this.b.toString("latin1", this.i, this.i + w.length) !== w) this.fail("invalid literal");
    this.i += w.length;
    return v;
  }

  number(): JsonNumber {
    const b = this.b;
    const start = this.i;
    const digits = () => {
      const s = this.i;
      while (this.i < b.length && b[this.i]! >= 0x30 && b[this.i]! <= 0x39) this.i++;
      if (this.i === s) this.fail("invalid number");
    };
    if (b[this.i] === 0x2d) this.i++;
    if (b[this.i] === 0x30) this.i++;
    else digits();
    if (b[this.i] === 0x2e) {
      this.i++;
      digits();
    }
    if (b[this.i] === 0x65 || b[this.i] === 0x45) {
      this.i++;
      if (b[this.i] === 0x2b || b[this.i] === 0x2d) this.i++;
      digits();
    }
    return new JsonNumber(b.toString("latin1", start, this.i));
  }

  string(): string {
    const b = this.b;
    this.i++; // opening quote
    const start = this.i;
    // Fast path: no escape before the closing quote (one scan of the string's bytes).
    const q = b.indexOf(0x22, this.i);
    if (q < 0) this.fail("unterminated string");
    let k = start;
    while (k < q && b[k]! !== 0x5c) {
      if (b[k]! < 0x20) {
        this.i = k;
        this.fail("unescaped control character in a string");
      }
      k++;
    }
    if (k === q) {
      this.i = q + 1;
      return b.toString("utf8", start, q);
    }
    this.i = k;
    const parts: string[] = [];
    let runStart = start;
    for (;;) {
      if (this.i >= b.length) this.fail("unterminated string");
      const c = b[this.i]!;
      if (c === 0x22) {
        parts.push(b.toString("utf8", runStart, this.i));
        this.i++;
        return parts.join("");
      }
      if (c < 0x20) this.fail("unescaped control character in a string");
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      parts.push(b.toString("utf8", runStart, this.i));
      const e = b[this.i + 1];
      this.i += 2;
      const simple = e === undefined ? undefined : ESCAPES[e];
      if (simple !== undefined) parts.push(simple);
      else if (e === 0x75) {
        const hex = b.toString("latin1", this.i, this.i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("bad \\u escape in a string");
        parts.push(String.fromCharCode(parseInt(hex, 16)));
        this.i += 4;
      } else {
        this.i -= 1;
        this.fail("bad escape in a string");
      }
      runStart = this.i;
    }
  }

  object(depth: number): JsonObject {
    this.i++;
    const entries: [string, JsonValue][] = [];
    this.ws();
    if (this.b[this.i] === 0x7d) {
      this.i++;
      return new JsonObject(entries);
    }
    for (;;) {
      this.ws();
      if (this.b[this.i] !== 0x22) this.fail("expected a string key");
      const k = this.string();
      this.ws();
      if (this.b[this.i] !== 0x3a) this.fail("expected ':'");
      this.i++;
      entries.push([k, this.value(depth + 1)]);
      this.ws();
      const c = this.b[this.i];
      if (c === 0x2c) this.i++;
      else if (c === 0x7d) {
        this.i++;
        return new JsonObject(entries);
      } else this.fail("expected ',' or '}'");
    }
  }

  array(depth: number): JsonValue[] {
    this.i++;
    const arr: JsonValue[] = [];
    this.ws();
    if (this.b[this.i] === 0x5d) {
      this.i++;
      return arr;
    }
    for (;;) {
      arr.push(this.value(depth + 1));
      this.ws();
      const c = this.b[this.i];
      if (c === 0x2c) this.i++;
      else if (c === 0x5d) {
        this.i++;
        return arr;
      } else this.fail("expected ',' or ']'");
    }
  }
}

/** The one-character escapes (by the byte after the backslash). */
const ESCAPES: Record<number, string> = { 0x22: '"', 0x5c: "\\", 0x2f: "/", 0x62: "\b", 0x66: "\f", 0x6e: "\n", 0x72: "\r", 0x74: "\t" };

/**
 * Parses one JSON text from bytes (all of them: trailing non-space is an error). Strings are decoded
 * as UTF-8 (invalid bytes become U+FFFD: a caller that cares checks the bytes with `isUtf8` first).
 */
export function parseJsonBytes(b: Buffer): JsonValue {
  const p = new Parser(b);
  const value = p.value(0);
  p.ws();
  if (p.i !== b.length) p.fail("unexpected text after the JSON value");
  return value;
}

/** JSON text of a parsed value, numbers as written (for the rare non-scalar value kept as it came). */
export function jsonText(v: JsonValue): string {
  if (v === null || typeof v === "boolean") return String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(jsonText).join(",")}]`;
  if (v instanceof JsonNumber) return v.raw;
  return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x)}`).join(",")}}`;
}
