/** Small building blocks: a text field and a menu whose callbacks are read from refs (stable input handlers). */
import { Box, Text, type Key } from "ink";
import { createContext, useCallback, useContext, useLayoutEffect, useRef, useState } from "react";
import { escapeControls, MARK, markOf, plainTitle, runningLines } from "./format.js";
import type { StepView } from "./state.js";

export type KeyHandler = (input: string, key: Key) => void;

/**
 * The one input route: the App reads stdin once and hands keys it does not take to the focused field
 * or menu. Registration happens in a layout effect (at commit), so a key that arrives right after a
 * screen appears goes to that screen's field, never to a stale one or nowhere.
 */
export interface FocusSlot {
  set(h: KeyHandler): void;
  clear(h: KeyHandler): void;
}
export const FocusContext = createContext<FocusSlot>({ set() {}, clear() {} });

function useFocus(handler: KeyHandler) {
  const slot = useContext(FocusContext);
  useLayoutEffect(() => {
    slot.set(handler);
    return () => slot.clear(handler);
  }, [slot, handler]);
}

/** Keeps the latest value of a callback in a ref, so an input handler never calls a stale one. */
function useLatest<T>(value: T) {
  const ref = useRef(value);
  useLayoutEffect(() => {
    ref.current = value;
  });
  return ref;
}

/**
 * A one-line text field. Its value lives in a ref updated as each key arrives, so Enter submits exactly
 * what was typed however fast (a paste with its newline included: the newline submits). `onChange` is
 * called from the key handler, never from an effect, so a parent that re-renders cannot loop.
 */
export function TextField({
  initial = "",
  onChange,
  onSubmit,
  label,
}: {
  initial?: string;
  onChange?: (v: string) => void;
  onSubmit: (v: string) => void;
  label?: string;
}) {
  const value = useRef(initial);
  const cursor = useRef(initial.length);
  const submitted = useRef(false);
  const [shown, setShown] = useState({ v: initial, c: initial.length });
  const cbs = useLatest({ onChange, onSubmit });
  const handle = useCallback(
    (input: string, key: Key) => {
      if (submitted.current) return;
      const set = (v: string, c: number) => {
        value.current = v;
        cursor.current = c;
        setShown({ v, c });
        cbs.current.onChange?.(v);
      };
      if (key.return) {
        submitted.current = true;
        cbs.current.onSubmit(value.current);
        return;
      }
      // A shell's line keys: Ctrl-U clears what is before the cursor (a proposed path replaced at once), Ctrl-K what is
      // after it, Ctrl-W the word before it; Ctrl-A and Ctrl-E go to the start and the end. Other Ctrl keys do nothing here.
      if (key.ctrl) {
        const v = value.current;
        const c = cursor.current;
        if (input === "u") return set(v.slice(c), 0);
        if (input === "k") return set(v.slice(0, c), c);
        if (input === "w") {
          const from = v.slice(0, c).replace(/[^\s/]*[\s/]*$/, "").length;
          return set(v.slice(0, from) + v.slice(c), from);
        }
        if (input === "a") return set(v, 0);
        if (input === "e") return set(v, v.length);
        return;
      }
      if (key.escape || key.upArrow || key.downArrow || key.tab) return;
      if (key.leftArrow) return set(value.current, Math.max(0, cursor.current - 1));
      if (key.rightArrow) return set(value.current, Math.min(value.current.length, cursor.current + 1));
      if (key.backspace || key.delete) {
        if (cursor.current === 0) return;
        return set(value.current.slice(0, cursor.current - 1) + value.current.slice(cursor.current), cursor.current - 1);
      }
      if (!input) return;
      // A burst or a paste, read character by character: text is inserted, a backspace deletes,
      // a newline submits what is there at that point (the rest of the burst is dropped).
      let v = value.current;
      let c = cursor.current;
      for (const ch of input) {
        if (ch === "\r" || ch === "\n") {
          if (v !== value.current) set(v, c);
          submitted.current = true;
          cbs.current.onSubmit(v);
          return;
        }
        if (ch === "\u007f" || ch === "\b") {
          if (c > 0) {
            v = v.slice(0, c - 1) + v.slice(c);
            c--;
          }
          continue;
        }
        if (/[\u0000-\u001f]/.test(ch)) continue;
        v = v.slice(0, c) + ch + v.slice(c);
        c += ch.length;
      }
      if (v !== value.current || c !== cursor.current) set(v, c);
    },
    [cbs],
  );
  useFocus(handle);
  const before = shown.v.slice(0, shown.c);
  const at = shown.v.slice(shown.c, shown.c + 1);
  const after = shown.v.slice(shown.c + 1);
  return (
    <Box>
      {label ? <Text>{label}</Text> : null}
      <Text wrap="wrap">
        {"> "}
        {before}
        <Text inverse>{at || "█"}</Text>
        {after}
      </Text>
    </Box>
  );
}

