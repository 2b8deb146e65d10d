/**
 * Big values in vox's own export-legacy files (issue 17): with the big-value size lowered to 64 KB
 * (test hook) a line holding a big value is parsed as it streams, a big `"base64:…"` in a BLOB
 * column is decoded in slices, and a line that cannot be a row is quarantined as written, in slices.
 * The file is written by Python's json (as vox's serde writes it: keys sorted, compact, non-ASCII
 * raw; one line all escapes) and the values are judged by Python's sqlite3, json and base64; the
 * same file imported without the hook (every value decoded whole) gives the same tables (sqlite3 CLI).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execaSync } from "execa";
import { cli, sqlite, tmp } from "../helpers.js";
import { base64TextBlob, JsonStringDecoder } from "../../src/backup/reference-long.js";
import { BigValue } from "../../src/backup/big-value.js";

const env = { VOX_CUTOVER_BIG_VALUE_BYTES: String(64 << 10) };
let dir: string;

/** Writes the reference file and, beside it, what each value must be (Python's own reading). */
const WRITE = String.raw`
import json, base64, random, sys, hashlib
random.seed(17)
path, expect_path = sys.argv[1], sys.argv[2]
h = lambda b: hashlib.sha3_256(b).hexdigest()
def line(table, cols, row, ascii=False):
    return json.dumps({"columns": cols, "row": row, "table": table}, sort_keys=True, separators=(",", ":"), ensure_ascii=ascii).encode()
E = ["id", "source_type", "source_id", "dim", "vector", "metadata", "created_at"]
O = ["hash", "kind", "data", "created_at"]
vec = bytes(random.getrandbits(8) for _ in range(300_001))      # 300,001 bytes: base64 ends in "=="
vec2 = bytes(random.getrandbits(8) for _ in range(200_002))     # ends in "="
meta = 'résumé "q" \\ / \n\t 東京 🚀 \x01 ' * 8000
lines, exp = [], {}
lines.append(line("embeddings", E, {"id": 1, "source_type": "doc", "source_id": "s1", "dim": 3, "vector": "base64:" + base64.b64encode(vec).decode(), "metadata": meta, "created_at": "2024"}))
exp["embeddings/1/vector"] = ["blob", h(vec)]
exp["embeddings/1/metadata"] = ["text", h(meta.encode())]
# All escapes (\uXXXX, surrogate pairs) and "\/", which vox never writes but JSON allows.
l2 = line("embeddings", E, {"id": 2, "source_type": "doc", "source_id": "s2", "dim": 3, "vector": "base64:" + base64.b64encode(vec2).decode(), "metadata": meta, "created_at": "2024"}, ascii=True)
lines.append(l2.replace(b"/ ", b"\\/ "))
exp["embeddings/2/vector"] = ["blob", h(vec2)]
exp["embeddings/2/metadata"] = ["text", h(meta.encode())]
# "base64:" in a TEXT column stays text; in the BLOB column, only canonical base64 is a BLOB.
kind = "base64:" + base64.b64encode(vec[:150_000]).decode()
bad_char = "base64:" + base64.b64encode(vec[:150_000]).decode()[:100_000] + "*" + "A" * 99_999
bad_bits = "base64:" + base64.b64encode(vec[:150_001]).decode()[:-3] + "B=="
lines.append(line("objects", O, {"hash": "h1", "kind": kind, "data": "base64:" + base64.b64encode(vec).decode(), "created_at": "2024"}))
lines.append(line("objects", O, {"hash": "h2", "kind": "k", "data": bad_char, "created_at": "2024"}))
lines.append(line("objects", O, {"hash": "h3", "kind": "k", "data": bad_bits, "created_at": "2024"}))
exp["objects/h1/kind"] = ["text", h(kind.encode())]
exp["objects/h1/data"] = ["blob", h(vec)]
exp["objects/h2/data"] = ["text", h(bad_char.encode())]
exp["objects/h3/data"] = ["text", h(bad_bits.encode())]
# A table vox 66 lacks: the row is quarantined whole, its big text in row_json.
content = "chat " * 40_000
lines.append(line("chat_transcripts", ["id", "content"], {"id": "c1", "content": content}))
exp["quarantine/chat_transcripts"] = h(content.encode())
# A line that cannot be a row (dim listed, no value): quarantined as written.
miss = line("embeddings", E, {"id": 3, "source_type": "doc", "source_id": "s3", "vector": "base64:" + base64.b64encode(vec2).decode(), "metadata": "m", "created_at": "2024"})
lines.append(miss)
exp["quarantine/missing"] = h(miss)
# A line whose bytes are not UTF-8: quarantined as base64 of the line.
bad = line("embeddings", E, {"id": 4, "source_type": "doc", "source_id": "s4", "dim": 1, "vector": "base64:", "metadata": "x" * 100_000 + "ZZBADZZ", "created_at": "2024"}).replace(b"ZZBADZZ", b"\xff")
lines.append(bad)
exp["quarantine/badutf8"] = h(bad)
open(path, "wb").write(b"\n".join(lines) + b"\n")
json.dump(exp, open(expect_path, "w"))
`;

