import { describe, expect, it } from "vitest";
import { execaSync } from "execa";
import { join } from "node:path";
import { cli, makeVoxDb, fixtureDb, makeBaselineDb, sha256, sha3sum, sqlite, tmp } from "../helpers.js";

/** Python: the independent checker for values and digests. */
function py(db: string, code: string): string {
  return execaSync("python3", ["-c", `import sqlite3, json, hashlib, sys\ncon = sqlite3.connect(sys.argv[1])\n${code}`, db]).stdout.trim();
}

/** Independent digest: Python's hashlib.sha3_256 over json.dumps(sort_keys, compact, ensure_ascii=False) of the row's content fields. */
function pyDigestOf(db: string, id: string): string {
  return py(
    db,
    `con.text_factory = lambda b: b.decode('utf-8')
cols = ['publication_id','content_type','source_ref','title','author','abstract_text','body_markdown','citations_json','metadata_json']
row = con.execute('SELECT ' + ','.join(cols) + ' FROM publication_manifests WHERE publication_id = ?', (${JSON.stringify(id)},)).fetchone()
print(hashlib.sha3_256(json.dumps(dict(zip(cols, row)), sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode('utf-8')).hexdigest())`,
  );
}

const FIELDS = ["publication_id", "content_type", "source_ref", "title", "author", "abstract_text", "body_markdown", "citations_json", "metadata_json"];
const T = 1736933400000;

/** Manifests, news and legacy attempts with vox 66's columns; digests set by Python afterwards. */
function fill(db: string): void {
  const f = fixtureDb(db);
  const ins = f.prepare(
    `INSERT INTO publication_manifests(${FIELDS.join(", ")}, content_sha3_256, version, state, created_at_ms, updated_at_ms) VALUES (${FIELDS.map(() => "?").join(", ")}, 'to-be-set', 1, 'published', ?, ?)`,
  );
  ins.run("pub-good", "news", null, `Zoë's "release" — 東京 🚀`, "ops", "a\nb\tc", "# Release\n\nbody", "[]", null, BigInt(T), BigInt(T));
  ins.run("pub-edited", "news", "git:abc", "Title", "ops", null, "original body", '[{"doi":"10.1/x"}]', '{"k":1}', BigInt(T), BigInt(T));
  ins.run("pub-nul", "article", null, "with NUL", "ops", null, "keep", null, null, BigInt(T), BigInt(T));
  f.exec(`UPDATE publication_manifests SET body_markdown = 'keep' || char(0) || 'this' WHERE publication_id = 'pub-nul';`);
  f.exec(`INSERT INTO published_news(news_id, published_at_ms, github_release_id, twitter_tweet_id, opencollective_update_id, content_sha3_256) VALUES
            ('pub-good', ${T}, 'r1', NULL, NULL, 'to-be-set'),
            ('news-null', ${T + 1}, NULL, '1880000000000000001', NULL, NULL),
            ('news-empty', ${T + 2}, NULL, NULL, 'oc-9', '');
          INSERT INTO news_publish_attempts(id, news_id, content_sha3_256, attempted_at_ms, result_json) VALUES
            (1, 'pub-good', 'd1', ${T}, '{"github":"ok"}'),
            (2, 'news-null', 'd2', ${T + 5}, '{"twitter":"error: 429"}'),
            (3, 'news-null', 'd2', ${T + 5}, '{"twitter":"error: 429"}'),
            (7, 'gone', 'd3', 9223372036854775807, '{"opencollective":"ok","unicode":"ü"}');
          -- one legacy attempt someone already copied by hand: not copied again
          INSERT INTO publication_attempts(publication_id, content_sha3_256, channel, attempted_at_ms, outcome_json) VALUES ('pub-good', 'd1', 'legacy_news_publish', ${T}, '{"github":"ok"}');`);
  f.close();
  // Python computes the stored digests; pub-edited's body then changes (a stored digest that no longer matches)
  py(
    db,
    `con.text_factory = lambda b: b.decode('utf-8')
cols = ['publication_id','content_type','source_ref','title','author','abstract_text','body_markdown','citations_json','metadata_json']
for row in con.execute('SELECT ' + ','.join(cols) + ' FROM publication_manifests').fetchall():
    d = hashlib.sha3_256(json.dumps(dict(zip(cols, row)), sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode('utf-8')).hexdigest()
    con.execute('UPDATE publication_manifests SET content_sha3_256 = ? WHERE publication_id = ?', (d, row[0]))
con.execute("UPDATE published_news SET content_sha3_256 = (SELECT content_sha3_256 FROM publication_manifests WHERE publication_id = 'pub-good') WHERE news_id = 'pub-good'")
con.execute("UPDATE publication_manifests SET body_markdown = 'edited body' WHERE publication_id = 'pub-edited'")
con.commit()`,
  );
}

