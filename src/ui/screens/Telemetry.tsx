import { Box, Text } from "ink";
import type { DecisionRequest } from "../../engine/events.js";
import { TextField } from "../components.js";
import type { ScreenProps } from "./common.js";

export function Telemetry({ e }: ScreenProps) {
  const r = e.s.request as Extract<DecisionRequest, { kind: "telemetry" }>;
  return (
    <Box flexDirection="column">
      <Text bold>Stage 3 — Telemetry consumers</Text>
      <Text wrap="wrap">JSONL files to check against the envelope contract (space-separated; ~ is your home; an empty line skips the check):</Text>
      {e.s.confirmError ? (
        <Text bold wrap="wrap">
          {e.s.confirmError}
        </Text>
      ) : null}
      <TextField key={`t${e.s.attempt}`} initial={e.s.draft ?? r.suggested.join(" ")} onSubmit={e.submitTelemetry} />
    </Box>
  );
}
