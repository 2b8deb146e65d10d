import { Box, Text } from "ink";
import { displaySteps, wrappedHeight } from "../format.js";
import { Steps } from "../components.js";
import { stoppingText } from "../notes.js";
import { useNow, type ScreenProps } from "./common.js";

export function Running({ e, cols, rows }: ScreenProps) {
  const s = e.s;
  const now = useNow(500);
  const stop = stoppingText(s);
  // The latest note is read whole (wrapped) on a terminal of 24 body rows or more, where the steps
  // still fit beside it; on a small one it keeps one line, cut (the steps cannot fold below one
  // line per stage, and the header naming the database must stay on screen).
  const note = !stop.length ? s.notes.at(-1) : undefined;
  const whole = note !== undefined && rows >= 24 && rows - 2 - wrappedHeight(note, cols) >= 16;
  const noteLines = note === undefined ? 0 : whole ? wrappedHeight(note, cols) - 1 : 0;
  return (
    <Box flexDirection="column">
      <Steps steps={displaySteps(s)} cols={cols} now={now} maxLines={Math.max(4, rows - 2 - noteLines - stop.length * 2)} />
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
