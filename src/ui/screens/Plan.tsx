import { Box, Text } from "ink";
import { stepsOf } from "../state.js";
import { Menu } from "../components.js";
import { human, plainTitle, wrappedHeight as height } from "../format.js";
import type { ScreenProps } from "./common.js";
import { READ_WHOLE_HEADING } from "../../report/final.js";
import { plural } from "../../util/count.js";

export function Plan({ e, rows, cols }: ScreenProps) {
  const s = e.s;
  const steps = stepsOf(s).filter((x) => x.stage > 0);
  // The engine's trial import, when it sends one with the plan (optional).
  const trial = (
    s.report as
      { trial?: { rowsIn: number; loaded: number; quarantined: number; columnsToQuarantine?: unknown[]; readWhole?: unknown[]; kept?: string } } | undefined
  )?.trial;
  const trialText = trial
    ? `Trial import (${trial.kept ? "the apply's export and build, kept for it" : "into a scratch folder, removed"}): ${human(trial.loaded)} of ${human(trial.rowsIn)} rows would load, ${human(trial.quarantined)} go to legacy_quarantine${trial.columnsToQuarantine?.length ? `; values of ${trial.columnsToQuarantine.length} column(s) kept in quarantine` : ""}${trial.readWhole?.length ? `; ${READ_WHOLE_HEADING.toLowerCase()} in ${plural(trial.readWhole.length, "table")} (the swap's confirmation names them)` : ""}`
    : "";
  const backupText = `Backup: ${s.backupPath}`;
  const asksText = "Destructive steps stop and ask for the file's name, with the evidence, before they start.";
  const line = (x: (typeof steps)[number]) =>
    `  ${x.stage} ${x.kind === "destructive" ? "[destructive] " : x.kind === "write" ? "[writes] " : ""}${plainTitle(x.title)}`;
  // What always shows: the title, the trial, the backup path and the menu (3); the steps get the
  // rest — all of them, else those that write, else the destructive ones — and on a small terminal
  // the sentence about confirmations goes (the confirmation screen itself says it).
  const fixed = 1 + (trialText ? height(trialText, cols) : 0) + height(backupText, cols) + 3 + 1;
  const asks = rows - fixed - height(asksText, cols) >= steps.length;
  const room = rows - fixed - (asks ? height(asksText, cols) : 0);
  const fits = (xs: typeof steps) => xs.reduce((n, x) => n + height(line(x), cols), 0) <= room;
  const writes = steps.filter((x) => x.kind !== "read");
  const shown = fits(steps) ? steps : fits(writes) ? writes : steps.filter((x) => x.kind === "destructive");
  const others = steps.length - shown.length;
  const readOnly = steps.filter((x) => x.kind === "read" && !shown.includes(x)).length;
  return (
    <Box flexDirection="column">
      <Text bold>{`The plan (digest ${s.digest})`}</Text>
      {shown.map((x) => (
        <Text key={x.id} wrap="wrap">
          {line(x)}
        </Text>
      ))}
      {others ? (
        <Text
          dimColor
        >{`  … and ${others} more step(s)${readOnly === others ? " (read-only checks)" : readOnly ? ` (${readOnly} of them read-only)` : " that write"}`}</Text>
      ) : null}
      {trialText ? <Text wrap="wrap">{trialText}</Text> : null}
      <Text wrap="wrap">{backupText}</Text>
      {asks ? <Text wrap="wrap">{asksText}</Text> : null}
      <Menu
        options={[
          { label: "Start", value: "start" },
          { label: "Back", value: "back" },
          { label: "Quit (nothing was changed)", value: "quit" },
        ]}
        onSelect={(v) => (v === "quit" ? e.quit() : v === "back" ? e.back() : e.start())}
      />
    </Box>
  );
}
