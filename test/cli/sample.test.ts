import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cli, sha3sum, snapshotDir, sqlite, tmp } from "../helpers.js";

describe("sample", () => {
  it("writes a legacy database with awkward values, a sidecar and a telemetry JSONL", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    const r = await cli(["sample", db, "--seed", "7", "--rows", "30", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.sidecar).toBe(join(dir, "vox_training_telemetry.db"));
    const d = await cli(["diagnose", "--db", db, "--json"]);
    expect(d.json.chain).toBe("legacy");
    expect(d.json.unknownTables).toEqual(expect.arrayContaining(["gamify_badges", 'legacy notes "v1"', "routing_scores"]));
    // the independent checker sees every storage class and the awkward values
    const classes = sqlite(db, "SELECT group_concat(DISTINCT typeof(vector)) FROM embeddings").split(",").sort();
    expect(classes).toEqual(expect.arrayContaining(["blob"]));
    expect(Number(sqlite(db, "SELECT count(*) FROM users WHERE karma = 9007199254740993"))).toBe(3);
    expect(Number(sqlite(db, "SELECT count(*) FROM routing_scores WHERE typeof(score) = 'real' AND score = 3.0"))).toBeGreaterThan(0);
    const texts = sqlite(db, "SELECT count(*) FROM (SELECT note FROM \"legacy notes \"\"v1\"\"\" WHERE note LIKE 'base64:%')");
    expect(texts).toBe("1");
    expect(Number(sqlite(db, "SELECT count(*) FROM artifact_reviews WHERE stars > 5"))).toBe(1);
    expect(sqlite(join(dir, "vox_training_telemetry.db"), "SELECT count(*) > 0 FROM training_runs")).toBe("1");
    const lines = readFileSync(join(dir, "telemetry.jsonl"), "utf8").trim().split("\n");
    expect(lines.filter((l) => { try { JSON.parse(l); return false; } catch { return true; } })).toHaveLength(1);
  });

  it("is deterministic for a seed and different for another", async () => {
    const a = tmp(), b = tmp(), c = tmp();
    await cli(["sample", join(a, "vox.db"), "--seed", "3", "--rows", "12"]);
    await cli(["sample", join(b, "vox.db"), "--seed", "3", "--rows", "12"]);
    await cli(["sample", join(c, "vox.db"), "--seed", "4", "--rows", "12"]);
    for (const t of ["users", "embeddings", "gamify_badges", "search_document_chunks"]) {
      expect(sha3sum(join(a, "vox.db"), t)).toBe(sha3sum(join(b, "vox.db"), t));
    }
    expect(sha3sum(join(a, "vox.db"), "users")).not.toBe(sha3sum(join(c, "vox.db"), "users"));
    expect(readFileSync(join(a, "telemetry.jsonl"), "utf8")).toBe(readFileSync(join(b, "telemetry.jsonl"), "utf8"));
  });

  it("--rows scales it", async () => {
    const dir = tmp();
    await cli(["sample", join(dir, "vox.db"), "--rows", "200"]);
    expect(sqlite(join(dir, "vox.db"), "SELECT count(*) FROM users")).toBe("200");
  });

  it("refuses to overwrite (exit 3) and a missing folder (exit 2), writing nothing", async () => {
    const dir = tmp();
    await cli(["sample", join(dir, "vox.db")]);
    const before = snapshotDir(dir);
    const r = await cli(["sample", join(dir, "vox.db")]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/never overwrites/);
    expect(snapshotDir(dir)).toEqual(before);
    const r2 = await cli(["sample", join(dir, "nope", "vox.db")]);
    expect(r2.exitCode).toBe(2);
    expect(snapshotDir(dir)).toEqual(before);
  });
});
