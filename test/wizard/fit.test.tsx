/**
 * Screens size themselves from the rows they have (issue 19 point 8): at 60×20 the reopen screen
 * keeps where the run stopped, what happened to the original and the choices, and lets the folder
 * and file paths give way, so the header naming the database is not scrolled off the terminal.
 */
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers.js";
import { render } from "ink-testing-library";
import { Box } from "ink";
import { Unfinished } from "../../src/ui/screens/Unfinished.js";
import { Confirm } from "../../src/ui/screens/Confirm.js";
import { EMPTY_RUN } from "../../src/engine/run-state.js";
import { initialState, type WizardState as State, type StepView } from "../../src/ui/state.js";
import { Steps } from "../../src/ui/components.js";
import { wrapWords } from "../../src/ui/format.js";
import type { Engine } from "../../src/ui/useEngine.js";

const deep = "/home/operator/.local/share/vox-production-data";

function frame(s: State, cols: number, rows: number): string[] {
  const e = { s, resume() {}, quit() {}, askRollback() {} } as unknown as Engine;
  const ink = render(
    <Box width={cols} flexDirection="column">
      <Unfinished e={e} cols={cols} rows={rows} />
    </Box>,
  );
  const out = ink.lastFrame() ?? "";
  ink.unmount();
  return out.split("\n");
}

describe("the reopen screen fits the rows it has", () => {
  const s = {
    ...initialState(),
    screen: "unfinished",
    db: `${deep}/vox.db`,
    inspection: {
      unfinished: {
        workDir: `${deep}/vox-cutover-runs/20261203T050946Z`,
        startedAt: "2026-12-03T05:10:01.533Z",
        lastStep: "primary-unchanged",
        lastStepTitle: "Primary unchanged since the export",
        lastStepStage: 1,
        nextStepTitle: "Swap: archive the old file, put the new one in its place",
        nextStepStage: 1,
        swapPhase: "none",
        runId: "r",
        interrupted: true,
        resumable: true,
        backupPath: `${deep}/vox-cutover-runs/20261203T050946Z/backup.jsonl`,
        backupExists: true,
        newExists: true,
        newPath: `${deep}/.vox.db.vox-cutover-new`,
      },
    },
  } as unknown as State;

  it("60×20 (14 body rows): where it stopped, the original, the backup and Resume stay; the folder and the new file give way", () => {
    const lines = frame(s, 60, 14);
    expect(lines.length, lines.join("\n")).toBeLessThanOrEqual(14);
    const flat = lines.join(" ").replace(/\s+/g, " ");
    expect(flat).toContain(
      `It stopped before "Swap: archive the old file, put the new one in its place" in Stage 1 (Legacy chain), after "Primary unchanged since the export" finished`,
    );
    expect(flat).toContain("The original vox.db was never moved.");
    expect(lines.join("").replace(/\s+/g, "")).toContain(`Backup:${deep}/vox-cutover-runs/20261203T050946Z/backup.jsonl`);
    expect(flat).toMatch(/▸ Resume it/);
    expect(flat).toMatch(/Quit \(leave the run as it is\)/);
  });

  it("100×34: every line, the folder and the new file included", () => {
    const flat = frame(s, 100, 28).join(" ").replace(/\s+/g, " ");
    expect(flat).toContain(`Recorded in ${deep}/vox-cutover-runs/20261203T050946Z`);
    expect(flat).toContain(`The unfinished new file: ${deep}/.vox.db.vox-cutover-new`);
  });
});

