import { Box, Text } from "ink";
import { TextField } from "../components.js";
import type { ScreenProps } from "./common.js";

export function BackupPath({ e }: ScreenProps) {
  const s = e.s;
  return (
    <Box flexDirection="column">
      <Text bold>Stage 1 — Where should the backup go?</Text>
      <Text wrap="wrap">
        Every row is written here and verified before anything else happens. The folder must exist (the run's own folder is created for you); the file must not.
      </Text>
      <TextField key={`b${s.attempt}`} initial={s.backupPath} onChange={e.setBackup} onSubmit={e.submitBackup} />
      {s.backupError ? <Text color="red" wrap="wrap">{`✗ ${s.backupError}`}</Text> : <Text color="green">✓ looks good</Text>}
    </Box>
  );
}
