import { Box, Text } from "ink";
import type { DecisionRequest } from "../../engine/events.js";
import { TextField } from "../components.js";
import { evidenceFrom, type Evidence } from "../evidence.js";
import { confirmTarget } from "../notes.js";
import { EvidenceGist, EvidenceView } from "./Evidence.js";
import { SidecarTables } from "./Sidecar.js";
import type { ScreenProps } from "./common.js";

/** A destructive step asks for the name of the file it acts on, with the evidence on the same screen. */
export function Confirm({ e, rows }: ScreenProps) {
  const s = e.s;
  const r = s.request as Extract<DecisionRequest, { kind: "confirm" }>;
  const target = confirmTarget(s);
  const compact = rows < 22;
  const evidence: Evidence = evidenceFrom(s.run, r.evidence, s.report?.backup.path ?? undefined);
  // A small terminal: what the step does wraps whole (it names where the file goes), the evidence
  // shrinks to its gist (wrapped, never cut mid-sentence), the prompt to one line.
  return (
    <Box flexDirection="column">
      <Text bold wrap="wrap">{`Destructive step: ${compact ? r.title.replace(/:.*$/, "") : r.title}`}</Text>
      <Text wrap="wrap">{`It will ${r.description}.`}</Text>
      {r.step === "sidecar" ? (
        <SidecarTables tables={s.sidecarTables ?? []} max={Math.max(1, rows - 9)} />
      ) : compact ? (
        <EvidenceGist evidence={evidence} />
      ) : (
        <EvidenceView evidence={evidence} maxTables={Math.max(0, rows - 17)} />
      )}
      <Text wrap="wrap">
        {compact
          ? `Type ${target} to proceed; Esc cancels (nothing of it is done).`
          : `Type the file's name (${target}) to proceed; Esc cancels this step (nothing of it is done).`}
      </Text>
      {s.confirmError ? (
        <Text bold wrap="wrap">
          {s.confirmError}
        </Text>
      ) : null}
      {s.emptyAnswer ? <Text bold wrap="wrap">{`An empty answer confirms nothing and cancels nothing: type ${target}, or Esc to cancel.`}</Text> : null}
      <TextField key={`c${s.attempt}`} onSubmit={e.submitConfirm} />
    </Box>
  );
}
