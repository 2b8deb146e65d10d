import { Box, Text } from "ink";
import { Menu, Steps } from "../components.js";
import { human, MARK, displaySteps, wrappedHeight } from "../format.js";
import { quarantineSentence, reportProblems, rowsSentence, sidecarLines } from "../../report/final.js";
import type { ScreenProps } from "./common.js";
import { shellQuote } from "../../util/shell.js";

/** A line of the summary: its text, and the order in which it gives way on a small terminal (0: never). */
interface Line {
  key: string;
  text: string;
  drop: number;
  bold?: boolean;
}

export function Summary({ e, cols, rows }: ScreenProps) {
  const s = e.s;
  const r = s.report!;
  // Everything here is read from the one report value (src/report), as report.md, report.json and the text summary are.
  const problems = reportProblems(r).map((p) => `${p.title}: ${p.failed ? "failed — " : ""}${p.text}`);
  const conflicts = r.sidecar?.tables.reduce((n, t) => n + t.conflicts, 0) ?? 0;
  const headline = problems.length
    ? `Done with ${problems.length} problem${problems.length === 1 ? "" : "s"}: ${r.before.chain} → ${r.after.chain}`
    : `Done: ${r.before.chain} → ${r.after.chain}`;
  const head = `${problems.length ? MARK.warnings.icon : MARK.done.icon} ${headline}${s.rehearsal ? " (on the rehearsal copy)" : ""}`;
  const listed = " (report.md lists them)";
  // In screen order. Paths and commands wrap, never cut (an operator copies them from here); the
  // headline, the archive, the roll-back command and the rehearsal's note never give way; the
  // rest gives way in `drop` order (the lists first, then the rows, the backup, the report path)
  // until the screen fits the rows it has — the header naming the database stays on screen.
  const top: Line[] = [
    { key: "head", text: head, drop: 0, bold: true },
    ...problems.map((p, i) => ({ key: `p${i}`, text: `  ${MARK.warnings.icon} ${p}`, drop: 6, bold: true })),
  ];
  const sidecar = sidecarLines(r, "Sidecar").slice(0, 6);
  const bottom: Line[] = [
    { key: "backup", text: `Backup:  ${r.backup.path ?? "-"}${r.backup.verified ? " (verified)" : " (not verified)"}`, drop: 2 },
    { key: "archive", text: `Archive: ${r.archive.path ?? "-"} (the old file, never deleted)`, drop: 0 },
    { key: "rows", text: `Rows: ${rowsSentence(r)}${conflicts && !r.final ? `, ${human(conflicts)} sidecar conflict(s) quarantined` : ""}`, drop: 3 },
    ...sidecar.map((l, i) => ({ key: `s${i}`, text: l, drop: i ? 5 : 4 })),
    ...(r.quarantineTable ? [{ key: "q", text: quarantineSentence(r), drop: 4 }] : []),
    { key: "report", text: `Report: ${r.workDir}/report.md (run ${r.runId})`, drop: 1 },
    { key: "rollback", text: `Roll back: ${r.rollbackCommand}`, drop: 0 },
    ...(s.rehearsal && s.original
      ? [
          {
            key: "rehearsal",
            text: `Everything this rehearsal wrote is in ${s.scratch}; the real database ${s.original} was only read. Next: vox-cutover --db ${shellQuote(s.original)}`,
            drop: 0,
          },
        ]
      : []),
  ];
  const menu = 2;
  const height = (xs: Line[]) => xs.reduce((n, x) => n + wrappedHeight(x.text, cols), 0);
  let level = 7; // lines with drop < level are shown
  const shown = (xs: Line[]) => xs.filter((x) => x.drop < level);
  const fits = () => {
    const dropped = problems.length > 0 && level <= 6;
    const t = shown(top).map((x) => (x.key === "head" && dropped ? { ...x, text: head + listed } : x));
    return height(t) + height(shown(bottom)) + menu;
  };
  while (level > 1 && fits() > rows) level--;
  // The steps of Stages 2–4 take what is left, when there is room for two lines of them.
  const spare = rows - fits();
  const steps = level === 7 && spare >= 2;
  const headText = problems.length && level <= 6 ? head + listed : head;
  const render = (x: Line) => (
    <Text key={x.key} bold={x.bold} color={x.key === "head" && !problems.length ? "green" : undefined} wrap="wrap">
      {x.key === "head" ? headText : x.text}
    </Text>
  );
  return (
    <Box flexDirection="column">
      {shown(top).map(render)}
      {steps ? <Steps steps={displaySteps(s)} cols={cols} only={[2, 3, 4]} now={0} maxLines={spare} /> : null}
      {shown(bottom).map(render)}
      <Menu
        options={[
          { label: "Leave", value: "leave" },
          { label: "Roll back this cutover… (asks first)", value: "rollback" },
        ]}
        onSelect={(v) => (v === "leave" ? e.quit() : e.askRollback("summary"))}
      />
    </Box>
  );
}
