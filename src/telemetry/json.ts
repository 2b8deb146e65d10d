/** A small JSON parser that keeps what JSON.parse loses (the telemetry check reads vox's JSONL with it). */
export type JsonType = "string" | "integer" | "number" | "boolean" | "object" | "array" | "null";

// ---------------------------------------------------------------------------------------------
// A small JSON parser that keeps what JSON.parse loses: whether a number was written as an integer
// literal, duplicate keys, and `__proto__` as an ordinary key (objects are Maps).

export class JsonNumber {
  constructor(
    readonly value: number,
    /** Written without fraction or exponent. */
    readonly integer: boolean,
    readonly raw: string,
  ) {}
}
export class JsonObject {
  readonly map = new Map<string, JsonValue>();
  readonly duplicates: string[] = [];
}
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

const MAX_DEPTH = 512;
const NUMBER_RE = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

/** Parses one JSON text (the whole string: trailing non-space is an error). */
export function parseJson(text: string): JsonValue {
  let i = 0;
  const n = text.length;
  const fail = (msg: string): never => {
    throw new JsonSyntaxError(msg, i);
  };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const str = (): string => {
    i++; // opening quote
    let out = "";
    let start = i;
    for (;;) {
      if (i >= n) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 34) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c === 92) {
        out += text.slice(start, i);
        const e = text[i + 1];
        i += 2;
        switch (e) {
          case '"':
            out += '"';
            break;
          case "\\":
            out += "\\";
            break;
          case "/":
            out += "/";
            break;
          case "b":
            out += "\b";
            break;
          case "f":
            out += "\f";
            break;
          case "n":
            out += "\n";
            break;
          case "r":
            out += "\r";
            break;
          case "t":
            out += "\t";
            break;
          case "u": {
            const h = text.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) fail("bad \\u escape in a string");
            out += String.fromCharCode(parseInt(h, 16));
            i += 4;
            break;
          }
          default:
            i -= 1;
            fail("bad escape in a string");
        }
        start = i;
        continue;
      }
      if (c < 0x20) fail("unescaped control character in a string");
      i++;
    }
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`);
    ws();
    if (i >= n) fail("unexpected end of input");
    const c = text[i];
    if (c === "{") {
      i++;
      const o = new JsonObject();
      ws();
      if (text[i] === "}") {
        i++;
        return o;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a string key");
        const k = str();
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        const v = value(depth + 1);
        if (o.map.has(k)) o.duplicates.push(k);
        o.map.set(k, v);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return o;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const a: JsonValue[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return a;
      }
      for (;;) {
        a.push(value(depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return a;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith("true", i)) {
      i += 4;
      return true;
    }
    if (text.startsWith("false", i)) {
      i += 5;
      return false;
    }
    if (text.startsWith("null", i)) {
      i += 4;
      return null;
    }
    NUMBER_RE.lastIndex = i;
    const m = NUMBER_RE.exec(text);
    if (!m || m[0] === "-") return fail(`unexpected character ${JSON.stringify(c)}`);
    i += m[0].length;
    return new JsonNumber(Number(m[0]), m[1] === undefined && m[2] === undefined, m[0]);
  };
  const v = value(0);
  ws();
  if (i < n) fail("unexpected text after the JSON value");
  return v;
}

export function jsonType(v: JsonValue): JsonType {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (v instanceof JsonObject) return "object";
  if (v instanceof JsonNumber) return v.integer ? "integer" : "number";
  return typeof v as "string" | "boolean";
}

export function typeOk(v: JsonValue, allowed: readonly JsonType[]): boolean {
  const t = jsonType(v);
  return allowed.includes(t) || (t === "integer" && allowed.includes("number"));
}

export function show(v: JsonValue): string {
  if (v instanceof JsonNumber) return v.raw;
  if (v instanceof JsonObject) return "an object";
  if (Array.isArray(v)) return "an array";
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + '…"' : s;
}
