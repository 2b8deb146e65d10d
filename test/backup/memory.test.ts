import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { join } from "node:path";
import { fixtureDb, ROOT, tmp } from "../helpers.js";

/** Peak RSS (MB) of a child process exporting, verifying and importing one database. */
async function peakRss(db: string, out: string, step: "export" | "verify" | "import"): Promise<number> {
  const script = `
    const exp = await import(${JSON.stringify(join(ROOT, "dist/src/backup/export.js"))});
    const read = await import(${JSON.stringify(join(ROOT, "dist/src/backup/read.js"))});
    const imp = await import(${JSON.stringify(join(ROOT, "dist/src/backup/import.js"))});
    const { loadBaselineContext } = await import(${JSON.stringify(join(ROOT, "dist/src/diagnose/diagnose.js"))});
    const step = ${JSON.stringify(step)};
    if (step === "export") await exp.exportBackup({ dbPath: ${JSON.stringify(db)}, outPath: ${JSON.stringify(out)}, chain: "legacy", maxVersion: 1, baseline: { version: 60, digest: "" } });
    else if (step === "verify") read.readBackup(${JSON.stringify(out)});
    else {
      const base = loadBaselineContext();
      await imp.importBackup({ backupPath: ${JSON.stringify(out)}, targetPath: ${JSON.stringify(out + ".db")}, baselineSql: base.sql, baselineVersion: 60, history: [], rules: new Map(), into: "target" });
    }
    process.stdout.write(String(process.resourceUsage().maxRSS));
  `;
  const r = await execa("node", ["--input-type=module", "-e", script]);
  return Number(r.stdout) / 1024;
}

function bigDb(path: string, rows: number): void {
  const db = fixtureDb(path);
  db.exec("CREATE TABLE conversation_messages_big (id INTEGER PRIMARY KEY, body TEXT, blob BLOB, n REAL)");
  db.exec("BEGIN");
  const st = db.prepare("INSERT INTO conversation_messages_big(id, body, blob, n) VALUES (?, ?, ?, ?)");
  const text = "x".repeat(400);
  const blob = Buffer.alloc(200, 7);
  for (let i = 0; i < rows; i++) st.run(BigInt(i + 1), text + i, blob, i + 0.5);
  db.exec("COMMIT");
  db.close();
}

describe("memory stays flat as the table grows", () => {
  it("export, verify and import of 10× the rows (far more than any batch) peak within a few MB", async () => {
    const d = tmp();
    bigDb(join(d, "small.db"), 20_000);
    bigDb(join(d, "large.db"), 200_000); // ~130 MB of backup
    const small = { e: await peakRss(join(d, "small.db"), join(d, "small.jsonl"), "export") };
    const large = { e: await peakRss(join(d, "large.db"), join(d, "large.jsonl"), "export") };
    const sv = await peakRss("", join(d, "small.jsonl"), "verify");
    const lv = await peakRss("", join(d, "large.jsonl"), "verify");
    const si = await peakRss("", join(d, "small.jsonl"), "import");
    const li = await peakRss("", join(d, "large.jsonl"), "import");
    console.log(
      `peak RSS MB: export ${small.e.toFixed(0)} → ${large.e.toFixed(0)}, verify ${sv.toFixed(0)} → ${lv.toFixed(0)}, import ${si.toFixed(0)} → ${li.toFixed(0)}`,
    );
    expect(large.e - small.e).toBeLessThan(40);
    expect(lv - sv).toBeLessThan(40);
    expect(li - si).toBeLessThan(60);
    expect(Math.max(large.e, lv, li)).toBeLessThan(250);
  }, 180_000);
});
