import { useEffect, useLayoutEffect, useRef, useState } from "react";
import type { Engine } from "../useEngine.js";

export interface ScreenProps {
  e: Engine;
  cols: number;
  /** Lines the body may use. */
  rows: number;
}

/**
 * The time a screen is drawn at, for what it shows of elapsed time or stale progress. `shown(t)` is
 * the clock-dependent text the screen would draw at time t; the clock moves on only when that text
 * changes (looked at every `ms`), so the screen is drawn again when a shown second changes, not on
 * every tick (a frame of the whole screen costs the wizard several milliseconds of CPU). With no such
 * text (nothing runs) there is no timer at all.
 */
export function useClock(shown: (now: number) => string, ms = 250): number {
  const [now, setNow] = useState(() => Date.now());
  const text = shown(now);
  const view = useRef(shown);
  const drawn = useRef(text);
  useLayoutEffect(() => {
    view.current = shown;
    drawn.current = text;
  });
  const ticking = text !== "";
  useEffect(() => {
    if (!ticking) return;
    const t = setInterval(() => {
      const at = Date.now();
      if (view.current(at) !== drawn.current) setNow(at);
    }, ms);
    return () => clearInterval(t);
  }, [ticking, ms]);
  return now;
}
