import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { ROOT, fixtureDb, sqlite, tmp } from "../helpers.js";
import { duplicateTextVersion, versionDecision } from "../../src/backup/version-rows.js";
import { loadImporters } from "../../src/backup/importers.js";
import { baselineSql, loadManifest } from "../../src/schema/manifest.js";
import type * as ExportModule from "../../src/backup/export.js";
import type * as ImportModule from "../../src/backup/import.js";

const { exportBackup } = (await import(join(ROOT, "dist/src/backup/export.js"))) as typeof ExportModule;
const { importBackup } = (await import(join(ROOT, "dist/src/backup/import.js"))) as typeof ImportModule;

describe("schema_version rows", () => {
  const hist = new Set([60n]);
  it.each([
    [66n, { load: 66n, fromText: false }],
    [60n, { load: 60n, fromText: false }],
    ["66", { load: 66n, fromText: true }],
    ["60", { load: 60n, fromText: true }],
  ] as const)("%s loads", (v, want) => {
    expect(versionDecision(v, 66n, hist)).toEqual(want);
  });
  it.each([
    [100n, /not the baseline nor in baseline_history/],
    ["066", /the TEXT "066" names baseline 66 but is not its exact number/],
    [" 60", /the TEXT " 60" names 60 of baseline_history but is not its exact number/],
    ["66.0", /names baseline 66 but is not its exact number/],
    ["100", /the TEXT "100" is not the baseline nor in baseline_history/],
    ["sixty-six", /the TEXT "sixty-six" is not the baseline/],
    [66.0, /a REAL version/],
    [null, /a NULL version/],
  ] as const)("%s is quarantined with a reason naming it", (v, re) => {
    const d = versionDecision(v, 66n, hist);
    expect("quarantine" in d && d.quarantine).toMatch(re);
    expect("quarantine" in d && d.quarantine).toMatch(/^legacy-schema-version: /);
  });

  it("an import: a TEXT '60' loads as the INTEGER 60; a TEXT '66' beside an INTEGER 66 is quarantined as the baseline's number stored as TEXT", async () => {
    const dir = tmp();
    const src = join(dir, "src.db");
    const db = fixtureDb(src);
    // An untyped column (no affinity): it holds 66 as an INTEGER and '66' as TEXT side by side.
    db.exec("CREATE TABLE schema_version (version, applied_at TEXT)");
    db.exec("INSERT INTO schema_version VALUES ('66', 'text-66'), (66, 'int-66'), ('60', 'text-60'), ('066', 'odd'), ('100', 'adhoc')");
    db.close();
    const manifest = loadManifest();
    const backup = join(dir, "b.jsonl");
    await exportBackup({ dbPath: src, outPath: backup, chain: "legacy", maxVersion: 66, baseline: { version: manifest.baselineVersion, digest: "x" } });
    const out = join(dir, "new.db");
    const r = await importBackup({
      backupPath: backup,
      targetPath: out,
      baselineSql: baselineSql(manifest.fragments),
      baselineVersion: 66,
      history: [60],
      rules: loadImporters(),
      into: "target",
    });
    // Read back by the sqlite3 CLI: the loaded versions are INTEGERs with their own applied_at.
    expect(sqlite(out, "SELECT version, typeof(version), applied_at FROM schema_version ORDER BY version")).toBe("60|integer|text-60\n66|integer|int-66");
    expect(sqlite(out, "SELECT source_rowid, reason FROM legacy_quarantine WHERE source_table = 'schema_version' ORDER BY source_rowid")).toBe(
      [
        `1|${duplicateTextVersion("66", 66n, 66n)}`,
        '4|legacy-schema-version: the TEXT "066" names baseline 66 but is not its exact number; kept here, not loaded',
        '5|legacy-schema-version: the TEXT "100" is not the baseline nor in baseline_history; kept here, not loaded',
      ].join("\n"),
    );
    expect(
      sqlite(out, "SELECT json_extract(row_json, '$.version'), json_extract(row_json, '$.applied_at') FROM legacy_quarantine WHERE source_rowid = 1"),
    ).toBe("66|text-66");
    const sv = r.tables.find((t) => t.source === "schema_version")!;
    expect(sv).toMatchObject({ rows: 5, loaded: 2, quarantined: 3 });
  }, 60_000);
});
