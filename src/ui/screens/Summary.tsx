import { Box, Text } from "ink";
import { stepsOf } from "../state.js";
import { Menu, Steps } from "../components.js";
import { human, MARK, displaySteps } from "../format.js";
import { quarantineSentence, reportProblems, rowsSentence, sidecarLines } from "../../report/final.js";
import type { ScreenProps } from "./common.js";
import { shellQuote } from "../../util/shell.js";

export function Summary({ e, cols, rows }: ScreenProps) {
  const s = e.s;
  const r = s.report!;
  // Everything here is read from the one report value (src/report), as report.md, report.json and the text summary are.
  const problems = reportProblems(r).map((p) => `${p.title}: ${p.failed ? "failed — " : ""}${p.text}`);
  // A small terminal: one line per item (paths shortened in the middle), the steps left to the report.
  const compact = rows < 24;
  // Paths and commands wrap, never cut: an operator copies them from this screen.
  const w = "wrap";
  const conflicts = r.sidecar?.tables.reduce((n, t) => n + t.conflicts, 0) ?? 0;
  const headline = problems.length
    ? `Done with ${problems.length} problem${problems.length === 1 ? "" : "s"}: ${r.before.chain} → ${r.after.chain}`
    : `Done: ${r.before.chain} → ${r.after.chain}`;
  // A small terminal keeps the headline, the paths and the roll-back command whole (wrapped) and
  // leaves the lists (problems, sidecar tables, quarantine reasons) to report.md, saying so.
  return (
    <Box flexDirection="column">
      <Text
        bold
        color={problems.length ? undefined : "green"}
        wrap="wrap"
      >{`${problems.length ? MARK.warnings.icon : MARK.done.icon} ${headline}${s.rehearsal ? " (on the rehearsal copy)" : ""}${compact && problems.length ? " (report.md lists them)" : ""}`}</Text>
      {(compact ? [] : problems).map((p) => (
        <Text key={p} bold wrap="wrap">{`  ${MARK.warnings.icon} ${p}`}</Text>
      ))}
      {compact ? null : (
        <Steps steps={displaySteps(stepsOf(s), s.origin)} cols={cols} only={[2, 3, 4]} now={0} maxLines={Math.max(2, rows - 12 - problems.length)} />
      )}
      <Text wrap={w}>{`Backup:  ${r.backup.path ?? "-"}${r.backup.verified ? " (verified)" : " (not verified)"}`}</Text>
      <Text wrap={w}>{`Archive: ${r.archive.path ?? "-"} (the old file, never deleted)`}</Text>
      <Text wrap="wrap">{`Rows: ${rowsSentence(r)}${conflicts && !r.final ? `, ${human(conflicts)} sidecar conflict(s) quarantined` : ""}`}</Text>
      {sidecarLines(r)
        .slice(0, compact ? 0 : 6)
        .map((l) => (
          <Text key={l} wrap="wrap">
            {l.replace(/^sidecar:/, "Sidecar:")}
          </Text>
        ))}
      {r.quarantineTable && !compact ? <Text wrap={w}>{quarantineSentence(r)}</Text> : null}
      <Text wrap={w}>{compact ? `Report: ${r.workDir}/report.md` : `Report: ${r.workDir}/report.md (run ${r.runId})`}</Text>
      <Text wrap={w}>{`Roll back: ${r.rollbackCommand}`}</Text>
      {s.rehearsal && s.original ? (
        <Text wrap="wrap">{`Everything this rehearsal wrote is in ${s.scratch}; the real database ${s.original} was only read. Next: vox-cutover --db ${shellQuote(s.original)}`}</Text>
      ) : null}
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