const JUDGE = String.raw`
import sqlite3, sys, json, hashlib, base64
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
exp = json.load(open(sys.argv[2]))
h = lambda b: hashlib.sha3_256(b).hexdigest()
out = {}
for k, (typ, sha) in ((k, v) for k, v in exp.items() if not k.startswith("quarantine/")):
    t, key, col = k.split("/")
    keycol = "id" if t == "embeddings" else "hash"
    r = db.execute(f"SELECT typeof({col}), CAST({col} AS BLOB) FROM {t} WHERE {keycol} = ?", (int(key) if t == "embeddings" else key,)).fetchone()
    out[k] = r is not None and r[0] == typ and h(r[1]) == sha
q = {r[0]: (r[1], r[2]) for r in db.execute("SELECT reason, typeof(row_json), row_json FROM legacy_quarantine")}
def find(prefix):
    return [v for k, v in q.items() if k.startswith(prefix)]
chat = find("unknown-table")
out["quarantine/chat_transcripts"] = len(chat) == 1 and chat[0][0] == "text" and h(json.loads(chat[0][1])["content"].encode()) == exp["quarantine/chat_transcripts"]
miss = find("missing-value")
out["quarantine/missing"] = len(miss) == 1 and h(miss[0][1].encode()) == exp["quarantine/missing"]
bad = find("invalid-utf8")
out["quarantine/badutf8"] = len(bad) == 1 and h(base64.b64decode(json.loads(bad[0][1])["line_base64"], validate=True)) == exp["quarantine/badutf8"]
out["integrity"] = db.execute("PRAGMA integrity_check").fetchone()[0]
print(json.dumps(out))
`;

beforeAll(() => {
  dir = tmp("vox-bigref-");
  execaSync("python3", ["-c", WRITE, join(dir, "ref.jsonl"), join(dir, "expect.json")]);
  // A long line that is not JSON (a bad escape deep inside a big string), as line 2.
  writeFileSync(
    join(dir, "bad.jsonl"),
    `{"columns":["hash","kind","data","created_at"],"row":{"created_at":"x","data":"base64:","hash":"h0","kind":"k"},"table":"objects"}\n` +
      `{"columns":["hash","kind","data","created_at"],"row":{"created_at":"x","data":"base64:","hash":"h1","kind":"${"k".repeat(200_000)}\\q"},"table":"objects"}\n`,
  );
}, 60_000);

