import { Text } from "ink";
import type { ScreenProps } from "./common.js";

export function Nothing({ e }: ScreenProps) {
  return <Text wrap="wrap">{e.s.report?.message}</Text>;
}
