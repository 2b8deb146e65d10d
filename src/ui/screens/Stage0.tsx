import { Box, Text } from "ink";
import { displaySteps, escapeControls } from "../format.js";
import { startBlockers } from "../state.js";
import { Menu, Steps } from "../components.js";
import type { ScreenProps } from "./common.js";
import type { Inspection, TargetInfo } from "../protocol.js";

const CHAIN: Record<string, string> = {
  legacy:
    "an old vox schema with ad-hoc versions: every row is exported to a verified backup and imported into a new file on the baseline; what does not fit is kept in legacy_quarantine.",
  behind: "an older baseline: after a verified backup it is brought forward in a copy beside the file, which is then swapped in (the original is archived).",
  empty: "an empty database: the baseline is applied.",
};

/** The chain in words; with room, the rule that decided it (data from the diagnosis, never cut from its sentence). */
function chainWords(i: Pick<Inspection, "chain" | "reason" | "explanation"> | undefined, room = true): string {
  if (!i) return "";
  return i.chain && CHAIN[i.chain] ? `This database is ${CHAIN[i.chain]}${room && i.reason ? ` (${i.reason})` : ""}` : i.explanation;
}

/** The target in one line: where it comes from and, with a vox on PATH, whether it agrees with the bundled baseline. */
function targetWords(t: TargetInfo): string {
  const head = `Target: ${t.origin}${t.kind === "bundled" ? "" : ` (baseline ${t.version})`}`;
  if (!t.vox) return `${head}.`;
  if ("error" in t.vox) return `${head}. Your vox is on PATH but could not make a template: ${t.vox.error}`;
  const yours = `your vox${t.vox.voxVersion ? ` (${t.vox.voxVersion})` : ""} is at baseline ${t.vox.version}`;
  return t.vox.agrees
    ? `${head}; ${yours} and agrees with the bundled baseline.`
    : `${head}; ${yours} and differs from the bundled baseline ${t.vox.bundledVersion}${t.vox.differences ? ` in ${t.vox.differences} table(s)` : ""}.`;
}

export function Stage0({ e, cols, rows }: ScreenProps) {
  const s = e.s;
  const i = s.inspection;
  // The apply-time gates (src/safety, run by the engine's Stage 0): one that would refuse Start now
  // is shown here, in full and wrapped, and Continue is not offered until it is fixed.
  const blockers = startBlockers(s);
  const stopped = Boolean(s.preflightError) || blockers.length > 0;
  const all = displaySteps(s).filter((x) => x.stage === 0);
  // A small terminal with something to fix: the reason, whole, takes the room of the steps (the
  // checks that passed are one line; the step the reason belongs to is named in it).
  const fold = blockers.length > 0 && rows < 24;
  const passed = all.filter((x) => x.status === "done" && !x.warnings?.length).length;
  return (
    <Box flexDirection="column">
      <Text bold>Stage 0 — Preconditions (nothing is written)</Text>
      {fold ? (
        <Text>{`✓ ${passed} check(s) passed; Start would be refused now:`}</Text>
      ) : (
        <Steps steps={all} cols={cols} only={[0]} now={0} maxLines={Math.max(3, rows - (rows >= 24 ? 9 : 5))} hideWarnings={blockers.length > 0} />
      )}
      {s.preflightError ? <Text color="red" wrap="wrap">{`✗ failed: ${s.preflightError}`}</Text> : null}
      {blockers.map((b) => (
        <Text key={b} bold wrap="wrap">{`! ${escapeControls(b)}`}</Text>
      ))}
      {blockers.length && !fold ? (
        <Text wrap="wrap">Fix that, then Check again: Start is not offered while it would be refused. Nothing was changed.</Text>
      ) : null}
      {rows >= 24 ? <Text wrap="wrap">{chainWords(i)}</Text> : null}
      {i?.target && !fold ? <Text wrap="wrap">{targetWords(i.target)}</Text> : null}
      <Menu
        options={[
          ...(stopped ? [{ label: "Check again", value: "again" }] : [{ label: "Continue to Stage 1", value: "go" }]),
          ...(i?.target?.vox && "version" in i.target.vox && i.target.kind === "bundled" && !i.target.vox.agrees
            ? [{ label: `Use your vox's baseline ${i.target.vox.version} as the target instead`, value: "target-vox" }]
            : []),
          ...(i?.target?.kind === "vox"
            ? [
                {
                  label: `Use the bundled baseline ${i.target.vox && "version" in i.target.vox ? i.target.vox.bundledVersion : ""} instead`.replace(
                    / {2,}/g,
                    " ",
                  ),
                  value: "target-bundled",
                },
              ]
            : []),
          // A rehearsal works on a clone: an application holding the real file does not stop it.
          ...(!s.rehearsal && !s.preflightError ? [{ label: "Rehearse on a clone first", value: "rehearse" }] : []),
          { label: "Quit (nothing was changed)", value: "quit" },
        ]}
        onSelect={(v) =>
          v === "quit"
            ? e.quit()
            : v === "again"
              ? e.planAgain()
              : v === "rehearse"
                ? e.rehearseClone()
                : v === "target-vox"
                  ? e.setTarget("vox")
                  : v === "target-bundled"
                    ? e.setTarget("bundled")
                    : e.toBackup()
        }
      />
    </Box>
  );
}