describe("big values in vox's export-legacy files, in slices", () => {
  it("each value lands as Python reads it; the same file decoded whole gives the same tables", async () => {
    const sliced = join(dir, "sliced.db");
    const a = await cli(["import-legacy", join(dir, "ref.jsonl"), "--db", sliced, "--accept-unverified", "--apply", "--json"], { env });
    expect(a.exitCode, a.stderr).toBe(0);
    const r = JSON.parse(execaSync("python3", ["-c", JUDGE, sliced, join(dir, "expect.json")]).stdout);
    expect(r).toEqual({
      "embeddings/1/vector": true,
      "embeddings/1/metadata": true,
      "embeddings/2/vector": true,
      "embeddings/2/metadata": true,
      "objects/h1/kind": true,
      "objects/h1/data": true,
      "objects/h2/data": true,
      "objects/h3/data": true,
      "quarantine/chat_transcripts": true,
      "quarantine/missing": true,
      "quarantine/badutf8": true,
      integrity: "ok",
    });
    // Without the hook every line is short: each value is decoded whole (the path before this change).
    const whole = join(dir, "whole.db");
    const b = await cli(["import-legacy", join(dir, "ref.jsonl"), "--db", whole, "--accept-unverified", "--apply", "--json"]);
    expect(b.exitCode, b.stderr).toBe(0);
    const q = "SELECT source_table, source_rowid, source_key, hex(sha3(row_json)), reason FROM legacy_quarantine ORDER BY 1, 3, 5";
    for (const sql of [
      "SELECT id, typeof(vector), hex(sha3(vector)), hex(sha3(metadata)) FROM embeddings ORDER BY id",
      "SELECT hash, typeof(kind), typeof(data), hex(sha3(kind)), hex(sha3(data)) FROM objects ORDER BY hash",
      q,
    ]) {
      const s = sqlite(sliced, sql);
      expect(s.split("\n").length).toBeGreaterThan(1);
      expect(s).toBe(sqlite(whole, sql));
    }
  }, 120_000);

  it("a long line that is not JSON is refused with its line number before anything is written", async () => {
    const target = join(dir, "bad.db");
    const r = await cli(["import-legacy", join(dir, "bad.jsonl"), "--db", target, "--accept-unverified", "--apply"], { env });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/bad\.jsonl line 2 is not a line of vox's export-legacy format: not valid JSON \(bad escape/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(target)).toBe(false);
  }, 60_000);

  it("verify-backup tells a vox export file whose FIRST row is long by streaming it, not by reading the line whole", async () => {
    // A first line of 3 MB with the whole-line limit at 1 MB: read whole, it was refused as "longer than 1 MB".
    const first = join(dir, "first-long.jsonl");
    const big = Buffer.alloc(3 << 20, 7).toString("base64");
    writeFileSync(
      first,
      `{"columns":["hash","kind","data","created_at"],"row":{"created_at":"x","data":"base64:${big}","hash":"h1","kind":"k"},"table":"objects"}\n`,
    );
    const r = await cli(["verify-backup", first], { env: { ...env, VOX_CUTOVER_MAX_LINE_BYTES: String(1 << 20) } });
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/export-legacy` format: no header, no counts, no hashes, so it cannot be verified/);
    expect(r.stderr).not.toMatch(/longer than/);
  }, 60_000);
});

/** Cuts `b` into pieces of random sizes (1 to 9 bytes: every escape and character split somewhere). */
function pieces(b: Buffer, seed: number): Buffer[] {
  const out: Buffer[] = [];
  let x = seed;
  for (let i = 0; i < b.length;) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const n = 1 + (x % 9);
    out.push(b.subarray(i, i + n));
    i += n;
  }
  return out;
}

describe("the slice decoders equal a whole decode", () => {
  it("a JSON string's inside, in any pieces, gives Buffer.from(JSON.parse(…))", () => {
    const inside = String.raw`a\"b\\c\/d\b\f\n\r\t é 東 🚀 \u00e9\u6771\ud83d\ude80 lone \ud800 x \udc00 y \ud83d\u0041 end \ud83d`;
    const whole = Buffer.from(JSON.parse(`"${inside}"`) as string, "utf8");
    for (let seed = 1; seed <= 50; seed++) {
      const dec = new JsonStringDecoder();
      const got: Buffer[] = [];
      for (const p of pieces(Buffer.from(inside, "utf8"), seed)) dec.push(p, (b) => got.push(Buffer.from(b)));
      dec.end((b) => got.push(Buffer.from(b)));
      expect(Buffer.concat(got).equals(whole)).toBe(true);
    }
    for (const bad of [String.raw`a\x`, String.raw`\u12`, "tab\there", "end\\"]) {
      const dec = new JsonStringDecoder();
      expect(() => {
        dec.push(Buffer.from(bad), () => {});
        dec.end(() => {});
      }).toThrow();
    }
  });

  it("a big base64: text becomes the bytes Buffer.from(…, 'base64') gives, or stays text when not canonical", () => {
    const bytes = Buffer.from(Array.from({ length: 100_003 }, (_, i) => (i * 7919) % 251));
    const text = (s: string) => {
      const b = Buffer.from(s);
      return new BigValue("text", b.length, () => pieces(b, 3), true);
    };
    const blob = base64TextBlob(text("base64:" + bytes.toString("base64")));
    expect(blob?.storage).toBe("blob");
    expect(blob?.length).toBe(bytes.length);
    // Each slice copied as it comes (they are views into reused buffers).
    expect(Buffer.concat(Array.from(blob!.open(), (s) => Buffer.from(s))).equals(bytes)).toBe(true);
    expect(base64TextBlob(text("base64:" + bytes.toString("base64").slice(0, -1)))).toBeNull(); // not a multiple of 4
    expect(base64TextBlob(text("base64:" + bytes.toString("base64url")))).toBeNull();
    expect(base64TextBlob(text("Base64:" + bytes.toString("base64")))).toBeNull();
  });
});
