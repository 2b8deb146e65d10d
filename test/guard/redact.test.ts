/** Redaction of every URL credential form (issue 16, point 8), in process; one CLI run proves it reaches the output. */
import { describe, expect, it } from "vitest";
import { redactText, redactUrl } from "../../src/util/redact.js";
import { cli } from "../helpers.js";

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
});
