import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { LineHasher } from "../../src/backup/tables.js";

describe("LineHasher: one shared batching buffer, each hash its own bytes", () => {
  it("hashers fed in turn (as the import feeds one per table) give the digests of their own lines", () => {
    const hashers = [new LineHasher(), new LineHasher(), new LineHasher()];
    const fed = ["", "", ""];
    // Short lines, a part longer than the 1 MB buffer, raw bytes, multi-byte text: interleaved.
    const pieces = ['[1,"a"]', "é€😀", "x".repeat(700_000), "y".repeat(1_200_000), "[null]"];
    let k = 0;
    for (let round = 0; round < 40; round++) {
      for (let h = 0; h < 3; h++) {
        const p = pieces[(round + h + k++) % pieces.length]!;
        if (round % 7 === h) {
          hashers[h]!.bytes(Buffer.from(p, "utf8"));
          fed[h] += p;
        } else {
          hashers[h]!.line(p);
          fed[h] += `${p}\n`;
        }
      }
    }
    // Digest one in the middle, then go on with the others (the buffer may hold another's bytes).
    const first = hashers[1]!.digest();
    hashers[0]!.line("after");
    fed[0] += "after\n";
    const sha = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
    expect(first).toBe(sha(fed[1]!));
    expect(hashers[0]!.digest()).toBe(sha(fed[0]!));
    expect(hashers[2]!.digest()).toBe(sha(fed[2]!));
  });
});
