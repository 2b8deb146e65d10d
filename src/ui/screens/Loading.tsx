import { Text } from "ink";
import type { ScreenProps } from "./common.js";

export function Loading({ e }: ScreenProps) {
  return <Text wrap="wrap">{e.s.loading}</Text>;
}
