/**
 * vox's own export format (`vox codex export-legacy`), read exactly by `import-legacy
 * --accept-unverified`: numbers from their literal text (64-bit integers, REAL for `.`/exponent),
 * `"base64:…"` a BLOB only in BLOB-declared columns, row keys missing from `columns` quarantined,
 * a stable plan digest, streaming any line length. Values judged with the sqlite3 CLI and Python.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execaSync } from "execa";
import { cli, sqlite } from "../helpers.js";
import { numberLiteral } from "../../src/backup/reference.js";

let dir: string;
const p = (n: string) => join(dir, n);

/** A line as vox writes it: keys sorted, compact; `row` given as raw JSON text so literals stay as written. */
function line(table: string, columns: string[], row: Record<string, string>): string {
  const keys = Object.keys(row).sort();
  return `{"columns":${JSON.stringify(columns)},"row":{${keys.map((k) => `${JSON.stringify(k)}:${row[k]}`).join(",")}},"table":${JSON.stringify(table)}}`;
}

const AR = ["agent_id", "reliability", "success_count", "failure_count", "updated_at_ms"];
const BIG = "x".repeat(3_000_000) + "é"; // a 3 MB line: longer than the reader's chunk

function writeReference(path: string): void {
  const lines = [
    line("agent_reliability", AR, {
      agent_id: '"a1"',
      reliability: "3.0",
      success_count: "9223372036854775807",
      failure_count: "9007199254740993",
      updated_at_ms: "-9223372036854775808",
    }),
    line("agent_reliability", AR, {
      agent_id: '"a2"',
      reliability: "1e308",
      success_count: "9007199254740992",
      failure_count: "0",
      updated_at_ms: "1700000000123",
    }),
    line("agent_reliability", AR, { agent_id: '"a3"', reliability: "5e-324", success_count: "1", failure_count: "2", updated_at_ms: "3" }),
    // a row key missing from columns: the row loads, the value goes to quarantine
    line("agent_reliability", AR, {
      agent_id: '"a4"',
      reliability: "0.25",
      success_count: "1",
      failure_count: "0",
      updated_at_ms: "4",
      legacy_note: '"base64:AAEC/w=="',
    }),
    // BLOB-declared column → BLOB; TEXT column → the text as written
    line("objects", ["hash", "kind", "data", "created_at"], {
      hash: '"h1"',
      kind: '"base64:AAEC/w=="',
      data: '"base64:AAEC/w=="',
      created_at: '"2024-01-01 00:00:00"',
    }),
    line("objects", ["hash", "kind", "data", "created_at"], { hash: '"h2"', kind: '"k"', data: '"base64:"', created_at: '"2024"' }),
    line("users", ["id", "display_name", "email", "avatar_url", "role", "created_at"], {
      id: '"u1"',
      display_name: JSON.stringify(BIG),
      email: '"nul\\u0000inside"',
      avatar_url: "null",
      role: '"user"',
      created_at: '"2024"',
    }),
    // a table vox 66 lacks: its "base64:" text stays text, in quarantine too
    line("chat_transcripts", ["id", "content", "tokens"], { id: '"c1"', content: '"base64:AAEC/w=="', tokens: "12345678901234567" }),
  ];
  writeFileSync(path, lines.join("\n") + "\n");
}