describe("the swap's confirmation fits 60×20 with every part of its evidence", () => {
  it("values read whole (issue 17), quarantine, orphans, objects not carried: the gist names each, wrapped whole, in 14 body rows", () => {
    const evidence = {
      tables: [{ name: "users", target: "users", rowsIn: 100, loaded: 73, quarantined: 27, reasons: { "not-null": 27 }, partial: 0, columns: [] }],
      rowsIn: 3313,
      loaded: 3286,
      quarantined: 27,
      partial: 0,
      columnsToQuarantine: [{ table: "users", column: "karma", nonNull: 47 }],
      orphans: [{ table: "votes", count: 51 }],
      sequences: { entries: 0, restored: 0, quarantined: 0 },
      objects: { carried: [], notCarried: [{ type: "view", name: "op_bm", table: "bm", sql: "CREATE VIEW op_bm AS SELECT 1", reason: "no such table" }] },
      readWhole: [{ table: "own_wr", values: 1, reason: "WITHOUT ROWID: each value above 64 KB was read whole by the export" }],
      backupVerified: true,
    };
    const s = {
      ...initialState(),
      screen: "confirm",
      db: `${deep}/vox.db`,
      request: {
        kind: "confirm",
        step: "swap",
        title: "Swap: archive the old file, put the new one in its place",
        description: `move vox.db to ${deep}/vox-cutover-runs/20261203T050946Z/archive/vox.db and put the new file in its place`,
        expected: "vox.db",
      },
      run: { ...EMPTY_RUN, importEvidence: evidence },
    } as unknown as State;
    const e = { s, submitConfirm() {} } as unknown as Engine;
    const ink = render(
      <Box width={60} flexDirection="column">
        <Confirm e={e} cols={60} rows={14} />
      </Box>,
    );
    const lines = (ink.lastFrame() ?? "").split("\n");
    ink.unmount();
    expect(lines.length, lines.join("\n")).toBeLessThanOrEqual(14);
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(60);
    const flat = lines.join(" ").replace(/\s+/g, " ");
    expect(flat).toContain(
      "1 column(s) to quarantine, 51 FK orphan(s) kept, 1 index/trigger/view not carried, large values read whole in 1 table (report.md will list all)",
    );
    expect(flat).toContain("Type vox.db to proceed; Esc cancels");
  });
});

describe("the steps list, folded to one line per row, leaves no blank line", () => {
  it("a row that wrapped to two lines, then cut to one when the list had to fold, takes one line", () => {
    const step = (id: string, title: string, status: StepView["status"] = "pending") => ({ id, stage: 1, kind: "read", title, status }) as StepView;
    const steps = [
      step("export", "Export every row to the backup", "running"),
      step("swap", "Swap: archive the old file, put the new one in its place, checking nobody holds the old file"),
      step("ledger", "Ledger row"),
    ];
    const view = (maxLines: number) => (
      <Box width={60} flexDirection="column">
        <Steps steps={steps} cols={60} now={0} maxLines={maxLines} />
      </Box>
    );
    const ink = render(view(40));
    expect((ink.lastFrame() ?? "").split("\n")).toHaveLength(4); // the swap's row wraps to two
    ink.rerender(view(3));
    const lines = (ink.lastFrame() ?? "").split("\n");
    ink.unmount();
    expect(
      lines.filter((l) => !l.trim()),
      lines.join("\n"),
    ).toEqual([]);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/Swap: archive .*…$/);
  });
});

describe("colours read on light and dark backgrounds", () => {
  it("no screen of the wizard uses yellow, white, black or gray text (each vanishes on one background); marks carry a word besides", () => {
    const dir = join(ROOT, "src", "ui");
    const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => /\.tsx?$/.test(f));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const text = readFileSync(join(dir, f), "utf8");
      expect(text, f).not.toMatch(/color[=:]\s*\{?\s*["'](yellow|white|black|gray|grey|yellowBright|whiteBright|blackBright)["']/);
    }
  });
});

describe("the exit note on a narrow terminal", () => {
  it("wraps at spaces: every line fits, no word is cut, the words read back the same", () => {
    const note =
      "Cancelled before swap: the confirmation was not given. Nothing of swap was done; everything before it is recorded in the journal. Resume: vox-cutover cutover --db /tmp/vox-screens/60x20/vox.db --resume --apply · Roll back: vox-cutover cutover --db /tmp/vox-screens/60x20/vox.db --rollback --apply The next start of the wizard offers Resume / Roll back.";
    for (const cols of [40, 60, 100]) {
      const lines = wrapWords(note, cols).split("\n");
      for (const l of lines) expect([...l].length, l).toBeLessThanOrEqual(cols);
      expect(lines.join(" ")).toBe(note);
    }
    expect(wrapWords("x".repeat(45), 20).split("\n")).toEqual(["x".repeat(20), "x".repeat(20), "x".repeat(5)]);
  });
});
