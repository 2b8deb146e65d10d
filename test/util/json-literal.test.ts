/**
 * The one literal-keeping JSON parser (src/util/json-literal.ts), read by the telemetry check and by
 * vox's export-legacy reader: literals as written, keys in order with duplicates, errors at a byte.
 */
import { describe, expect, it } from "vitest";
import { jsonText, JsonNumber, JsonObject, JsonSyntaxError, parseJsonBytes } from "../../src/util/json-literal.js";

const parse = (s: string) => parseJsonBytes(Buffer.from(s));

describe("the literal-keeping JSON parser", () => {
  it("keeps number literals as written and decodes strings exactly", () => {
    const value = parse('{"a":[1,-0.0,1e308,"\\u00e9\\n\\"",null,true],"b":{},"a":2}');
    expect(value).toBeInstanceOf(JsonObject);
    expect(value).toEqual(
      new JsonObject([
        ["a", [new JsonNumber("1"), new JsonNumber("-0.0"), new JsonNumber("1e308"), 'é\n"', null, true]],
        ["b", new JsonObject([])],
        ["a", new JsonNumber("2")],
      ]),
    );
    // Duplicates are kept in order; the map keeps the last (as JSON.parse does).
    const o = value as JsonObject;
    expect(o.duplicates).toEqual(["a"]);
    expect(o.map.get("a")).toEqual(new JsonNumber("2"));
    expect(jsonText(value)).toBe('{"a":[1,-0.0,1e308,"é\\n\\"",null,true],"b":{},"a":2}');
  });

  it("an integer literal is told from a fraction or exponent, and keeps digits a float would lose", () => {
    expect([parse("3"), parse("3.0"), parse("3e0"), parse("-0")].map((n) => (n as JsonNumber).integer)).toEqual([true, false, false, true]);
    const big = parse("9223372036854775807") as JsonNumber;
    expect(big.raw).toBe("9223372036854775807");
    expect(big.value).toBe(9223372036854775807);
  });

  it("`__proto__` is an ordinary key", () => {
    const o = parse('{"__proto__":1}') as JsonObject;
    expect([...o.map.keys()]).toEqual(["__proto__"]);
  });

  it("multi-byte UTF-8 around escapes decodes as JSON.parse does", () => {
    const s = '"ü\\t€ \\ud83d\\ude00 😀"';
    expect(parse(s)).toBe(JSON.parse(s));
  });

  it("refuses what is not JSON, naming the byte", () => {
    for (const bad of ["{", '{"a":01}', '{"a":1,}', "[1] x", '"\t"', "{'a':1}", "tru", "-", '"\\x"', "", "[".repeat(600)]) {
      expect(() => parse(bad), bad).toThrow(JsonSyntaxError);
    }
    try {
      parse('{"é":x}');
    } catch (e) {
      expect((e as JsonSyntaxError).pos).toBe(6); // bytes: { " é(2 bytes) " : then x at offset 6
    }
    expect.assertions(12);
  });
});
