/**
 * What the run gives the processes it starts (test/global-setup.ts, test/helpers.ts cleanEnv): the
 * same programs as the machine's, without the per-start costs of this sandbox's settings (session 34).
 */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { execaSync } from "execa";
import { otherUser } from "./fixtures/install.js";
import { cleanEnv, cliEnv } from "./helpers.js";

/** Python printing its interpreter's path (a name: knip reads a literal after setpriv as a command line). */
const EXECUTABLE = "import sys, sqlite3; print(sys.executable)";

describe("the run's environment for its processes", () => {
  it("python3 is the machine's interpreter, started with -S (no site-packages, no .pth run at each start), and has sqlite3", (ctx) => {
    const path = process.env.PATH!.split(":");
    const wrapperDir = path[0]!;
    if (!/vox-test-run-.*\/bin$/.test(wrapperDir)) return ctx.skip("no python3 on this machine: the run made no wrapper");
    // -S unless the interpreter could not import the standard modules without site (the wrapper then leaves it out).
    const noSite = readFileSync(join(wrapperDir, "python3"), "utf8").includes(" -S ") ? "1" : "0";
    const wrapped = execFileSync("python3", ["-c", "import sys, sqlite3; print(sys.executable); print(sys.flags.no_site)"], { encoding: "utf8" }).split("\n");
    // The machine's python3: PATH without the run's wrapper folder.
    const machine = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], {
      encoding: "utf8",
      env: { ...process.env, PATH: path.slice(1).join(":") },
    }).trim();
    expect(wrapped[0]).toBe(machine);
    expect(wrapped[1]).toBe(noSite);
    expect(dirname(execFileSync("sh", ["-c", "command -v python3"], { encoding: "utf8" }).trim())).toBe(wrapperDir);
  });

  it("another user who cannot reach that interpreter gets the python3 it would have found on PATH, not a permission error", (ctx) => {
    const wrapperDir = process.env.PATH!.split(":")[0]!;
    if (!/vox-test-run-.*\/bin$/.test(wrapperDir)) return ctx.skip("no python3 on this machine: the run made no wrapper");
    const user = otherUser();
    if ("skip" in user) return ctx.skip(user.skip);
    const r = execaSync("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", join(wrapperDir, "python3"), "-c", EXECUTABLE], {
      reject: false,
      cwd: "/",
      env: { PATH: process.env.PATH },
    });
    const own = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim();
    const reachable =
      execaSync("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "test", "-x", own], { reject: false }).exitCode === 0;
    if (reachable) expect(r.stdout.trim(), r.stderr).toBe(own);
    else {
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout.trim()).not.toBe(own);
      expect(r.stdout.trim()).toMatch(/^\//);
    }
  });

  it("the CLI's processes start without NODE_EXTRA_CA_CERTS (~40 ms of every Node start here); the rest of the environment is kept", () => {
    const had = process.env.NODE_EXTRA_CA_CERTS;
    process.env.NODE_EXTRA_CA_CERTS = "/etc/ssl/certs/ca-certificates.crt";
    try {
      for (const env of [cleanEnv(), cliEnv({ A: "1" })]) {
        expect(env.NODE_EXTRA_CA_CERTS).toBeUndefined();
        expect(env.PATH).toBe(process.env.PATH);
      }
      const seen = execFileSync("node", ["-p", "process.env.NODE_EXTRA_CA_CERTS ?? 'unset'"], {
        encoding: "utf8",
        env: cleanEnv() as NodeJS.ProcessEnv,
      }).trim();
      expect(seen).toBe("unset");
    } finally {
      if (had === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
      else process.env.NODE_EXTRA_CA_CERTS = had;
    }
  });
});
