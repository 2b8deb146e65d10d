import { useEffect, useState } from "react";
import type { Engine } from "../useEngine.js";

export interface ScreenProps {
  e: Engine;
  cols: number;
  /** Lines the body may use. */
  rows: number;
}

/** A clock for screens that show elapsed time or stale progress. */
export function useNow(ms = 500): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
