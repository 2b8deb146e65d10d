/**
 * The wizard's fast path for the width of a line of text (issue 18: the first frame). Ink measures
 * every line with `string-width`, whose first call on any text beyond printable ASCII builds an
 * `Intl.Segmenter` and compiles a `\p{RGI_Emoji}` regular expression (~0.1–0.2 s of the first frame,
 * more under load). The wizard's own text uses a handful of such characters (— … · × → ▸ ✓ ✗ █ ░),
 * each one column wide and a grapheme of its own. The bundle (scripts/bundle-wizard.mjs) answers
 * those lines here and hands every other line to `string-width` itself, loaded on first need.
 */

/**
 * Blocks whose characters are, apart from those `skip` names, one column wide (East Asian width
 * narrow, half-width, neutral or ambiguous; ambiguous counts as narrow, string-width's default)
 * and never join a neighbour into one grapheme (no mark, joiner, prepend, Hangul or emoji).
 * test/wizard/text-width.test.ts holds every one of them to string-width's own answer.
 */
const NARROW_BLOCKS: readonly (readonly [number, number])[] = [
  [0x00a0, 0x02ff], // Latin-1 supplement, Latin extended A/B, IPA, spacing modifier letters
  [0x0370, 0x03ff], // Greek
  [0x0400, 0x052f], // Cyrillic
  [0x2010, 0x205e], // general punctuation (dashes, quotes, bullets, ellipsis)
  [0x20a0, 0x20c0], // currency signs
  [0x2100, 0x214f], // letterlike symbols
  [0x2190, 0x22ff], // arrows, mathematical operators
  [0x2500, 0x25ff], // box drawing, block elements, geometric shapes
  [0x2700, 0x27bf], // dingbats
];

/** What a block holds that is not a lone narrow character: marks, format and control characters, line and paragraph separators, unassigned code points, emoji. */
const skip = /[\p{M}\p{C}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Extended_Pictographic}\p{Emoji_Presentation}\p{Emoji_Modifier}\p{Regional_Indicator}]/u;

let narrow: Uint8Array | null = null;

function narrowTable(): Uint8Array {
  const t = new Uint8Array(0x2800);
  for (const [a, b] of NARROW_BLOCKS) for (let c = a; c <= b; c++) if (!skip.test(String.fromCharCode(c))) t[c] = 1;
  return t;
}

/**
 * Columns `text` takes when every character is printable ASCII or a lone narrow character (one
 * column each) apart from SGR sequences (`ESC [ 1 ; 36 m`: colours and bold, which Ink's text
 * carries; no width); -1 otherwise (other escape sequences, wide or combining characters, emoji,
 * …: string-width decides those).
 */
export function narrowWidth(text: string): number {
  let width = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) {
      width++;
      continue;
    }
    if (c === 0x1b && text.charCodeAt(i + 1) === 0x5b) {
      // ESC [ then parameters (digits and ;) then m: a whole CSI sequence as strip-ansi reads it.
      let j = i + 2;
      for (let d = text.charCodeAt(j); (d >= 0x30 && d <= 0x39) || d === 0x3b; d = text.charCodeAt(++j));
      if (text.charCodeAt(j) !== 0x6d) return -1;
      i = j;
      continue;
    }
    const t = (narrow ??= narrowTable());
    if (c >= t.length || t[c] === 0) return -1;
    width++;
  }
  return width;
}

interface Grapheme {
  segment: string;
  index: number;
  input: string;
}

/** What `Intl.Segmenter#segment` returns, as the screens' dependencies use it: its graphemes in order, and the one containing a unit. */
interface Graphemes extends Iterable<Grapheme> {
  containing(index: number): Grapheme | undefined;
}

/** The graphemes of a line narrowWidth answers: every UTF-16 unit one of its own. */
class NarrowGraphemes implements Graphemes {
  constructor(private readonly input: string) {}
  containing(index: number): Grapheme | undefined {
    const i = Math.trunc(index);
    return i >= 0 && i < this.input.length ? { segment: this.input[i]!, index: i, input: this.input } : undefined;
  }
  *[Symbol.iterator](): Iterator<Grapheme> {
    for (let i = 0; i < this.input.length; i++) yield { segment: this.input[i]!, index: i, input: this.input };
  }
}

let segmenter: Intl.Segmenter | undefined;

/**
 * An `Intl.Segmenter` of graphemes that builds none for a line narrowWidth answers (printable ASCII,
 * lone narrow characters, SGR sequences): there every UTF-16 unit is a grapheme of its own (the ESC of
 * a sequence is a control character, which breaks on both sides). Any other line goes to a segmenter
 * built on first need. The bundle gives it to @alcalzone/ansi-tokenize and slice-ansi in place of the
 * segmenter each builds as it loads (scripts/bundle-wizard.mjs): the first one of a process loads ICU's
 * break rules, ~15 ms of the wizard's first frame.
 */
export const graphemes = {
  segment(text: string): Graphemes {
    if (narrowWidth(text) >= 0) return new NarrowGraphemes(text);
    segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
    return segmenter.segment(text);
  },
};
