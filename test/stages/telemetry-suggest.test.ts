/**
 * The wizard's Stage 3 offers the JSONL files beside the database as telemetry to check: never a
 * backup (helper-101: the run's own backup, chosen beside the database in Stage 1, was offered and then
 * counted as 9,498 envelope violations), nor any other vox-cutover backup or vox export file.
 */
import { describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { cli, sampleInto, tmp } from "../helpers.js";
import { resolveDatabase } from "../../dist/src/db/resolve.js";
import { runCutover } from "../../dist/src/cutover/index.js";

describe("Stage 3's suggested telemetry files", () => {
  it("are the telemetry JSONL beside the database, not the run's backup nor another backup or vox export", async () => {
    const dir = tmp();
    await sampleInto(dir, 5); // vox.db, its sidecar and telemetry.jsonl
    const db = join(dir, "vox.db");
    const other = join(tmp(), "other.jsonl");
    expect((await cli(["export-legacy", other, "--db", db])).exitCode).toBe(0);
    copyFileSync(other, join(dir, "last-week-backup.jsonl"));
    writeFileSync(join(dir, "vox-export.jsonl"), '{"columns":["id"],"row":{"id":1},"table":"t"}\n');
    // Neither a folder nor a FIFO named *.jsonl is opened (helper-103: EISDIR after the swap; a FIFO hung the wizard).
    mkdirSync(join(dir, "old.jsonl"));
    execFileSync("mkfifo", [join(dir, "pipe.jsonl")]);
    let suggested: string[] | null = null;
    await runCutover({
      resolved: resolveDatabase({ db }),
      apply: true,
      command: "cutover",
      backupPath: join(dir, "my-backup.jsonl"),
      emit: () => {},
      decide: async (req: { kind: string; suggested?: string[] }) => {
        if (req.kind === "telemetry") {
          suggested = req.suggested!;
          return { files: [] };
        }
        return req.kind === "sidecar" ? { merge: true } : { ok: true };
      },
    });
    expect(suggested).toEqual([join(dir, "telemetry.jsonl")]);
  }, 120_000);
});
