/**
 * One report, four renderings (issue 20 item 5): the CLI's text summary, report.md, report.json and
 * the wizard's summary screen are all rendered from ONE CutoverReport value, so they show the same
 * numbers, the same problems and the same roll-back command (a path with a quote, quoted once).
 */
import { describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { render } from "ink-testing-library";
import { Box, Text } from "ink";
import type React from "react";
import { wrappedHeight } from "../../src/ui/format.js";
import { Output } from "../../src/cli/output.js";
import { printReport } from "../../src/cli/commands/cutover.js";
import { writeReports } from "../../src/report/render.js";
import { rowsSentence } from "../../src/report/final.js";
import type { CutoverReport } from "../../src/report/cutover-report.js";
import { Summary } from "../../src/ui/screens/Summary.js";
import { initialState } from "../../src/ui/state.js";
import type { Engine } from "../../src/ui/useEngine.js";
import { shellQuote } from "../../src/util/shell.js";
import { tmp } from "../helpers.js";

const db = "/d/it's.db";
const rollback = `vox-cutover cutover --db ${shellQuote(db)} --rollback --apply`;

function oneReport(workDir: string): CutoverReport {
  return {
    mode: "apply",
    outcome: "completed",
    runId: "run-7",
    planDigest: "d1",
    before: { chain: "legacy" },
    after: { chain: "baseline" },
    workDir,
    backup: { path: `${workDir}/backup.jsonl`, verified: true, sha256: "ab".repeat(32) },
    archive: { path: `${workDir}/archive/vox.db` },
    newPath: null,
    tables: [
      { name: "users", target: "users", rowsBefore: 1200, rowsAfter: 1190, quarantined: 10 },
      { name: "notes", target: "notes", rowsBefore: 34, rowsAfter: 34, quarantined: 0 },
    ],
    quarantined: 10,
    final: { tables: [{ name: "users", rows: 1190 }], voxRows: 1224, quarantineRows: 13, ledgerRows: 1, sequences: 0 },
    sidecar: { path: "/d/sidecar.db", merged: true, tables: [{ name: "runs", rows: 5, present: 1, merged: 1, conflicts: 3 }] },
    quarantineTable: { rows: 13, byReason: { "not-null": 10, "sidecar-conflict": 3 } },
    steps: [
      { id: "export", stage: 1, kind: "write", title: "Back up", status: "done", summary: "1,234 rows" },
      {
        id: "sidecar",
        stage: 2,
        kind: "destructive",
        title: "Merge the sidecar",
        status: "done",
        summary: "merged",
        warnings: ["3 sidecar conflict(s) put in legacy_quarantine"],
      },
    ],
    rollbackCommand: rollback,
    resumeCommand: null,
    message: "",
    durationMs: 12,
  };
}

describe("one report value, four renderings", () => {
  it("text, report.md, report.json and the wizard's summary show the same rows, problems, quarantine and roll-back command", () => {
    const dir = tmp("vox-report-");
    const r = oneReport(dir);
    r.durationMs = 16475;

    // 1. The CLI's text summary.
    const stdout = new PassThrough();
    const chunks: string[] = [];
    stdout.on("data", (c: Buffer) => chunks.push(c.toString()));
    printReport(new Output(false, "cutover", stdout, new PassThrough()), r);
    const text = chunks.join("");

    // 2 and 3. report.md and report.json, as the engine writes them.
    writeReports(r, dir);
    const md = readFileSync(join(dir, "report.md"), "utf8");
    const json = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as Record<string, any>;

    // 4. The wizard's summary screen.
    const s = { ...initialState(), screen: "summary" as const, report: r, db };
    const engine = { s, quit() {}, askRollback() {} } as unknown as Engine;
    const ink = render(<Summary e={engine} cols={300} rows={60} />);
    // ink-testing-library draws 100 columns: a wrapped line is joined again at its space.
    const screen = (ink.lastFrame() ?? "").replace(/ *\n */g, " ");
    ink.unmount();

    const rows = rowsSentence(r);
    expect(rows).toBe(
      "1,234 rows in the old file → 1,224 rows in the final file (after Stages 2–4; sqlite3 count(*)), 13 (10 from the import, 3 sidecar conflicts) in legacy_quarantine",
    );
    for (const [name, out] of [
      ["text", text],
      ["report.md", md],
      ["wizard", screen],
    ] as const) {
      expect(out, name).toContain(rows);
      expect(out, name).toContain(rollback);
    }
    expect(json.rollbackCommand).toBe(rollback);
    expect([json.final.voxRows, json.final.quarantineRows, json.quarantineTable.rows]).toEqual([1224, 13, 13]);
    // One quarantine number, its parts named, in every rendering (the import's 10 alone was report.json's total).
    expect([json.quarantined, json.quarantinedParts]).toEqual([13, { import: 10, sidecarConflicts: 3, sidecarOther: 0 }]);
    expect(md).toContain("- quarantined rows: 13: 10 from the import, 3 sidecar conflicts (legacy_quarantine holds 13 row(s)");
    expect(md).toMatch(/^- time: 16,475 ms$/m); // the one number format

    // The same one problem everywhere: the wizard's headline counts it, the text and report.md list it.
    expect(screen).toContain("Done with 1 problem: legacy → baseline");
    expect(screen).toContain("Merge the sidecar: 3 sidecar conflict(s) put in legacy_quarantine");
    expect(text).toContain("problems: 1 ");
    expect(md).toContain("- sidecar: 3 sidecar conflict(s) put in legacy_quarantine\n");
    expect((json.steps as { warnings?: string[] }[]).flatMap((x) => x.warnings ?? [])).toEqual(["3 sidecar conflict(s) put in legacy_quarantine"]);

    // legacy_quarantine in one sentence, in report.md and on the screen.
    const q = "legacy_quarantine holds 13 row(s): 10 not-null, 3 sidecar-conflict";
    expect(md).toContain(q);
    expect(screen).toContain(q);
  });
});

describe("the wizard's summary fits the rows it has (a small terminal never scrolls the header away)", () => {
  const frame = (node: React.ReactElement) => {
    const ink = render(node);
    const out = ink.lastFrame() ?? "";
    ink.unmount();
    return out.split("\n");
  };

  it("wrappedHeight counts the lines Ink's wrap gives: words move whole, long paths break where they start", () => {
    const words = [
      "a",
      "Backup:",
      "/tmp/vt-abcdef/home-operator-data/vox-cutover-runs/20261203T044825Z/backup.jsonl",
      "(verified)",
      "rows",
      "1,755",
      "→",
      "x".repeat(61),
      "legacy_quarantine",
    ];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 200; i++) {
      const cols = 20 + (next() % 50);
      const text = Array.from({ length: 1 + (next() % 12) }, () => words[next() % words.length]).join(" ");
      const lines = frame(
        <Box width={cols}>
          <Text wrap="wrap">{text}</Text>
        </Box>,
      );
      expect(wrappedHeight(text, cols), `${cols}: ${text}`).toBe(lines.length);
    }
  });

  it("at 60×20 with long paths, problems, a sidecar and a rehearsal: the headline, the archive and the roll-back command are whole, the rest gives way", () => {
    const deep = "/home/operator/.local/share/vox-production-data/vox-cutover-runs/20261203T044825Z";
    const r = oneReport(deep);
    r.steps.push({
      id: "news",
      stage: 4,
      kind: "write",
      title: "Publication/news",
      status: "done",
      summary: "ok",
      warnings: ["12 publication digest mismatch(es)"],
    });
    const s = {
      ...initialState(),
      screen: "summary" as const,
      report: r,
      db,
      rehearsal: true,
      original: "/home/operator/vox.db",
      scratch: "/tmp/vox-rehearsal-x1",
    };
    const engine = { s, quit() {}, askRollback() {} } as unknown as Engine;
    // 60×20 with the rehearsal badge: the frame (header, badge, tabs, blank, footer, cursor) leaves 14.
    for (const [cols, rows] of [
      [60, 14],
      [60, 15],
      [100, 28],
    ] as const) {
      const lines = frame(
        <Box width={cols} flexDirection="column">
          <Summary e={engine} cols={cols} rows={rows} />
        </Box>,
      );
      expect(lines.length, lines.join("\n")).toBeLessThanOrEqual(rows);
      const joined = lines.join("").replace(/\s+/g, "");
      expect(lines[0]).toMatch(/^! Done with 2 problems: legacy → baseline/);
      expect(joined).toContain(`Archive:${deep}/archive/vox.db(theoldfile,neverdeleted)`);
      expect(joined).toContain(`Rollback:${rollback}`.replace(/\s+/g, ""));
      expect(joined).toContain("Next:vox-cutover--db/home/operator/vox.db");
      if (cols === 100) expect(joined).toContain("Publication/news:12publicationdigestmismatch(es)");
      else expect(lines.join(" ").replace(/\s+/g, " ")).toContain("(report.md lists them)");
    }
  });
});
