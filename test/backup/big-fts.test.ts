/**
 * Large texts where real vox files hold them (issue 17 item 3): the content tables of vox's FTS
 * indexes (knowledge_nodes.content, search_document_chunks.body_text), and two in one row followed
 * by short text, REAL and INTEGER values (llm_interactions.prompt/response), in a file laid out by vox 66's
 * own DDL with its sync triggers, cut over with the big-value size lowered to 64 KB (test hook) so
 * the page paths run. Those tables are ordinary rowid tables: the value is read from the pages and
 * written over a zeroblob (the triggers are dropped for the load), and the external-content FTS
 * indexes are rebuilt from them afterwards. Judged by Python's sqlite3: typeof and sha3 of the bytes
 * against the archive (the original), a word near the end of each big text found by MATCH, FTS5's own
 * integrity-check, PRAGMA integrity_check.
 */
import { describe, expect, it } from "vitest";
import { execaSync } from "execa";
import { join } from "node:path";
import { buildCorpusFile } from "../fixtures/corpus.js";
import { cli, tmp } from "../helpers.js";

const env = { VOX_CUTOVER_BIG_VALUE_BYTES: String(64 << 10) };

const FILL = String.raw`
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
# UTF-8 text with multi-byte characters across slice boundaries, quotes, backslashes and newlines.
body = "naïve façade \"q\" \\ 東京 🚀 chunk\n" * 9000
c.execute("UPDATE knowledge_nodes SET content = ? WHERE rowid = (SELECT min(rowid) FROM knowledge_nodes)", (body + " zebrafinch end",))
c.execute("UPDATE search_document_chunks SET body_text = ? WHERE rowid = (SELECT max(rowid) FROM search_document_chunks)", (body * 2 + " quokka end",))
# Two big texts in one row, followed by short text, REAL and INTEGER values of every serial size.
c.execute("""UPDATE llm_interactions SET prompt = ?, response = ?, model_version = 'm-1', context_utilization_pct = 0.1,
  cache_read_tokens = 0, success = 1, latency_ms = -129, input_tokens = 9007199254740993, output_tokens = 70000, cost_usd = -0.0
  WHERE rowid = (SELECT min(rowid) FROM llm_interactions)""", (body + "p", "r" + body * 3))
c.commit()
`;

const JUDGE = String.raw`
import sqlite3, sys, json, hashlib
old = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
new = sqlite3.connect(sys.argv[2])
h = lambda b: hashlib.sha3_256(b).hexdigest() if b is not None else None
out = {}
for t, c in (("knowledge_nodes", "content"), ("search_document_chunks", "body_text")):
    q = f"SELECT rowid, typeof({c}), CAST({c} AS BLOB) FROM {t} ORDER BY rowid"
    a = [(r[0], r[1], h(r[2])) for r in old.execute(q)]
    b = [(r[0], r[1], h(r[2])) for r in new.execute(q)]
    out[t] = {"equal": a == b, "rows": len(b), "largest": max(len(r[2] or b"") for r in new.execute(q))}
cols = [r[1] for r in old.execute("PRAGMA table_info(llm_interactions)")]
q = "SELECT rowid, " + ", ".join(f"typeof({c}), hex(CAST({c} AS BLOB)), quote({c})" for c in cols) + " FROM llm_interactions ORDER BY rowid"
a, b = old.execute(q).fetchall(), new.execute(q).fetchall()
out["llm_interactions"] = {"equal": a == b, "rows": len(b), "largest": new.execute("SELECT max(length(CAST(prompt AS BLOB)) + length(CAST(response AS BLOB))) FROM llm_interactions").fetchone()[0]}
out["match"] = [
    new.execute("SELECT count(*) FROM knowledge_nodes_fts WHERE knowledge_nodes_fts MATCH 'zebrafinch'").fetchone()[0],
    new.execute("SELECT count(*) FROM search_document_chunks_fts WHERE search_document_chunks_fts MATCH 'quokka'").fetchone()[0],
]
for f in ("knowledge_nodes_fts", "search_document_chunks_fts"):
    new.execute(f"INSERT INTO {f}({f}) VALUES ('integrity-check')")
out["integrity"] = new.execute("PRAGMA integrity_check").fetchone()[0]
print(json.dumps(out))
`;

describe("large texts in vox's FTS content tables (64 KB threshold)", () => {
  it("a rebuild keeps their bytes, the values after them and every storage class, and the rebuilt FTS indexes find words near their end", async () => {
    const db = join(tmp("vox-bigfts-"), "vox.db");
    buildCorpusFile("vox66-adhoc", db, { seed: 9, rows: 3 });
    execaSync("python3", ["-c", FILL, db]);
    const dry = await cli(["cutover", "--db", db, "--json"], { env });
    expect(dry.exitCode, dry.stderr).toBe(0);
    const app = await cli(["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest, "--json"], { env });
    expect(app.exitCode, app.stderr).toBe(0);
    expect(app.json.steps.some((s: { id: string }) => s.id === "build-import")).toBe(true);
    const out = JSON.parse(execaSync("python3", ["-c", JUDGE, app.json.archive.path, db]).stdout);
    expect(out.knowledge_nodes).toEqual({ equal: true, rows: 3, largest: expect.any(Number) });
    expect(out.knowledge_nodes.largest).toBeGreaterThan(64 << 10);
    expect(out.search_document_chunks.equal).toBe(true);
    expect(out.search_document_chunks.largest).toBeGreaterThan(128 << 10);
    expect(out.llm_interactions).toEqual({ equal: true, rows: 3, largest: expect.any(Number) });
    expect(out.llm_interactions.largest).toBeGreaterThan(4 * (64 << 10));
    expect(out.match).toEqual([1, 1]);
    expect(out.integrity).toBe("ok");
  }, 180_000);
});