describe("news-check (Stage 4) on vox 66's tables", () => {
  it("digests agree with Python's hashlib.sha3_256 (unicode, NUL inside text, NULL fields); a stale stored digest is a mismatch (exit 1); NULL/empty news digests are listed", async () => {
    const d = tmp();
    const db = join(d, "vox.db");
    makeBaselineDb(db, [66]);
    fill(db);
    const before = sha256(db);
    const r = await cli(["news-check", "--db", db, "--json"]);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.json.command).toBe("news-check");
    expect(r.json.mode).toBe("dry-run");
    expect(r.json.manifests).toBe(3);
    const stored = sqlite(db, "SELECT content_sha3_256 FROM publication_manifests WHERE publication_id = 'pub-edited'");
    expect(r.json.mismatches).toEqual([{ table: "publication_manifests", id: "pub-edited", stored, computed: pyDigestOf(db, "pub-edited") }]);
    expect(r.json.missingDigest).toEqual(["news-empty", "news-null"]);
    expect(r.json.legacyAttempts).toEqual({ pending: 3, copied: 0 });
    expect(r.json.absent).toEqual([]);
    expect(sha256(db)).toBe(before);
  });

  it("--apply copies the legacy attempts once (publication_id ← news_id, channel legacy_news_publish, same digest and time, outcome_json ← result_json), keeps the legacy rows and every stored digest; a second --apply changes nothing", async () => {
    const d = tmp();
    const db = join(d, "vox.db");
    makeBaselineDb(db, [66]);
    fill(db);
    const digestsBefore = [sha3sum(db, "publication_manifests"), sha3sum(db, "published_news"), sha3sum(db, "news_publish_attempts")];
    const r = await cli(["news-check", "--db", db, "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(1); // the stale manifest digest is still reported, never rewritten
    expect(r.json.mode).toBe("apply");
    expect(r.json.legacyAttempts).toEqual({ pending: 3, copied: 3 });
    expect([sha3sum(db, "publication_manifests"), sha3sum(db, "published_news"), sha3sum(db, "news_publish_attempts")]).toEqual(digestsBefore);
    expect(sqlite(db, "SELECT count(*) FROM news_publish_attempts")).toBe("4");
    // judged with Python: values and storage classes
    const rows = JSON.parse(
      py(
        db,
        `print(json.dumps([list(r) for r in con.execute("SELECT publication_id, typeof(publication_id), content_sha3_256, channel, attempted_at_ms, typeof(attempted_at_ms), outcome_json FROM publication_attempts ORDER BY id")]))`,
      ),
    );
    expect(rows).toEqual([
      ["pub-good", "text", "d1", "legacy_news_publish", T, "integer", '{"github":"ok"}'],
      ["news-null", "text", "d2", "legacy_news_publish", T + 5, "integer", '{"twitter":"error: 429"}'],
      ["news-null", "text", "d2", "legacy_news_publish", T + 5, "integer", '{"twitter":"error: 429"}'],
      ["gone", "text", "d3", "legacy_news_publish", 9223372036854775807, "integer", '{"opencollective":"ok","unicode":"ü"}'],
    ]);
    expect(sqlite(db, "SELECT command, json_extract(counts_json, '$.copied') FROM cutover_ledger")).toBe("news-check|3");
    const after = sha256(db);
    const again = await cli(["news-check", "--db", db, "--apply", "--json"]);
    expect(again.json.legacyAttempts).toEqual({ pending: 0, copied: 0 });
    expect(sha256(db)).toBe(after);
    expect(sqlite(db, "SELECT count(*) FROM publication_attempts")).toBe("4");
  });

  it("exit 0 when no digest mismatches (missing news digests are warnings); a vox-made file without vox-cutover's tables gets its ledger row", async () => {
    const d = tmp();
    const db = join(d, "vox.db");
    makeVoxDb(db, "66", [59, 60, 61, 62, 63, 64, 66]);
    fill(db);
    execaSync("sqlite3", [db, "DELETE FROM publication_manifests WHERE publication_id = 'pub-edited'"]);
    const r = await cli(["news-check", "--db", db, "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.ok).toBe(true);
    expect(r.json.mismatches).toEqual([]);
    expect(r.json.missingDigest).toEqual(["news-empty", "news-null"]);
    expect(r.stderr).toMatch(/2 news row\(s\) without a digest \(warning\)/);
    expect(r.json.legacyAttempts.copied).toBe(3);
    expect(sqlite(db, "SELECT count(*) FROM publication_attempts WHERE channel = 'legacy_news_publish'")).toBe("4");
    expect(sqlite(db, "SELECT command FROM cutover_ledger")).toBe("news-check");
  });

  it("older files: tables that are absent are reported, not a crash (vox's incremental era has none; a file without news_publish_attempts)", async () => {
    const d = tmp();
    const old = join(d, "old.db");
    makeVoxDb(
      old,
      "v1-v23",
      Array.from({ length: 23 }, (_, i) => i + 1),
    );
    const before = sha256(old);
    const r = await cli(["news-check", "--db", old, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.absent).toEqual(["publication_manifests", "published_news", "news_publish_attempts", "publication_attempts"]);
    expect(r.json).toMatchObject({ manifests: 0, mismatches: [], missingDigest: [], legacyAttempts: { pending: 0, copied: 0 } });
    expect(r.stderr).toMatch(/table publication_manifests is not in this file/);
    expect(sha256(old)).toBe(before);
    const apply = await cli(["news-check", "--db", old, "--apply", "--json"]);
    expect(apply.exitCode, apply.stderr).toBe(0);
    expect(sha256(old)).toBe(before);

    const partial = join(d, "partial.db");
    makeBaselineDb(partial, [66]);
    fill(partial);
    execaSync("sqlite3", [partial, "DROP TABLE news_publish_attempts"]);
    const p = await cli(["news-check", "--db", partial, "--json"]);
    expect(p.exitCode).toBe(1); // the stale manifest digest is still found
    expect(p.json.absent).toEqual(["news_publish_attempts"]);
    expect(p.json.legacyAttempts).toEqual({ pending: 0, copied: 0 });
    expect(p.json.mismatches.map((m: any) => m.id)).toEqual(["pub-edited"]);
  });

  it("--apply with pending attempts on a legacy file is refused (exit 3), nothing touched", async () => {
    const d = tmp();
    const db = join(d, "vox.db");
    makeVoxDb(db, "66", [5, 66]); // row 5: not a vox baseline → legacy
    fill(db);
    const before = sha256(db);
    const r = await cli(["news-check", "--db", db, "--apply"]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/this one is legacy/);
    expect(r.stderr).toMatch(/Nothing was changed/);
    expect(sha256(db)).toBe(before);
    expect(sqlite(db, "SELECT count(*) FROM publication_attempts")).toBe("1");
  });
});
