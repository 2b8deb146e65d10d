/**
 * A UTF-16 file's big TEXT, in slices both ways (issue 17: memory does not grow with the value).
 *
 * The backup carries text as characters (UTF-8, docs/backup-format.md); a UTF-16 file stores it as
 * UTF-16 and is rebuilt as UTF-16 (its settings are kept). So the export decodes the value's UTF-16
 * bytes, read from the pages in slices, with one streaming fatal `TextDecoder` — a slice may end in
 * the middle of a code unit or of a surrogate pair; the decoder keeps what is not complete for the
 * next slice — and the import encodes the backup's UTF-8 slices back to UTF-16 to write them over
 * the zeroblob in the new file's pages (big-insert.ts, big-write.ts). The decoding gives what the
 * whole path's gives (`decodeText`, src/db/value.ts): text that is not valid UTF-16 (a lone
 * surrogate) as its code units' generalized UTF-8 (`{"t"}`), an odd number of bytes the same worded
 * error, so the value never reaches a backup changed.
 */
import { BigValue } from "./big-value.js";
import { utf16Bytes, Utf16Units, type TextEncoding } from "../db/value.js";
import { droppedBuffer } from "../util/gc.js";

type Utf16 = Exclude<TextEncoding, "UTF-8">;

/**
 * UTF-16 bytes, in any slices, as UTF-8 slices (each ends at a character boundary). Valid UTF-16 is
 * decoded by a streaming fatal TextDecoder (native, fast); from the first slice it refuses on (a
 * lone surrogate), that slice and the rest are encoded by Utf16Units, with the bytes the decoder
 * still held: the same bytes as decodeText's RawText for the whole value (its `{"t"}` form).
 */
function* utf16AsUtf8(src: Iterable<Uint8Array>, enc: Utf16): Generator<Buffer> {
  const d = new TextDecoder(enc === "UTF-16le" ? "utf-16le" : "utf-16be", { fatal: true, ignoreBOM: true });
  let held: Buffer = Buffer.alloc(0); // bytes the decoder holds for the next slice (part of a code unit or pair)
  let units: Utf16Units | null = null;
  for (const s of src) {
    // Each slice leaves a string and a buffer of garbage: counted, so that V8 collects them in time (src/util/gc.ts).
    droppedBuffer(2 * s.length);
    if (!units) {
      let str: string | null = null;
      try {
        str = d.decode(s, { stream: true });
      } catch {
        units = new Utf16Units(enc);
        const out = units.push(Buffer.concat([held, s]));
        if (out.length) yield out;
        continue;
      }
      const keep = held.length + s.length - 2 * str.length;
      held = Buffer.from(keep <= s.length ? s.subarray(s.length - keep) : Buffer.concat([held, s]).subarray(held.length + s.length - keep));
      if (str) yield Buffer.from(str, "utf8");
      continue;
    }
    const out = units.push(s);
    if (out.length) yield out;
  }
  if (!units) {
    try {
      const end = d.decode();
      if (end) yield Buffer.from(end, "utf8");
      return;
    } catch {
      units = new Utf16Units(enc);
      const out = units.push(held);
      if (out.length) yield out;
    }
  }
  const last = units.end();
  if (last.length) yield last;
}

/** Valid UTF-8 bytes, in any slices, as UTF-16 slices (strict: bytes that are not UTF-8 throw). */
function* utf8AsUtf16(src: Iterable<Uint8Array>, enc: Utf16): Generator<Buffer> {
  const d = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  for (const s of src) {
    const str = d.decode(s, { stream: true });
    droppedBuffer(3 * s.length);
    if (str) yield utf16Bytes(str, enc);
  }
  const end = d.decode();
  if (end) yield utf16Bytes(end, enc);
}

/** Bytes of valid UTF-8 once in UTF-16: 2 per character, 4 for one outside the BMP (a 4-byte UTF-8 sequence). */
function utf16Length(src: Iterable<Uint8Array>): number {
  let n = 0;
  for (const s of src) {
    for (let i = 0; i < s.length; i++) {
      const b = s[i]!;
      if ((b & 0xc0) !== 0x80) n += b >= 0xf0 ? 4 : 2;
    }
  }
  return n;
}

/**
 * A big TEXT read from a UTF-16 file's pages, handed out as UTF-8 (its bytes in the backup).
 * `length` is its stored UTF-16 bytes, not its UTF-8 bytes (not known before it is read): only the
 * encoder reads it (materialize does not trust it). Whether it is valid UTF-16 is not known either
 * (`utf8` null): the encoder checks it in a first pass (bigValuePieces), so that a lone surrogate
 * gives the `{"t"}` form the whole path gives.
 */
export class Utf16Source extends BigValue {
  constructor(
    stored: number,
    private readonly raw: () => Iterable<Uint8Array>,
    private readonly enc: Utf16,
  ) {
    super("text", stored, () => utf16AsUtf8(raw(), enc), null);
  }

  /** Valid UTF-16 (its UTF-8 then valid too): a scan of its code units for a lone surrogate, without decoding. */
  override validUtf8(): boolean {
    const le = this.enc === "UTF-16le";
    let odd = -1;
    let lead = false;
    for (const s of this.raw()) {
      let i = 0;
      if (odd >= 0 && s.length) {
        const c = le ? odd | (s[0]! << 8) : (odd << 8) | s[0]!;
        const trail = c >= 0xdc00 && c <= 0xdfff;
        if (lead !== trail) return false;
        lead = c >= 0xd800 && c <= 0xdbff;
        odd = -1;
        i = 1;
      }
      // Only the high byte tells a surrogate (D8–DF): checked per code unit.
      const hi = le ? 1 : 0;
      for (; i + 1 < s.length; i += 2) {
        const h = s[i + hi]!;
        if (h < 0xd8 || h > 0xdf) {
          if (lead) return false;
          continue;
        }
        const trail = h >= 0xdc;
        if (lead !== trail) return false;
        lead = !trail;
      }
      if (i < s.length) odd = s[i]!;
    }
    return odd < 0 && !lead;
  }
}

/** A big TEXT of a backup (valid UTF-8) as the bytes a UTF-16 file stores: its length counted in one pass, its bytes encoded as they are written. */
export class Utf16Text extends BigValue {
  constructor(v: BigValue, enc: Utf16) {
    super("text", utf16Length(v.open()), () => utf8AsUtf16(v.open(), enc), null);
  }

  /** Its leading run of code units whose bytes look like a byte-order mark (FF FE or FE FF: U+FEFF or U+FFFE in either order), as bytes. */
  bomRun(): Buffer {
    const run: number[] = [];
    let odd = -1;
    for (const s of this.open()) {
      for (const b of s) {
        if (odd < 0) {
          odd = b;
          continue;
        }
        if (!((odd === 0xff && b === 0xfe) || (odd === 0xfe && b === 0xff))) return Buffer.from(run);
        run.push(odd, b);
        odd = -1;
      }
    }
    return Buffer.from(run);
  }
}
