import { Box, Text } from "ink";
import { displaySteps } from "../format.js";
import { Menu, Steps } from "../components.js";
import type { ScreenProps } from "./common.js";

const CHAIN: Record<string, string> = {
  legacy: "an old vox schema with ad-hoc versions: every row is exported to a verified backup and imported into a new file on the baseline; what does not fit is kept in legacy_quarantine.",
  behind: "an older baseline: it is brought forward in place after a verified backup.",
  empty: "an empty database: the baseline is applied.",
};

/** The chain in words; the diagnosis's own sentence (without its class name) when there is room. */
export function chainWords(chain: string | null | undefined, explanation: string | undefined, room = true): string {
  const plain = (explanation ?? "").replace(/^[A-Z][A-Za-z]+:\s*/, "");
  const first = plain.split(/(?<=[.;])\s/)[0] ?? "";
  return chain && CHAIN[chain] ? `This database is ${CHAIN[chain]}${room && first ? ` (${first.replace(/[.;]$/, "")})` : ""}` : plain;
}

export function Stage0({ e, cols, rows }: ScreenProps) {
  const s = e.s;
  const i = s.inspection;
  return (
    <Box flexDirection="column">
      <Text bold>Stage 0 — Preconditions (nothing is written)</Text>
      <Steps steps={displaySteps(s.steps, s.origin)} cols={cols} only={[0]} now={0} maxLines={Math.max(3, rows - (rows >= 24 ? 9 : 5))} />
      {s.preflightError ? <Text color="red" wrap="wrap">{`✗ failed: ${s.preflightError}`}</Text> : null}
      {rows >= 24 ? <Text wrap="wrap">{chainWords(i?.chain, i?.explanation)}</Text> : null}
      <Menu
        options={[
          ...(s.preflightError ? [{ label: "Check again", value: "again" }] : [{ label: "Continue to Stage 1", value: "go" }]),
          ...(!s.rehearsal && !s.preflightError ? [{ label: "Rehearse on a clone first", value: "rehearse" }] : []),
          { label: "Quit (nothing was changed)", value: "quit" },
        ]}
        onSelect={(v) => (v === "quit" ? e.quit() : v === "again" ? e.planAgain() : v === "rehearse" ? e.rehearseClone() : e.toBackup())}
      />
    </Box>
  );
}
