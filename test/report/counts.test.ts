/**
 * One set of numbers from one source: after a real cutover (Stages 1–4) the report, report.md and
 * the printed summary count the FINAL file, and every count agrees with sqlite3 (an independent
 * reader). The sidecar's tables are listed with their totals. One run per file.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { cli, sampleInto, sqlite, tmp } from "../helpers.js";
import { formatCount, plural } from "../../src/util/count.js";

let db: string;
let json: any;
let dry: any;
let stdout: string;
let md: string;

beforeAll(async () => {
  const dir = tmp();
  db = (await sampleInto(dir, 12)).db;
  // A column vox 66 dropped (its values go to legacy_quarantine beside their rows) and a sidecar column the new file lacks (a merged row's values, too).
  sqlite(db, "ALTER TABLE agents ADD COLUMN extra TEXT; UPDATE agents SET extra = 'e' || rowid;");
  sqlite(
    join(dir, "vox_training_telemetry.db"),
    "ALTER TABLE training_throughput_profiles ADD COLUMN gpu_note TEXT; UPDATE training_throughput_profiles SET gpu_note = 'n' WHERE rowid % 2 = 0;",
  );
  const d = await cli(["cutover", "--db", db, "--json"], { env: { VOX_CUTOVER_KEEP_TRIAL: "0" } }); // the apply builds its own file (its summary below)
  if (d.exitCode !== 0) throw new Error(d.stderr);
  dry = d.json;
  const r = await cli(["cutover", "--db", db, "--apply", "--json"]);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  json = r.json;
  stdout = r.stderr; // under --json the human text is on stderr
  const runs = join(dir, "vox-cutover-runs");
  md = readFileSync(join(runs, readdirSync(runs)[0]!, "report.md"), "utf8");
}, 120_000);

/** sqlite3's count(*) of every table of the file, read in one sqlite3 call. */
let counts: Map<string, number> | undefined;
function count(table: string): number {
  if (!counts) {
    const names = sqlite(db, "SELECT name FROM sqlite_master WHERE type='table'").trim().split("\n");
    const q = names.map((n) => `SELECT '${n.replace(/'/g, "''")}', count(*) FROM "${n.replace(/"/g, '""')}"`).join(" UNION ALL ");
    counts = new Map(
      sqlite(db, q)
        .trim()
        .split("\n")
        .map((l) => [l.slice(0, l.lastIndexOf("|")), Number(l.slice(l.lastIndexOf("|") + 1))]),
    );
  }
  if (!counts.has(table)) throw new Error(`sqlite3 does not see a table ${table}`);
  return counts.get(table)!;
}

