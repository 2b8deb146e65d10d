/** Redaction of every URL credential form (issue 16, point 8), in process; one CLI run proves it reaches the output. */
import { describe, expect, it } from "vitest";
import { redactText, redactUrl } from "../../src/util/redact.js";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { cli, sampleInto, tmp } from "../helpers.js";

describe("URL credentials are redacted in every form", () => {
  it.each([
    ["libsql://user:pa/ss#w?rd@db.example.io/x", "libsql://***@db.example.io/x", "pa/ss"],
    ["https://user:p#ss@h.example/db", "https://***@h.example/db", "p#ss"],
    ["libsql://db.example.io/x;authToken=SECRET1;mode=rw", "libsql://db.example.io/x;authToken=***;mode=rw", "SECRET1"],
    ["https://h.example/db?tok=SECRET2&a=1", "https://h.example/db?tok=***&a=1", "SECRET2"],
    ["libsql://h.example/db#authToken=SECRET3", "libsql://h.example/db#***", "SECRET3"],
    ["libsql:user:SECRET4@host.example", "libsql:***@host.example", "SECRET4"],
    ["libsql://user:pw@db.example.io/x?authToken=abc&mode=rw", "libsql://***@db.example.io/x?authToken=***&mode=rw", "abc"],
  ])("%s", (url, want, secret) => {
    expect(redactUrl(url)).toBe(want);
    const text = redactText(`failed to reach ${url} (retrying)`);
    expect(text).not.toContain(secret);
  });

  it("a file: path keeps its @ (no credentials there)", () => {
    expect(redactUrl("file:///srv/a@b/vox.db")).toBe("file:///srv/a@b/vox.db");
  });

  it("the CLI never prints a raw-/ password, a ; token or a fragment token", async () => {
    const url = "http://user:pa/ss#w?rd@127.0.0.1:9/db;authToken=SEMI-SECRET?tok=Q-SECRET#frag-SECRET";
    const r = await cli(["diagnose", "--json"], { env: { VOX_DB_URL: url } });
    const all = r.stdout + r.stderr;
    for (const s of ["pa/ss", "w?rd", "SEMI-SECRET", "Q-SECRET", "frag-SECRET"]) expect(all).not.toContain(s);
    expect(all).not.toMatch(/Unexpected failure/);
  });

  it("a client's error quoting a fragment alone is redacted too (helper-102: 'URL fragments are not supported: \"#…\"' printed the token)", async () => {
    for (const args of [
      ["diagnose", "--db", "http://127.0.0.1:1/#SECRETtok3n", "--json"],
      ["migrate", "--db", "http://127.0.0.1:1/#SECRETtok3n", "--json"],
    ]) {
      const r = await cli(args);
      expect(r.stdout + r.stderr, args[0]).not.toContain("SECRETtok3n");
      expect(r.stdout + r.stderr, args[0]).not.toMatch(/Unexpected failure/);
    }
  });

  it("libsql:user:pass@host (the form without slashes) is a URL, never a local file named after it (helper-102: the token became a file name, then went into run files)", async () => {
    const src = tmp();
    await sampleInto(src, 3);
    expect((await cli(["export-legacy", join(src, "b.jsonl"), "--db", join(src, "vox.db")])).exitCode).toBe(0);
    const dir = tmp();
    const r = await cli(["import-legacy", join(src, "b.jsonl"), "--db", "libsql:u:SECRETtok3n@127.0.0.1:1", "--apply"], { cwd: dir });
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout + r.stderr).not.toContain("SECRETtok3n");
    expect(readdirSync(dir)).toEqual([]);
    const d = await cli(["diagnose", "--db", "libsql:u:SECRETtok3n@127.0.0.1:1", "--json"], { cwd: dir });
    expect(d.stdout + d.stderr).not.toContain("SECRETtok3n");
    expect(readdirSync(dir)).toEqual([]);
  });
});
