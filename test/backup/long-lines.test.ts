/**
 * A line of a vox-cutover backup longer than any JSON line can be read (not a row: rows stream) is a
 * refusal naming the line, not an out-of-memory crash. vox's export-legacy lines stream whatever
 * their length (reference-long.ts): the limit does not apply to them.
 */
import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { linesAtMost } from "../../src/backup/read.js";
import { cli, snapshotDir, tmp } from "../helpers.js";

// The real limit is V8's longest string (~512 MB); the test hook lowers it so no 512 MB file is needed.
const env = { VOX_CUTOVER_MAX_LINE_BYTES: String(4 << 20) };

describe("over-long lines", () => {
  it("verify-backup and import-legacy refuse (3) at the line, nothing written; vox's format streams past the limit", async () => {
    const d = tmp();
    writeFileSync(join(d, "b.jsonl"), '{"k":"header","format":"vox-cutover-backup","version":1,"tables":[]}\n"' + "a".repeat(5 << 20) + '"\n');
    writeFileSync(join(d, "ref.jsonl"), '{"columns":["display_name","id"],"row":{"display_name":"' + "a".repeat(5 << 20) + '","id":"u1"},"table":"users"}\n');
    const before = snapshotDir(d);
    const v = await cli(["verify-backup", join(d, "b.jsonl")], { env });
    expect(v.exitCode).toBe(3);
    expect(v.stderr).toMatch(/at line 2: the line is longer than 4 MB/);
    const i = await cli(["import-legacy", join(d, "b.jsonl"), "--db", join(d, "new.db")], { env });
    expect(i.exitCode).toBe(3);
    expect(snapshotDir(d)).toEqual(before);
    // vox's format: a row line is parsed as it streams, so the same 5 MB line reads under the 4 MB limit.
    const ok = await cli(["import-legacy", join(d, "ref.jsonl"), "--db", join(d, "new.db"), "--accept-unverified", "--json"], { env });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.json.tables[0].loaded).toBe(1);
  });
});

describe("linesAtMost (the import's test for a line too long for the native path)", () => {
  it("measures every line, the last one without a newline too, in files smaller and larger than its 4 MB buffer", () => {
    const d = tmp();
    const at = (name: string, text: string | Buffer, limit: number) => {
      writeFileSync(join(d, name), text);
      return linesAtMost(join(d, name), limit);
    };
    expect(at("empty", "", 0)).toBe(true);
    expect(at("short", "abc\nde\n", 3)).toBe(true);
    expect(at("over", "abc\nde\n", 2)).toBe(false);
    expect(at("last", "ab\nabcd", 3)).toBe(false); // no newline after the last line
    expect(at("last-ok", "ab\nabc", 3)).toBe(true);
    // Beyond one buffer: a line crossing the 4 MB boundary is measured whole.
    const big = Buffer.alloc((4 << 20) + 100, 0x61);
    big[(4 << 20) - 50] = 10; // lines of 4 MB − 50 and 149 bytes
    expect(at("big", big, (4 << 20) - 50)).toBe(true);
    expect(at("big-over", big, (4 << 20) - 51)).toBe(false);
  });
});
