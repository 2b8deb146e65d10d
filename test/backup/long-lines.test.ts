/**
 * A line of a vox-cutover backup longer than any JSON line can be read (not a row: rows stream) is a
 * refusal naming the line, not an out-of-memory crash. vox's export-legacy lines stream whatever
 * their length (reference-long.ts): the limit does not apply to them.
 */
import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
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
