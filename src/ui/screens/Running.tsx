import { Box, Text } from "ink";
import { displaySteps, runningLines, wrappedHeight } from "../format.js";
import { Steps } from "../components.js";
import { stoppingText } from "../notes.js";
import { useClock, type ScreenProps } from "./common.js";

export function Running({ e, cols, rows }: ScreenProps) {
  const s = e.s;
  const steps = displaySteps(s);
  // Drawn again when a shown second or a stale-progress note changes, not on a fixed tick.
  const now = useClock((t) => steps.map((x) => runningLines(x, t, cols).join("\n")).join("\n"));
  const stop = stoppingText(s);
  // The latest note is read whole (wrapped) on a terminal of 24 body rows or more, where the steps
  // still fit beside it; on a small one it keeps one line, cut (the steps cannot fold below one
  // line per stage, and the header naming the database must stay on screen).
  const note = !stop.length ? s.notes.at(-1) : undefined;
  const whole = note !== undefined && rows >= 24 && rows - 2 - wrappedHeight(note, cols) >= 16;
  const noteLines = note === undefined ? 0 : whole ? wrappedHeight(note, cols) - 1 : 0;
  return (
    <Box flexDirection="column">
      <Steps steps={steps} cols={cols} now={now} maxLines={Math.max(4, rows - 2 - noteLines - stop.length * 2)} />
      {stop.map((l, i) => (
        <Text key={i} bold={i === 0} wrap="wrap">
          {l}
        </Text>
      ))}
      {note !== undefined ? (
        <Text dimColor wrap={whole ? "wrap" : "truncate-end"}>
          {note}
        </Text>
      ) : null}
    </Box>
  );
}
