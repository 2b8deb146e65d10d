/**
 * Ink's last step of every frame, without its garbage: a line of styled cells to one string.
 *
 * Ink (6.8, output.js) builds every frame as a grid of cells and turns each row into a string with
 * `styledCharsToString` of @alcalzone/ansi-tokenize, which asks `diffAnsiCodes(previous, current)` at
 * EVERY cell — three Sets and four arrays per cell even where neither cell has a style. On the wizard's
 * 120×40 screen that was ~60 % of everything the UI thread allocated in a cutover (sampling allocation
 * profile of the 1000-row journey: 324 of 534 MB), redrawn up to ten times a second while a step runs.
 *
 * The same string, byte for byte: where a cell has exactly the styles of the cell before it (same codes
 * in the same order), the library's diff is empty, so it is not asked; everywhere else it is. The
 * library's own functions are passed in (scripts/bundle-wizard.mjs puts this in the wizard's bundle in
 * place of the library's function); test/wizard/styled-chars.test.ts compares both on random rows.
 */
interface Code {
  code: string;
  endCode: string;
}
interface Cell {
  value: string;
  styles: Code[];
}

const sameStyles = (a: Code[], b: Code[]): boolean => {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.code !== b[i]!.code || a[i]!.endCode !== b[i]!.endCode) return false;
  return true;
};

export function styledCharsToStringWith(diff: (from: Code[], to: Code[]) => Code[], codes: (c: Code[]) => string): (chars: Cell[]) => string {
  const none: Code[] = [];
  return (chars) => {
    let ret = "";
    let prev = none;
    for (const char of chars) {
      if (!sameStyles(prev, char.styles)) ret += codes(diff(prev, char.styles));
      ret += char.value;
      prev = char.styles;
    }
    return prev.length ? ret + codes(diff(prev, none)) : ret;
  };
}
