/**
 * A STRICT target table (a `--target-schema` file whose vox declares one): a value STRICT refuses is a
 * row the baseline cannot take, quarantined whole with SQLite's reason — the import never aborts for
 * it (contract: "Import, row by row"). libsql names SQLITE_CONSTRAINT_DATATYPE `UNKNOWN_SQLITE_ERROR_3091`,
 * so the refusal is told by SQLite's own code. An ANY column of a STRICT table keeps every value as it
 * is: nothing there is a type change. Judged with the sqlite3 CLI.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { cli, fixtureDb, makeBaselineDb, makeVoxDb, sqlite, tmp } from "../helpers.js";

let dir: string;
const p = (n: string) => join(dir, n);

/** vox 66's cost_records, STRICT, with `model` declared ANY. */
const STRICT_COST_RECORDS = `DROP TABLE cost_records;
CREATE TABLE cost_records (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  agent_id TEXT NOT NULL,
  session_id TEXT,
  tenant_id TEXT,
  provider TEXT NOT NULL,
  model ANY,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0.0,
  timestamp TEXT NOT NULL DEFAULT (datetime('now'))
) STRICT;`;

const ROWS = `INSERT INTO cost_records(id, agent_id, provider, model, input_tokens, output_tokens, cost_usd, timestamp) VALUES
  (1, 'a', 'p', 'm', 10, 20, 0.5, '2024'),
  (2, 'a', 'p', 'm', 'abc', 20, 0.5, '2024'),
  (3, 'a', 'p', 'm', 2.5, 20, 0.5, '2024'),
  (4, 'a', 'p', '123', 10, 20, 0.5, '2024'),
  (5, 'a', 'p', x'00ff', 10, 20, 0.5, '2024'),
  (6, 'a', 'p', 'm', 10, x'01', 0.5, '2024'),
  (7, 'a', 'p', 'm', 10, 20, 'free', '2024'),
  (8, 'a', 'p', 'x' || char(0) || 'y', 10, 20, 0.5, '2024');`;

let dry: any;
let apply: any;

beforeAll(async () => {
  dir = tmp("vox-strict-");
  makeBaselineDb(p("target.db"));
  const t = fixtureDb(p("target.db"));
  t.exec(STRICT_COST_RECORDS);
  t.close();
  makeVoxDb(p("vox.db"), "60", [60, 100], ROWS);
  const args = ["cutover", "--db", p("vox.db"), "--target-schema", p("target.db"), "--json"];
  const d = await cli(args);
  expect(d.exitCode, d.stderr).toBe(0);
  dry = d.json;
  const a = await cli([...args, "--apply", "--plan", dry.planDigest]);
  expect(a.exitCode, a.stderr).toBe(0);
  apply = a.json;
}, 120_000);

describe("a STRICT target table", () => {
  it("the dry-run and the apply account for every row: 4 load, 4 are quarantined, the run finishes", () => {
    for (const r of [dry, apply]) {
      expect(r.tables.find((t: any) => t.name === "cost_records")).toMatchObject({ rowsBefore: 8, rowsAfter: 4, quarantined: 4 });
    }
    expect(sqlite(p("vox.db"), "SELECT group_concat(id) FROM (SELECT id FROM cost_records ORDER BY id)")).toBe("1,4,5,8");
  });

  it("a value STRICT refuses is quarantined whole with SQLite's reason", () => {
    expect(sqlite(p("vox.db"), "SELECT source_rowid || ' ' || reason FROM legacy_quarantine WHERE source_table = 'cost_records' ORDER BY source_rowid")).toBe(
      [
        "2 constraint: cannot store TEXT value in INTEGER column cost_records.input_tokens",
        "3 constraint: cannot store REAL value in INTEGER column cost_records.input_tokens",
        "6 constraint: cannot store BLOB value in INTEGER column cost_records.output_tokens",
        "7 constraint: cannot store TEXT value in REAL column cost_records.cost_usd",
      ].join("\n"),
    );
    expect(sqlite(p("vox.db"), "SELECT row_json FROM legacy_quarantine WHERE source_rowid = 2 AND source_table = 'cost_records'")).toContain(
      '"input_tokens":"abc"',
    );
  });

  it("an ANY column keeps each value's storage class and bytes (numeric text stays TEXT: no type change there)", () => {
    expect(sqlite(p("vox.db"), "SELECT group_concat(id || ':' || typeof(model) || ':' || hex(model), ' ') FROM (SELECT * FROM cost_records ORDER BY id)")).toBe(
      "1:text:6D 4:text:313233 5:blob:00FF 8:text:780079",
    );
  });
});

describe("a STRICT target table and a value over the big-value size", () => {
  it("the row is kept whole in quarantine with the reason saying this version cannot load it there (never a type it does not hold); the run finishes", async () => {
    const d = tmp("vox-strict-big-");
    const q = (n: string) => join(d, n);
    makeBaselineDb(q("target.db"));
    const t = fixtureDb(q("target.db"));
    t.exec(STRICT_COST_RECORDS);
    t.close();
    makeVoxDb(
      q("vox.db"),
      "60",
      [60, 100],
      `INSERT INTO cost_records(id, agent_id, provider, model, input_tokens, output_tokens, cost_usd, timestamp) VALUES
        (1, 'a', 'p', 'm', 10, 20, 0.5, '2024'), (2, 'a', 'p', randomblob(300), 10, 20, 0.5, '2024');`,
    );
    const r = await cli(["cutover", "--db", q("vox.db"), "--target-schema", q("target.db"), "--apply"], { env: { VOX_CUTOVER_BIG_VALUE_BYTES: "64" } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(sqlite(q("vox.db"), "SELECT group_concat(id) FROM cost_records")).toBe("1");
    expect(sqlite(q("vox.db"), "SELECT source_rowid || ' ' || reason FROM legacy_quarantine WHERE source_table = 'cost_records'")).toMatch(
      /^2 constraint: cannot store BLOB value in INTEGER column cost_records\.input_tokens \(the row holds a value over 64 bytes, written into a table by BLOB placeholders that a STRICT table refuses: this version cannot load it into cost_records, so it is kept here whole\)$/,
    );
  }, 120_000);
});
