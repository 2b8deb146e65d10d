import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildCorpusFile, OPERATOR_OBJECTS } from "../fixtures/corpus.js";
import { cli, sqlite, tmp } from "../helpers.js";

/** Name → SQL of the indexes, triggers and views of a file, read by the sqlite3 CLI. */
function objectsOf(db: string): Map<string, string> {
  const out = sqlite(
    db,
    "SELECT name || char(9) || replace(sql, char(10), ' ') FROM sqlite_master WHERE type IN ('index', 'trigger', 'view') AND sql IS NOT NULL",
  );
  return new Map(
    out
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("\t") as [string, string]),
  );
}

describe("the operator's own indexes, triggers and views (rebuild route)", () => {
  it("carries what still compiles against the new file, names the rest with SQL and reason in the dry-run, --json and the report", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    buildCorpusFile("vox66-adhoc", db, { seed: 5, rows: 4, operatorObjects: true });
    // diagnose names them and what a rebuild will do with each (the same verdict as the import's).
    const diag = await cli(["diagnose", "--db", db, "--json"]);
    expect(diag.exitCode, diag.stderr).toBe(0);
    const diagText = await cli(["diagnose", "--db", db]);
    expect(diagText.stdout).toContain("not carried: view op_bookmarks");
    const dry = await cli(["cutover", "--db", db]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    // The text dry-run names each object that will not be carried, with its SQL.
    for (const o of OPERATOR_OBJECTS.filter((x) => !x.carries)) {
      expect(dry.stdout).toContain(`not carried: ${o.sql.split(" ")[1]!.toLowerCase()} ${o.name}`);
      expect(dry.stdout).toContain(o.sql);
    }
    expect(dry.stdout).toContain("not carried: index idx_user_bookmarks_added");
    const dj = await cli(["cutover", "--db", db, "--json"]);
    expect(dj.exitCode, dj.stderr).toBe(0);
    const notCarried = new Map((dj.json.objects.notCarried as { name: string; sql: string; reason: string }[]).map((o) => [o.name, o]));
    expect([...notCarried.keys()].sort()).toEqual(["idx_user_bookmarks_added", "op_bookmarks", "op_users_forget"]);
    expect(notCarried.get("op_bookmarks")!.reason).toMatch(/no such table: .*user_bookmarks/);
    expect(notCarried.get("op_users_forget")!.reason).toMatch(/body does not compile.*no such table: .*user_kv/);
    expect((dj.json.objects.carried as { name: string }[]).map((o) => o.name).sort()).toEqual(["op_user_names", "op_users_display", "op_users_touch"]);
    expect(diag.json.operatorObjects).toEqual(dj.json.objects);

    const app = await cli(["cutover", "--db", db, "--apply", "--plan", dj.json.planDigest, "--json"]);
    expect(app.exitCode, app.stderr).toBe(0);
    expect(app.json.objects).toEqual(dj.json.objects);
    const after = objectsOf(db);
    const before = objectsOf(app.json.archive.path);
    // Carried: same name, same SQL, in the new file; the others only in the archive.
    for (const o of OPERATOR_OBJECTS) {
      expect(before.get(o.name), o.name).toBe(o.sql);
      expect(after.get(o.name), o.name).toBe(o.carries ? o.sql : undefined);
    }
    expect(after.has("idx_user_bookmarks_added")).toBe(false);
    // The carried trigger works in the new file and did not fire during the import.
    expect(sqlite(db, "SELECT count(*) FROM users WHERE display_name <> trim(display_name)")).toBe(
      sqlite(app.json.archive.path, "SELECT count(*) FROM users WHERE display_name <> trim(display_name)"),
    );
    const id = sqlite(db, "SELECT id FROM users ORDER BY id LIMIT 1");
    sqlite(db, `UPDATE users SET display_name = '  padded  ' WHERE id = '${id}'`);
    expect(sqlite(db, `SELECT display_name FROM users WHERE id = '${id}'`)).toBe("padded");
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
    const md = readFileSync(join(app.json.workDir, "report.md"), "utf8");
    expect(md).toContain("## Indexes, triggers and views the target does not define");
    expect(md).toContain("**not carried**: view `op_bookmarks`");
    expect(md).toContain(OPERATOR_OBJECTS.find((o) => o.name === "op_bookmarks")!.sql);
  }, 180_000);
});
