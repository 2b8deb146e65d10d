/** A JSON parser over bytes that keeps number literals (vox's export-legacy lines: ./reference.ts). */
import { isUtf8 } from "node:buffer";

export type JVal = null | boolean | string | JNum | JVal[] | JObj;
export interface JNum {
  num: string;
}
export interface JObj {
  obj: [string, JVal][];
}

export class RefSyntaxError extends Error {}

class Parser {
  i = 0;
  /** Set when a string's bytes are not valid UTF-8 (decoded with replacement characters). */
  badUtf8 = false;
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
    throw new RefSyntaxError(`${what} at byte ${this.i + 1}`);
  }

  value(depth = 0): JVal {
    if (depth > 64) this.fail("nesting too deep");
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
        return this.fail(c === undefined ? "unexpected end of line" : `unexpected character ${JSON.stringify(String.fromCharCode(c))}`);
    }
  }

  word<T>(w: string, v: T): T {
    if (this.b.toString("latin1", this.i, this.i + w.length) !== w) this.fail("invalid literal");
    this.i += w.length;
    return v;
  }

  number(): JNum {
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
    return { num: b.toString("latin1", start, this.i) };
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
        this.fail("control character in a string");
      }
      k++;
    }
    if (k === q) {
      this.i = q + 1;
      return this.text(start, q);
    }
    this.i = k;
    const parts: string[] = [];
    let runStart = start;
    for (;;) {
      if (this.i >= b.length) this.fail("unterminated string");
      const c = b[this.i]!;
      if (c === 0x22) {
        parts.push(this.text(runStart, this.i));
        this.i++;
        return parts.join("");
      }
      if (c < 0x20) this.fail("control character in a string");
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      parts.push(this.text(runStart, this.i));
      const e = b[this.i + 1];
      this.i += 2;
      switch (e) {
        case 0x22:
          parts.push('"');
          break;
        case 0x5c:
          parts.push("\\");
          break;
        case 0x2f:
          parts.push("/");
          break;
        case 0x62:
          parts.push("\b");
          break;
        case 0x66:
          parts.push("\f");
          break;
        case 0x6e:
          parts.push("\n");
          break;
        case 0x72:
          parts.push("\r");
          break;
        case 0x74:
          parts.push("\t");
          break;
        case 0x75: {
          const hex = b.toString("latin1", this.i, this.i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("invalid \\u escape");
          parts.push(String.fromCharCode(parseInt(hex, 16)));
          this.i += 4;
          break;
        }
        default:
          this.fail("invalid escape");
      }
      runStart = this.i;
    }
  }

  text(s: number, e: number): string {
    if (s === e) return "";
    const seg = this.b.subarray(s, e);
    if (!isUtf8(seg)) this.badUtf8 = true;
    return seg.toString("utf8");
  }

  object(depth: number): JObj {
    this.i++;
    const obj: [string, JVal][] = [];
    this.ws();
    if (this.b[this.i] === 0x7d) {
      this.i++;
      return { obj };
    }
    for (;;) {
      this.ws();
      if (this.b[this.i] !== 0x22) this.fail("expected a key");
      const k = this.string();
      this.ws();
      if (this.b[this.i] !== 0x3a) this.fail("expected ':'");
      this.i++;
      obj.push([k, this.value(depth + 1)]);
      this.ws();
      const c = this.b[this.i];
      this.i++;
      if (c === 0x2c) continue;
      if (c === 0x7d) return { obj };
      this.i--;
      this.fail("expected ',' or '}'");
    }
  }

  array(depth: number): JVal[] {
    this.i++;
    const arr: JVal[] = [];
    this.ws();
    if (this.b[this.i] === 0x5d) {
      this.i++;
      return arr;
    }
    for (;;) {
      arr.push(this.value(depth + 1));
      this.ws();
      const c = this.b[this.i];
      this.i++;
      if (c === 0x2c) continue;
      if (c === 0x5d) return arr;
      this.i--;
      this.fail("expected ',' or ']'");
    }
  }
}

/** Parses one JSON text from bytes; numbers come back as `{num: "<literal>"}`, objects as ordered entries. */
export function parseJsonBytes(b: Buffer): { value: JVal; badUtf8: boolean } {
  const p = new Parser(b);
  const value = p.value();
  p.ws();
  if (p.i !== b.length) p.fail("data after the JSON value");
  return { value, badUtf8: p.badUtf8 };
}

const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;

/** A JSON number literal as SQLite would store it: integer literal → INTEGER (64-bit), else REAL. */
export function numberLiteral(lit: string): bigint | number {
  if (/[.eE]/.test(lit)) return Number(lit);
  const b = BigInt(lit);
  return b >= INT64_MIN && b <= INT64_MAX ? b : Number(lit);
}

/** JSON text of a parsed value (for the rare non-scalar value, kept as written). */
export function jsonText(v: JVal): string {
  if (v === null || typeof v === "boolean") return String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(jsonText).join(",")}]`;
  if ("num" in v) return v.num;
  return `{${v.obj.map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x)}`).join(",")}}`;
}
