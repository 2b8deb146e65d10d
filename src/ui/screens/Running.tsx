import { Box, Text } from "ink";
import { displaySteps } from "../format.js";
import { Steps } from "../components.js";
import { stoppingText } from "../notes.js";
import { useNow, type ScreenProps } from "./common.js";

export function Running({ e, cols, rows }: ScreenProps) {
  const s = e.s;
  const now = useNow(500);
  const stop = stoppingText(s);
  return (
    <Box flexDirection="column">
      <Steps steps={displaySteps(s)} cols={cols} now={now} maxLines={Math.max(4, rows - 2 - stop.length * 2)} />
      {stop.map((l, i) => (
        <Text key={i} bold={i === 0} wrap="wrap">
          {l}
        </Text>
      ))}
      {!stop.length && s.notes.length ? (
        <Text dimColor wrap="truncate-end">
          {s.notes.at(-1)}
        </Text>
      ) : null}
    </Box>
  );
}
