import { Box, Text } from "ink";
import { displaySteps } from "../format.js";
import { Menu, Steps } from "../components.js";
import { wroteSomething } from "../notes.js";
import type { ScreenProps } from "./common.js";

export function Stopped({ e, cols, rows }: ScreenProps) {
  const s = e.s;
  // A small terminal: the message (what, untouched, next) and the choices, whole; the steps are in the journal and report.md.
  const compact = rows < 20;
  return (
    <Box flexDirection="column">
      {s.run.plan.length && !s.rollingBack && !compact ? <Steps steps={displaySteps(s)} cols={cols} now={0} maxLines={Math.max(3, rows - 8)} /> : null}
      <Text bold color="red">
        {s.stopped?.title}
      </Text>
      <Text wrap="wrap">{s.stopped?.message}</Text>
      {s.started && wroteSomething(s) && !(compact && s.stopped?.title === "Cancelled") ? (
        <Text wrap="wrap">The next start of the wizard offers Resume (where it can succeed) or Roll back.</Text>
      ) : null}
      {s.stopped?.title === "Cancelled" && s.started ? (
        <Menu
          options={[
            { label: "Resume now (asks again before that step)", value: "resume" },
            { label: "Leave (the run stays recorded; the next start offers Resume / Roll back)", value: "leave" },
          ]}
          onSelect={(v) => (v === "resume" ? e.resumeHere() : e.quit())}
        />
      ) : null}
      {s.started && !wroteSomething(s) ? <Text wrap="wrap">It stopped during the preconditions, before anything was written: nothing was changed.</Text> : null}
    </Box>
  );
}
