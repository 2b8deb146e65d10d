/**
 * The target's own text (issue "the whole file", item 4): the new file's FTS5 tables and their sync
 * triggers are stored with vox's exact DDL (schema-66.json `fts5_sql`, `triggers`: note
 * `COALESCE(new.content, '')`), and the structure comparison includes trigger bodies. Judged with
 * Python's sqlite3 against the facts file, not with the code that wrote them.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { execaSync } from "execa";
import { join } from "node:path";
import { cli, makeBaselineDb, makeVoxDb, tmp, voxFactsFile } from "../helpers.js";

/** Per vox trigger / FTS table: does the file store vox's exact text? (python3 reads both files.) */
function exactText(db: string): Record<string, boolean> {
  const py = `
import json, sqlite3, sys
ref = json.load(open(sys.argv[2]))
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
got = dict(c.execute("SELECT name, sql FROM sqlite_master WHERE type IN ('trigger', 'table')"))
out = {t["name"]: got.get(t["name"]) == t["sql"] for t in ref["triggers"]}
out.update({n: got.get(n) == s for n, s in ref["fts5_sql"].items()})
print(json.dumps(out))`;
  return JSON.parse(execaSync("python3", ["-c", py, db, voxFactsFile("66")]).stdout);
}

/** vox's knowledge_nodes_fts_ai as an older generator wrote it: no COALESCE (same name, same table, another body). */
const OLD_AI = `DROP TRIGGER knowledge_nodes_fts_ai;
CREATE TRIGGER knowledge_nodes_fts_ai AFTER INSERT ON knowledge_nodes BEGIN
  INSERT INTO knowledge_nodes_fts(rowid, id, label, content) VALUES (new.rowid, new.id, new.label, new.content);
END;`;

let dir: string;
beforeAll(() => {
  dir = tmp("vox-test-triggers-");
});

describe("the target's own trigger and FTS text", () => {
  it("a file built on the baseline stores vox's exact CREATE VIRTUAL TABLE and CREATE TRIGGER text", async () => {
    const db = join(dir, "new.db");
    const r = await cli(["migrate", "--db", db, "--apply"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const exact = exactText(db);
    expect(Object.keys(exact).sort()).toEqual(
      ["knowledge_nodes_fts", "knowledge_nodes_fts_ad", "knowledge_nodes_fts_ai", "knowledge_nodes_fts_au", "search_document_chunks_fts", "search_document_chunks_fts_ad", "search_document_chunks_fts_ai", "search_document_chunks_fts_au"],
    );
    expect(Object.values(exact).every(Boolean), JSON.stringify(exact)).toBe(true);
  });

  it("a trigger with another body is a structure difference: verify names it (1), migrate replaces it with vox's text", async () => {
    const db = join(dir, "old-trigger.db");
    makeBaselineDb(db);
    execaSync("python3", ["-c", "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.executescript(sys.argv[2])\nc.commit()", db, OLD_AI]);
    expect(exactText(db).knowledge_nodes_fts_ai).toBe(false);
    const v = await cli(["verify", "--db", db]);
    expect(v.exitCode, v.stderr).toBe(1);
    expect(v.stdout + v.stderr).toMatch(/knowledge_nodes_fts_ai: trigger text is not the target's/);
    const m = await cli(["migrate", "--db", db, "--apply", "--json"]);
    expect(m.exitCode, m.stderr).toBe(0);
    expect(m.stdout + m.stderr).toMatch(/replace 1 trigger\(s\) whose text is not the target's \(knowledge_nodes_fts_ai\)/);
    expect(Object.values(exactText(db)).every(Boolean)).toBe(true);
  });

  it("a vox 60 file cut over gets vox 66's trigger text, and its FTS index holds every row", async () => {
    const db = join(dir, "v60.db");
    makeVoxDb(db, "60", [59, 60, 100], "INSERT INTO knowledge_nodes (id, label, content) VALUES ('k1', 'a', NULL), ('k2', 'b', 'text');");
    const r = await cli(["cutover", "--db", db, "--apply"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(Object.values(exactText(db)).every(Boolean), JSON.stringify(exactText(db))).toBe(true);
    const n = execaSync("python3", ["-c", "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nprint(c.execute(\"SELECT count(*) FROM knowledge_nodes_fts WHERE knowledge_nodes_fts MATCH 'text'\").fetchone()[0], c.execute('SELECT count(*) FROM knowledge_nodes').fetchone()[0])", db]).stdout;
    expect(n).toBe("1 2");
  });
});
