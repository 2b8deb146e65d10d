import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { existsSync, mkdirSync } from "node:fs";
import { resolveDatabase } from "../../src/db/resolve.js";
import { redactText, redactUrl } from "../../src/util/redact.js";
import { cli, snapshotDir, tmp } from "../helpers.js";

const cwd = "/work/here";

describe("resolution order", () => {
  it.each([
    [{ VOX_DB_URL: "libsql://db.example", VOX_DB_TOKEN: "tok", VOX_DB_PATH: "/p.db" }, "VOX_DB_URL", "remote"],
    [{ VOX_TURSO_URL: "libsql://t.example", VOX_TURSO_TOKEN: "tok", VOX_DB_PATH: "/p.db" }, "VOX_TURSO_URL", "remote"],
    [{ TURSO_URL: "libsql://t.example", TURSO_AUTH_TOKEN: "tok", VOX_DB_PATH: "/p.db" }, "TURSO_URL", "remote"],
    [{ VOX_DB_PATH: "/p.db", VOX_DATA_DIR: "/d", HOME: "/h" }, "VOX_DB_PATH", "file"],
    [{ VOX_DB_PATH: "", VOX_DATA_DIR: "/d", HOME: "/h" }, "VOX_DATA_DIR", "file"],
    [{ HOME: "/h" }, "platform-data-dir", "file"],
    [{ XDG_DATA_HOME: "/x" }, "platform-data-dir", "file"],
    [{}, "app.db", "file"],
  ])("%o → %s", (env, source, kind) => {
    const r = resolveDatabase({}, env, cwd);
    expect(r.source).toBe(source);
    expect(r.kind).toBe(kind);
  });

  it("--db wins over everything", () => {
    expect(resolveDatabase({ db: "x.db" }, { VOX_DB_URL: "libsql://a" }, cwd).path).toBe("/work/here/x.db");
  });

  it("an absolute path's leading slashes are one: //srv/vox.db is /srv/vox.db (SQLite's URL would read srv as a host: helper-102); nothing else is rewritten (link/.. is the kernel's: helper-103)", () => {
    expect(resolveDatabase({ db: "//srv/vox.db" }, {}, cwd).path).toBe("/srv/vox.db");
    expect(resolveDatabase({}, { VOX_DB_PATH: "///srv/link/../vox.db" }, cwd).path).toBe("/srv/link/../vox.db");
  });

  it("paths per rule (Linux)", () => {
    expect(resolveDatabase({}, { VOX_DATA_DIR: "/d" }, cwd).path).toBe("/d/vox.db");
    expect(resolveDatabase({}, { HOME: "/h" }, cwd).path).toBe("/h/.local/share/vox/vox.db");
    expect(resolveDatabase({}, { HOME: "/h", XDG_DATA_HOME: "/x" }, cwd).path).toBe("/x/vox/vox.db");
    expect(resolveDatabase({}, {}, cwd).path).toBe("/work/here/app.db");
  });

  it("aliases carry a deprecation warning; VOX_DB_URL does not", () => {
    expect(resolveDatabase({}, { TURSO_URL: "libsql://a" }, cwd).warnings.join()).toMatch(/deprecated/);
    expect(resolveDatabase({}, { VOX_TURSO_URL: "libsql://a" }, cwd).warnings.join()).toMatch(/deprecated/);
    expect(resolveDatabase({}, { VOX_DB_URL: "libsql://a" }, cwd).warnings).toEqual([]);
  });
});

describe("redaction", () => {
  it("removes userinfo and credential parameters from URLs", () => {
    expect(redactUrl("libsql://user:pw@db.example.io/x?authToken=abc&mode=rw")).toBe("libsql://***@db.example.io/x?authToken=***&mode=rw");
    expect(redactUrl("https://db.example.io?token=zzz")).toBe("https://db.example.io?token=***");
  });
  it("removes a registered token from any text", () => {
    resolveDatabase({}, { VOX_DB_URL: "libsql://db", VOX_DB_TOKEN: "s3cr3t-token-value" }, cwd);
    expect(redactText("failed with s3cr3t-token-value in it")).toBe("failed with *** in it");
  });

  it("the token never appears in any output of a remote command, even when it fails", async () => {
    const token = "eyJhbGciOiJIUzI1NiJ9.SECRET-TOKEN-123";
    const r = await cli(["diagnose", "--json"], {
      env: { VOX_DB_URL: `http://user:pass-word@127.0.0.1:9/db?authToken=${token}`, VOX_DB_TOKEN: token },
    });
    expect(r.exitCode).toBe(1);
    const all = r.stdout + r.stderr;
    expect(all).not.toContain(token);
    expect(all).not.toContain("SECRET-TOKEN");
    expect(all).not.toContain("pass-word");
    expect(r.json.db.url).toBe("http://***@127.0.0.1:9/db?authToken=***");
    expect(r.json.db.source).toBe("VOX_DB_URL");
  });
});

describe("resolving creates nothing", () => {
  it("diagnose under an empty HOME/XDG reports the platform path missing and leaves no file or folder", async () => {
    const home = tmp();
    const xdg = join(home, "xdg");
    mkdirSync(xdg);
    const before = snapshotDir(home);
    const r = await cli(["diagnose", "--json"], { env: { HOME: home, XDG_DATA_HOME: xdg }, cwd: home });
    expect(r.exitCode).toBe(0);
    expect(r.json.chain).toBe("missing");
    expect(r.json.db).toEqual({ path: join(xdg, "vox", "vox.db"), source: "platform-data-dir" });
    expect(r.stderr).toContain("the platform default");
    expect(snapshotDir(home)).toEqual(before);
    expect(existsSync(join(xdg, "vox"))).toBe(false);
  });

  it("VOX_DATA_DIR and app.db are used in that order, and say why", async () => {
    const dir = tmp();
    const r1 = await cli(["diagnose", "--json"], { env: { VOX_DATA_DIR: join(dir, "data"), HOME: dir }, cwd: dir });
    expect(r1.json.db).toEqual({ path: join(dir, "data", "vox.db"), source: "VOX_DATA_DIR" });
    const r2 = await cli(["diagnose", "--json"], { env: { HOME: undefined, XDG_DATA_HOME: undefined }, cwd: dir });
    expect(r2.json.db).toEqual({ path: join(dir, "app.db"), source: "app.db" });
    expect(existsSync(join(dir, "data"))).toBe(false);
    expect(existsSync(join(dir, "app.db"))).toBe(false);
  });
});
