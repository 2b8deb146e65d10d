/**
 * Engine events to the screen in batches: one reducer action (one React render) per burst instead of
 * one per message. The worker posts every event as its own message, and a step's end is a burst
 * (step-done, step-start, a note: Stage 0's ten steps take a few milliseconds); each message used to
 * be a render of the whole screen.
 *
 * - An event that is not row progress is delivered on the next turn of the event loop (setImmediate:
 *   after every message already waiting), with whatever arrived before it, in order.
 * - Row progress (a `step-progress` still short of its total) is delivered at most every
 *   `progressMs`: the first at once, later ones when the interval has passed, the last one never
 *   lost (a timer delivers it). Of several reports of one step in a row only the latest is kept —
 *   the screen shows the latest, and the rate is measured between deliveries.
 * - `flush()` delivers what waits at once: before a decision request or a run's result, so the
 *   screen never shows a question or a summary ahead of the steps that led to it.
 */
import type { EngineEvent } from "../engine/events.js";

const isRowProgress = (e: EngineEvent) => e.type === "step-progress" && e.done < e.total;

interface EventPump {
  push(e: EngineEvent): void;
  flush(): void;
  /** Drops what waits and stops the timers (the wizard is closing). */
  dispose(): void;
}

export function eventPump(deliver: (events: EngineEvent[], now: number) => void, progressMs = 100): EventPump {
  let queue: EngineEvent[] = [];
  let lastProgress = -Infinity;
  let soon: ReturnType<typeof setImmediate> | null = null;
  let later: ReturnType<typeof setTimeout> | null = null;
  const stop = () => {
    if (soon) clearImmediate(soon);
    if (later) clearTimeout(later);
    soon = later = null;
  };
  const flush = () => {
    stop();
    if (!queue.length) return;
    const batch = queue;
    queue = [];
    const now = Date.now();
    if (batch.some(isRowProgress)) lastProgress = now;
    deliver(batch, now);
  };
  return {
    push(e) {
      const prev = queue.at(-1);
      // The latest report of a step replaces the one before it (nothing between them to keep in order).
      if (e.type === "step-progress" && prev?.type === "step-progress" && prev.id === e.id && isRowProgress(prev)) queue[queue.length - 1] = e;
      else queue.push(e);
      if (soon) return;
      const wait = isRowProgress(e) ? lastProgress + progressMs - Date.now() : 0;
      if (wait <= 0) {
        if (later) clearTimeout(later);
        later = null;
        soon = setImmediate(flush);
      } else if (!later) later = setTimeout(flush, wait);
    },
    flush,
    dispose() {
      stop();
      queue = [];
    },
  };
}
