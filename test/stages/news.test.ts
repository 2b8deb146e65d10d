import { describe, expect, it } from "vitest";
import { execaSync } from "execa";
import { join } from "node:path";
import { cli, fixtureDb, makeBaselineDb, sha256, sqlite, tmp } from "../helpers.js";

/** Independent digest: Python's hashlib.sha3_256 over json.dumps(sort_keys, compact, ensure_ascii=False). */
function pySha3(content: Record<string, unknown>): string {
  const code = "import sys, json, hashlib; d = json.loads(sys.stdin.read()); print(hashlib.sha3_256(json.dumps(d, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode('utf-8')).hexdigest())";
  return execaSync("python3", ["-c", code], { input: JSON.stringify(content) }).stdout.trim();
}

const FIELDS = ["publication_id", "content_type", "source_ref", "title", "author", "abstract_text", "body_markdown", "citations_json", "metadata_json"];

function manifest(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { publication_id: id, content_type: "article", source_ref: null, title: `Zoë's "title" ${id} — 東京 🚀`, author: "ops", abstract_text: "a\nb\tc", body_markdown: "# H\n\nbody", citations_json: "[]", metadata_json: null, ...over };
}

describe("news-check (Stage 4)", () => {
  it("golden digests match Python's hashlib.sha3_256; mismatches, NULL and empty digests are reported; attempts copied once", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    makeBaselineDb(db);
    const f = fixtureDb(db);
    const ins = f.prepare(`INSERT INTO publication_manifests(${FIELDS.join(", ")}, content_sha3_256) VALUES (${FIELDS.map(() => "?").join(", ")}, ?)`);
    const good = manifest("p-good");
    const bad = manifest("p-bad");
    const goodDigest = pySha3(good);
    expect(goodDigest).toMatch(/^[0-9a-f]{64}$/);
    ins.run(...(FIELDS.map((k) => good[k]) as never[]), goodDigest);
    ins.run(...(FIELDS.map((k) => bad[k]) as never[]), pySha3({ ...bad, title: "edited" }));
    ins.run(...(FIELDS.map((k) => manifest("p-null")[k]) as never[]), null);
    f.exec(`INSERT INTO published_news(news_id, publication_id, title, content_sha3_256) VALUES ('n1', 'p-good', 't', '${goodDigest}'), ('n2', 'p-bad', 't', NULL), ('n3', 'p-null', 't', '');
            INSERT INTO news_publish_attempts(id, news_id, channel, content_sha3_256, result_json, attempted_at) VALUES (1, 'n1', 'rss', '${goodDigest}', '{"ok":true}', '2025-01-01'), (2, 'n2', 'mastodon', NULL, '{"ok":false}', '2025-01-02'), (3, 'gone', 'email', NULL, NULL, '2025-01-03');`);
    f.close();
    const r = await cli(["news-check", "--db", db, "--json"]);
    expect(r.exitCode).toBe(1);
    expect(r.json.mode).toBe("dry-run");
    expect(r.json.mismatches.map((m: any) => m.id).sort()).toEqual(["p-bad", "p-null"]);
    expect(r.json.mismatches.find((m: any) => m.id === "p-bad").computed).toBe(pySha3(bad));
    expect(r.json.missingDigest).toEqual(["n2", "n3"]);
    expect(r.json.legacyAttempts).toEqual({ pending: 3, copied: 0 });
    const storedBefore = sqlite(db, "SELECT group_concat(coalesce(content_sha3_256, 'NULL')) FROM publication_manifests");
    const a = await cli(["news-check", "--db", db, "--apply", "--json"]);
    expect(a.json.legacyAttempts).toEqual({ pending: 3, copied: 3 });
    expect(sqlite(db, "SELECT publication_id, channel, outcome_json, attempted_at, legacy_attempt_id FROM publication_attempts ORDER BY legacy_attempt_id")).toBe(
      "p-good|legacy_news_publish|{\"ok\":true}|2025-01-01|1\np-bad|legacy_news_publish|{\"ok\":false}|2025-01-02|2\ngone|legacy_news_publish||2025-01-03|3",
    );
    expect(sqlite(db, "SELECT count(*) FROM news_publish_attempts")).toBe("3");
    const b = await cli(["news-check", "--db", db, "--apply", "--json"]);
    expect(b.json.legacyAttempts).toEqual({ pending: 0, copied: 0 });
    expect(sqlite(db, "SELECT count(*) FROM publication_attempts")).toBe("3");
    expect(sqlite(db, "SELECT group_concat(coalesce(content_sha3_256, 'NULL')) FROM publication_manifests")).toBe(storedBefore);
  });

  it("all digests correct: exit 0 (missing news digests are warnings)", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    makeBaselineDb(db);
    const f = fixtureDb(db);
    const m = manifest("only");
    f.prepare(`INSERT INTO publication_manifests(${FIELDS.join(", ")}, content_sha3_256) VALUES (${FIELDS.map(() => "?").join(", ")}, ?)`).run(...(FIELDS.map((k) => m[k]) as never[]), pySha3(m));
    f.exec("INSERT INTO published_news(news_id, title) VALUES ('n', 't')");
    f.close();
    const r = await cli(["news-check", "--db", db, "--json"]);
    expect(r.exitCode).toBe(0);
    expect(r.json.missingDigest).toEqual(["n"]);
  });

  it("--apply on a legacy database is refused (exit 3), untouched", async () => {
    const dir = tmp();
    await cli(["sample", join(dir, "vox.db"), "--rows", "5"]);
    const before = sha256(join(dir, "vox.db"));
    const r = await cli(["news-check", "--db", join(dir, "vox.db"), "--apply"]);
    expect(r.exitCode).toBe(3);
    expect(sha256(join(dir, "vox.db"))).toBe(before);
  });
});