describe("the report counts the final file, and sqlite3 agrees", () => {
  it("every table of the final file: the report's count is sqlite3's count(*)", () => {
    const tables: { name: string; rows: number }[] = json.final.tables;
    const inFile = sqlite(
      db,
      "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%\\_fts\\_%' ESCAPE '\\' AND sql NOT LIKE 'CREATE VIRTUAL%'",
    )
      .trim()
      .split("\n");
    for (const t of inFile)
      expect(
        tables.map((x) => x.name),
        `${t} missing from the report`,
      ).toContain(t);
    for (const t of tables) expect(t.rows, t.name).toBe(count(t.name));
    expect(json.final.quarantineRows).toBe(count("legacy_quarantine"));
    expect(json.final.sequences).toBe(count("sqlite_sequence"));
    const vox = tables.filter((t) => t.name !== "legacy_quarantine" && t.name !== "cutover_ledger").reduce((n, t) => n + count(t.name), 0);
    expect(json.final.voxRows).toBe(vox);
  });

  it("rowsAfter of a legacy table is its target's count in the final file (after Stages 2 and 4, not the import's)", () => {
    for (const t of json.tables as { name: string; target: string | null; rowsAfter: number }[]) {
      expect(t.rowsAfter, t.name).toBe(t.target ? count(t.target) : 0);
    }
    // Stage 4 copies legacy attempts into publication_attempts; Stage 2 merges sidecar rows: both are in the count.
    const pub = (json.tables as { target: string | null; rowsAfter: number }[]).find((t) => t.target === "publication_attempts");
    if (pub) expect(pub.rowsAfter).toBe(count("publication_attempts"));
  });

  it("the sidecar's tables are listed with their totals in the JSON, report.md and the printed summary", () => {
    const side: { name: string; rows: number; merged: number; conflicts: number }[] = json.sidecar.tables;
    expect(side.length).toBeGreaterThan(0);
    expect(md).toMatch(/## The sidecar \(Stage 2\)/);
    for (const t of side) expect(md).toContain(`| ${t.name} | ${formatCount(t.rows)} |`);
    const total = side.reduce((n, t) => n + t.rows, 0);
    expect(stdout).toContain(
      `sidecar: ${plural(side.length, "table")} (${formatCount(side.filter((t) => t.rows > 0).length)} with rows, listed), ${formatCount(total)} rows`,
    );
  });

  it("one quarantine number: --json's quarantined is sqlite3's count of legacy_quarantine, its parts named and summing to it, the same in report.md and the printed summary", () => {
    const total = count("legacy_quarantine");
    const [sidecar, other] = sqlite(
      db,
      "SELECT count(*) FILTER (WHERE reason = 'sidecar-conflict'), count(*) FILTER (WHERE reason LIKE 'sidecar-unknown-columns:%') FROM legacy_quarantine",
    )
      .split("|")
      .map(Number) as [number, number];
    expect(sidecar).toBeGreaterThan(0); // the sample's sidecar has conflicts: the case where the import's count alone was shown
    expect(other).toBeGreaterThan(0); // and a column the new file lacks: its values are the sidecar's, not the import's
    expect(json.quarantined).toBe(total);
    expect(json.quarantinedParts).toEqual({ import: total - sidecar - other, sidecarConflicts: sidecar, sidecarOther: other });
    const parts = `${formatCount(total - sidecar - other)} from the import, ${formatCount(sidecar)} sidecar conflicts, ${formatCount(other)} more from the sidecar`;
    expect(stdout).toContain(`${formatCount(total)} (${parts}) in legacy_quarantine`);
    expect(md).toContain(`${formatCount(total)} (${parts}) in legacy_quarantine`);
    expect(md).toContain(`- quarantined rows: ${formatCount(total)}: ${parts} (legacy_quarantine holds`);
    expect(md).toMatch(/^- time: \d{1,3}(,\d{3})* ms$/m); // the one number format
  });

  it("the dry-run's quarantine number is the apply's: Stage 1's table (partial rows' values included) and what Stage 2's merge adds to it", () => {
    expect(json.quarantineTable.byReason).toMatchObject({ "unknown-columns": count("agents"), "sidecar-unknown-columns": expect.any(Number) });
    expect(dry.quarantineTable).toEqual(json.quarantineTable);
    expect([dry.quarantined, dry.quarantinedParts]).toEqual([json.quarantined, json.quarantinedParts]);
  });

  it("one sentence, one number format, saying whose numbers they are", () => {
    const before = (json.tables as { rowsBefore: number }[]).reduce((n, t) => n + t.rowsBefore, 0);
    const sentence = `${formatCount(before)} rows in the old file → ${formatCount(json.final.voxRows)} rows in the final file (after Stages 2–4; sqlite3 count(*)), ${formatCount(json.final.quarantineRows)} (${formatCount(json.quarantinedParts.import)} from the import, ${formatCount(json.quarantinedParts.sidecarConflicts)} sidecar conflicts, ${formatCount(json.quarantinedParts.sidecarOther)} more from the sidecar) in legacy_quarantine`;
    expect(stdout).toContain(`rows: ${sentence}`);
    expect(md).toContain(`- rows: ${sentence}`);
    expect(md).toMatch(/Rows after: in the final file/);
    // no bare 4+ digit counts in the markdown tables
    for (const l of md.split("\n").filter((x) => /^\| [^|]+ \| [\d,]+ \|/.test(x))) expect(l).not.toMatch(/\| \d{4,} \|/);
  });

  it("every step's summary writes its counts in the one format (2,090 rows loaded, never 2090)", () => {
    const steps = json.steps as { id: string; summary: string }[];
    expect(steps.find((s) => s.id === "build-import")!.summary).toMatch(/^\d{1,3}(,\d{3})+ rows loaded, [\d,]+ quarantined/);
    for (const s of steps) {
      // paths (run folders carry a timestamp) and hashes are not counts
      const words = s.summary.replace(/\/\S+/g, "").replace(/\b(0x)?[0-9a-f]{16,}\b/g, "");
      expect(words, s.id).not.toMatch(/(?<![\w.:-])\d{4,}(?![\w.:-])/);
    }
  });

  it("verify's summary counts table hashes without sqlite_sequence (176 tables, not 177)", () => {
    const verify = (json.steps as { id: string; summary: string }[]).find((s) => s.id === "verify-backup")!;
    const exp = (json.steps as { id: string; summary: string }[]).find((s) => s.id === "export")!;
    const tables = Number(/of ([\d,]+) tables?/.exec(exp.summary)![1]!.replace(/,/g, ""));
    expect(verify.summary).toContain(`${formatCount(tables)} table hashes`);
  });
});

describe("formatCount", () => {
  it("groups thousands, keeps bigints exact", () => {
    expect(formatCount(34662)).toBe("34,662");
    expect(formatCount(9007199254740993n)).toBe("9,007,199,254,740,993");
    expect(plural(1, "table")).toBe("1 table");
    expect(plural(176, "table")).toBe("176 tables");
  });
});