/** Python's sqlite3: the value and its storage class, independent of our reader. */
function py(db: string, sql: string): any {
  const code = `import sqlite3, json, sys, math\nc = sqlite3.connect(sys.argv[1])\nrows = []\nfor r in c.execute(sys.argv[2]):\n  out = []\n  for v in r:\n    if isinstance(v, bytes): out.append({"blob": v.hex()})\n    elif isinstance(v, float): out.append({"real": repr(v)})\n    else: out.append(v)\n  rows.append(out)\nprint(json.dumps(rows))`;
  return JSON.parse(execaSync("python3", ["-c", code, db, sql]).stdout);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vox-test-reference-"));
  writeReference(p("ref.jsonl"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("import-legacy --accept-unverified reads vox's export-legacy format exactly", () => {
  let digest: string;
  let app: any;

  it("the plan digest is the same on every dry-run of the same file, and --apply --plan with it succeeds", async () => {
    const a = await cli(["import-legacy", p("ref.jsonl"), "--db", p("new.db"), "--accept-unverified", "--json"]);
    const b = await cli(["import-legacy", p("ref.jsonl"), "--db", p("new.db"), "--accept-unverified", "--json"]);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(b.exitCode, b.stderr).toBe(0);
    expect(a.json.planDigest).toMatch(/^[0-9a-f]{16}$/);
    expect(b.json.planDigest).toBe(a.json.planDigest);
    expect(existsSync(p("new.db"))).toBe(false);
    digest = a.json.planDigest;
    const r = await cli(["import-legacy", p("ref.jsonl"), "--db", p("new.db"), "--accept-unverified", "--apply", "--plan", digest, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    app = r.json;
    expect(app.backup.verified).toBe(false);
    // the dry-run predicted exactly this
    const strip = (ts: any[]) => ts.map(({ cleared: _c, ...t }: any) => t);
    expect(strip(app.tables)).toEqual(strip(a.json.tables));
  });

  it("a changed file gives another digest, and the old one is refused (exit 3)", async () => {
    writeFileSync(
      p("ref2.jsonl"),
      line("users", ["id", "display_name", "role", "created_at"], { id: '"u9"', display_name: '"Z"', role: '"user"', created_at: '"2024"' }) + "\n",
    );
    const a = await cli(["import-legacy", p("ref2.jsonl"), "--db", p("other.db"), "--accept-unverified", "--json"]);
    expect(a.exitCode, a.stderr).toBe(0);
    writeFileSync(
      p("ref2.jsonl"),
      line("users", ["id", "display_name", "role", "created_at"], { id: '"u9"', display_name: '"Y"', role: '"user"', created_at: '"2024"' }) + "\n",
    );
    const b = await cli(["import-legacy", p("ref2.jsonl"), "--db", p("other.db"), "--accept-unverified", "--json"]);
    expect(b.json.planDigest).not.toBe(a.json.planDigest);
    const c = await cli(["import-legacy", p("ref2.jsonl"), "--db", p("other.db"), "--accept-unverified", "--apply", "--plan", a.json.planDigest]);
    expect(c.exitCode).toBe(3);
    expect(existsSync(p("other.db"))).toBe(false);
  });

  it("integer literals are exact 64-bit INTEGERs; literals with '.' or an exponent are REAL", () => {
    expect(
      sqlite(
        p("new.db"),
        "SELECT agent_id, typeof(reliability), typeof(success_count), success_count, typeof(failure_count), failure_count, updated_at_ms FROM agent_reliability ORDER BY agent_id",
      ),
    ).toBe(
      [
        "a1|real|integer|9223372036854775807|integer|9007199254740993|-9223372036854775808",
        "a2|real|integer|9007199254740992|integer|0|1700000000123",
        "a3|real|integer|1|integer|2|3",
        "a4|real|integer|1|integer|0|4",
      ].join("\n"),
    );
    expect(py(p("new.db"), "SELECT reliability FROM agent_reliability ORDER BY agent_id")).toEqual([
      [{ real: "3.0" }],
      [{ real: "1e+308" }],
      [{ real: "5e-324" }],
      [{ real: "0.25" }],
    ]);
  });

  it('"base64:…" is a BLOB only in a BLOB-declared column; TEXT elsewhere, in quarantine too', () => {
    expect(py(p("new.db"), "SELECT hash, kind, data FROM objects ORDER BY hash")).toEqual([
      ["h1", "base64:AAEC/w==", { blob: "000102ff" }],
      ["h2", "k", { blob: "" }],
    ]);
    expect(sqlite(p("new.db"), "SELECT typeof(kind), typeof(data) FROM objects WHERE hash = 'h1'")).toBe("text|blob");
    const q = sqlite(p("new.db"), "SELECT source_key, row_json, reason FROM legacy_quarantine WHERE source_table = 'chat_transcripts'");
    expect(q).toBe(
      '|{"id":"c1","content":"base64:AAEC/w==","tokens":{"i":"12345678901234567"}}|unknown-table: the baseline has no table chat_transcripts and no importer rule maps it',
    );
  });

  it("a row key missing from columns is quarantined with the row's key, never dropped; the row loads", () => {
    expect(sqlite(p("new.db"), "SELECT source_key, row_json, reason FROM legacy_quarantine WHERE source_table = 'agent_reliability'")).toMatch(
      /^\["a4"\]\|\{"legacy_note":"base64:AAEC\/w=="\}\|unlisted-key: legacy_note/,
    );
    const t = app.tables.find((x: any) => x.name === "agent_reliability");
    expect(t).toMatchObject({ rows: 4, loaded: 4, quarantined: 0, partial: 1, columns: { legacy_note: 1 }, partialReasons: { "unlisted-key": 1 } });
  });

  it("a 3 MB line and a NUL inside text load exactly", () => {
    expect(sqlite(p("new.db"), "SELECT length(display_name), hex(substr(display_name, -1)) FROM users")).toBe(`${BIG.length}|C3A9`);
    expect(sqlite(p("new.db"), "SELECT hex(email), typeof(email) FROM users")).toBe(`${Buffer.from("nul\0inside").toString("hex").toUpperCase()}|text`);
  });

  it("parity: every line is loaded or quarantined, per table", () => {
    const byName = Object.fromEntries(app.tables.map((t: any) => [t.name, t]));
    expect(byName.agent_reliability.loaded).toBe(Number(sqlite(p("new.db"), "SELECT count(*) FROM agent_reliability")));
    expect(byName.objects.loaded).toBe(2);
    expect(byName.chat_transcripts).toMatchObject({ rows: 1, loaded: 0, quarantined: 1, target: null });
    expect(app.totalRows).toBe(8);
    expect(app.loaded + app.quarantined).toBe(8);
  });

  it("a malformed line is refused (exit 3) naming the line, before anything is written", async () => {
    writeFileSync(p("bad.jsonl"), line("users", ["id"], { id: '"u1"' }) + "\n" + '{"columns":["id"],"row":{"id":1e},"table":"users"}\n');
    const r = await cli(["import-legacy", p("bad.jsonl"), "--db", p("bad.db"), "--accept-unverified", "--apply"]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/line 2/);
    expect(existsSync(p("bad.db"))).toBe(false);
  });

  it("a lone surrogate escape and an integer literal beyond 64 bits are kept whole with the line as written, never changed (U+FFFD, a rounded REAL)", async () => {
    const AS = ["key", "value", "updated_at"];
    writeFileSync(
      p("edge.jsonl"),
      [
        line("actor_state", AS, { key: '"lone"', value: '"a\\ud800b"', updated_at: '"x"' }),
        line("actor_state", AS, { key: '"pair"', value: '"a\\ud83d\\ude00b"', updated_at: '"x"' }),
        line("actor_state", AS, { key: '"big"', value: "-9223372036854775809", updated_at: '"x"' }),
        // Lines longer than the reader's chunk are read in slices (reference-long.ts): the same for them (helper-106: they loaded as U+FFFD).
        line("actor_state", AS, { key: '"long-lone"', value: `"${"A".repeat(3_000_000)}\\udc00B"`, updated_at: '"x"' }),
        line("actor_state", AS, { key: '"long-pair"', value: `"${"A".repeat(3_000_000)}\\ud83d\\ude00"`, updated_at: '"x"' }),
      ].join("\n") + "\n",
    );
    const r = await cli(["import-legacy", p("edge.jsonl"), "--db", p("edge.db"), "--accept-unverified", "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    // A surrogate pair is a character: it loads as its UTF-8 bytes.
    expect(sqlite(p("edge.db"), "SELECT key, hex(substr(value, -2)) FROM actor_state ORDER BY key")).toBe("long-pair|41F09F9880\npair|F09F988062");
    expect(sqlite(p("edge.db"), "SELECT hex(value) FROM actor_state WHERE key = 'pair'")).toBe("61F09F988062");
    const q = sqlite(p("edge.db"), "SELECT reason, row_json FROM legacy_quarantine WHERE source_table = 'actor_state' ORDER BY id").split("\n");
    expect(q[0]).toMatch(/^lone-surrogate: value holds half a surrogate pair.*\|.*"a\\ud800b"/);
    expect(q[1]).toMatch(/^out-of-range: value holds the integer literal -9223372036854775809, beyond 64-bit integers\|.*-9223372036854775809/);
    expect(q[2]).toMatch(/^lone-surrogate: value holds half a surrogate pair/);
    expect(q).toHaveLength(3);
  });

  it("a UTF-8 BOM before the first line is accepted", async () => {
    writeFileSync(
      p("bom.jsonl"),
      "\uFEFF" + line("users", ["id", "display_name", "role", "created_at"], { id: '"u1"', display_name: '"A"', role: '"user"', created_at: '"2024"' }) + "\n",
    );
    const r = await cli(["import-legacy", p("bom.jsonl"), "--db", p("bom.db"), "--accept-unverified", "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(sqlite(p("bom.db"), "SELECT id, display_name FROM users")).toBe("u1|A");
  });
});

describe("number literals as SQLite stores them", () => {
  it("integer literal → BigInt (64-bit), '.' or exponent → REAL, beyond 64 bits → REAL (as SQLite reads such a literal)", () => {
    expect(numberLiteral("9223372036854775807")).toBe(9223372036854775807n);
    expect(numberLiteral("-9223372036854775808")).toBe(-9223372036854775808n);
    expect(numberLiteral("3.0")).toBe(3);
    expect(typeof numberLiteral("3.0")).toBe("number");
    expect(Object.is(numberLiteral("-0.0"), -0)).toBe(true);
    expect(numberLiteral("9223372036854775808")).toBe(9223372036854775808);
  });
});