interface MenuOption {
  label: string;
  value: string;
}

/** A list of choices: ↑↓ move, Enter chooses (once). The focused choice is marked with ▸, not only by colour. */
export function Menu({ options, initial = 0, onSelect }: { options: MenuOption[]; initial?: number; onSelect: (v: string) => void }) {
  const [focus, setFocus] = useState(Math.min(initial, options.length - 1));
  const focusRef = useRef(focus);
  const chosen = useRef(false);
  const cbs = useLatest({ onSelect, options });
  const handle = useCallback(
    (_input: string, key: Key) => {
      if (chosen.current) return;
      const n = cbs.current.options.length;
      if (key.upArrow || key.downArrow) {
        focusRef.current = (focusRef.current + (key.upArrow ? n - 1 : 1)) % n;
        setFocus(focusRef.current);
      } else if (key.return) {
        chosen.current = true;
        cbs.current.onSelect(cbs.current.options[focusRef.current]!.value);
      }
    },
    [cbs],
  );
  useFocus(handle);
  return (
    <Box flexDirection="column">
      {options.map((o, i) => (
        <Text key={o.value} color={i === focus ? "cyan" : undefined} bold={i === focus} wrap="wrap">
          {`${i === focus ? "▸" : " "} ${o.label}`}
        </Text>
      ))}
    </Box>
  );
}

function stepLine(x: StepView): string {
  const m = MARK[markOf(x)];
  const summary = x.summary;
  return `${m.icon} ${m.word.padEnd(8)} ${x.stage} ${plainTitle(x.title)}${x.kind === "destructive" ? " [destructive]" : ""}${summary ? ` — ${summary}` : ""}`;
}

/** The steps, fitted into `maxLines`: finished stages other than the current one fold into one line each. */
/** `hideWarnings`: the screen shows the steps' warnings itself (whole, wrapped); the marks still say "warnings". */
export function Steps({
  steps,
  cols,
  maxLines = 40,
  only,
  now,
  hideWarnings,
}: {
  steps: StepView[];
  cols: number;
  maxLines?: number;
  only?: number[];
  now: number;
  hideWarnings?: boolean;
}) {
  const list = steps.filter((x) => !only || only.includes(x.stage));
  const cur = list.find((x) => x.status === "running")?.stage ?? [...list].reverse().find((x) => x.status !== "pending")?.stage ?? 0;
  type Row = { key: string; text: string; color?: string; bold?: boolean; sub?: boolean };
  const rowsFor = (fold: boolean, hidePending: boolean): Row[] => {
    const out: Row[] = [];
    const stages = [...new Set(list.map((x) => x.stage))];
    for (const st of stages) {
      const xs = list.filter((x) => x.stage === st);
      const allDone = xs.every((x) => markOf(x) === "done" || markOf(x) === "skipped");
      if (fold && st !== cur && allDone) {
        out.push({ key: `stage${st}`, text: `${MARK.done.icon} ${MARK.done.word.padEnd(8)} ${st} Stage ${st}: ${xs.length} step(s)` });
        continue;
      }
      if (hidePending && st > cur && xs.every((x) => x.status === "pending")) {
        out.push({ key: `stage${st}`, text: `${MARK.pending.icon} ${MARK.pending.word.padEnd(8)} ${st} Stage ${st}: ${xs.length} step(s)` });
        continue;
      }
      for (const x of xs) {
        const m = MARK[markOf(x)];
        out.push({ key: x.id, text: stepLine(x), color: m.color, bold: x.status === "running" });
        for (const w of hideWarnings ? [] : (x.warnings ?? [])) out.push({ key: `${x.id}-w-${w}`, text: `    ${MARK.warnings.icon} ${w}`, sub: true });
        for (const [i, l] of runningLines(x, now, cols).entries()) out.push({ key: `${x.id}-${x.progress ? "p" : "t"}${i}`, text: `    ${l}`, sub: true });
      }
    }
    return out;
  };
  const height = (rows: Row[]) => rows.reduce((n, r) => n + Math.max(1, Math.ceil(r.text.length / Math.max(20, cols))), 0);
  let rows = rowsFor(false, false);
  if (height(rows) > maxLines) rows = rowsFor(true, false);
  if (height(rows) > maxLines) rows = rowsFor(true, true);
  // Still too tall for the terminal: one line per row (the report has every word).
  const oneLine = height(rows) > maxLines;
  return (
    <Box flexDirection="column">
      {rows.map((r) => (
        // The key carries the mode: Ink keeps a reused text node's measured height when only its
        // wrap changes, which left a blank line under a row that had wrapped to two.
        <Text key={`${r.key}${oneLine ? ":1" : ":w"}`} color={r.color} bold={r.bold} wrap={oneLine ? "truncate-end" : "wrap"}>
          {escapeControls(r.text)}
        </Text>
      ))}
    </Box>
  );
}
