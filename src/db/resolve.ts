import { isAbsolute, join, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { registerSecret, redactUrl } from "../util/redact.js";

export type DbSource = "--db" | "VOX_DB_URL" | "VOX_TURSO_URL" | "TURSO_URL" | "VOX_DB_PATH" | "VOX_DATA_DIR" | "platform-data-dir" | "app.db";

export interface ResolvedDb {
  kind: "file" | "remote";
  /** Absolute path for files. */
  path?: string;
  /** Full URL for remote (never print it: use `display`). */
  url?: string;
  /** Never printed, never written. */
  token?: string;
  source: DbSource;
  /** One sentence: why this database was chosen. */
  why: string;
  /** The path, or the URL with credentials redacted. */
  display: string;
  warnings: string[];
}

/** A remote database's URL: `libsql://…`, `https://…`, `wss://…`, and the form without slashes the contract names (`libsql:user:pass@host`). */
const REMOTE_URL = /^(libsql|https?|wss?):/i;
const FILE_URL = /^file:/i;

/** `file:///x/vox.db`, `file:x.db` (and `?mode=…` parameters dropped): a local path, never a client that creates it. */
function fileUrlPath(url: string): string {
  const noQuery = url.replace(/[?#].*$/, "");
  if (/^file:\/\//i.test(noQuery)) {
    try {
      return fileURLToPath(noQuery);
    } catch {
      return decodeURIComponent(noQuery.replace(/^file:\/\/[^/]*/i, ""));
    }
  }
  return decodeURIComponent(noQuery.replace(FILE_URL, ""));
}

type Env = Record<string, string | undefined>;

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== "" ? v : undefined;
}

function remote(url: string, token: string | undefined, source: DbSource, why: string, warnings: string[]): ResolvedDb {
  registerSecret(token);
  for (const p of extractUrlSecrets(url)) registerSecret(p);
  return { kind: "remote", url, token, source, why, display: redactUrl(url), warnings };
}

/**
 * The parts of a URL that may be a credential, registered as secrets (redactText removes them from any
 * text, a client's error quoting one alone included): the password, credential parameters, the whole
 * fragment (redactUrl drops it: it may carry a token), and the userinfo of the form without slashes.
 */
function extractUrlSecrets(url: string): string[] {
  const out: string[] = [];
  const hash = url.indexOf("#");
  if (hash >= 0) out.push(url.slice(hash + 1), decodeSafe(url.slice(hash + 1)));
  const bare = /^[a-z][a-z0-9+.-]*:(?!\/\/)([\s\S]*)@/i.exec(url.slice(0, hash >= 0 ? hash : undefined));
  if (bare) out.push(...bare[1]!.split(":"));
  try {
    const u = new URL(url);
    if (u.password) out.push(decodeURIComponent(u.password));
    for (const [k, v] of u.searchParams) if (/token|jwt|password|secret|key/i.test(k)) out.push(v);
  } catch {
    /* not a URL the WHATWG parser reads: the parts above */
  }
  return out;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function file(path: string, cwd: string, source: DbSource, why: string, warnings: string[] = []): ResolvedDb {
  // `//srv/vox.db` would become the URL file://srv/vox.db (host "srv") for SQLite (helper-102): its leading slashes are one. Nothing
  // else of an absolute path is rewritten: `link/../vox.db` is the kernel's to follow (through the link), not resolve()'s (helper-103).
  const abs = isAbsolute(path) ? path.replace(/^\/{2,}/, "/") : resolvePath(cwd, path);
  return { kind: "file", path: abs, source, why, display: abs, warnings };
}

/**
 * The platform data dir + `vox`, or undefined when the environment does not determine it.
 * Written out rather than taken from env-paths: env-paths reads the home folder once at import
 * (tests and embedders cannot pass an environment) and uses %LOCALAPPDATA%\vox\Data on Windows,
 * where the contract says %APPDATA%.
 */
function platformDataDir(env: Env, platform: NodeJS.Platform = process.platform): string | undefined {
  const home = nonEmpty(env.HOME);
  if (platform === "win32") {
    const appData = nonEmpty(env.APPDATA);
    return appData ? join(appData, "vox") : undefined;
  }
  if (platform === "darwin") return home ? join(home, "Library", "Application Support", "vox") : undefined;
  const xdg = nonEmpty(env.XDG_DATA_HOME);
  if (xdg && isAbsolute(xdg)) return join(xdg, "vox");
  return home ? join(home, ".local", "share", "vox") : undefined;
}

/**
 * Which database, exactly in the contract's order. Pure: reads only `env`, creates nothing.
 */
export function resolveDatabase(opts: { db?: string }, env: Env = process.env, cwd = process.cwd()): ResolvedDb {
  const token = nonEmpty(env.VOX_DB_TOKEN);
  registerSecret(token);
  registerSecret(nonEmpty(env.VOX_TURSO_TOKEN));
  registerSecret(nonEmpty(env.TURSO_AUTH_TOKEN));

  if (opts.db !== undefined) {
    if (FILE_URL.test(opts.db)) return file(fileUrlPath(opts.db), cwd, "--db", "given with --db (a file: URL, read as a local path)");
    if (REMOTE_URL.test(opts.db)) return remote(opts.db, token, "--db", "given with --db (remote libSQL; token from VOX_DB_TOKEN)", []);
    return file(opts.db, cwd, "--db", "given with --db");
  }
  const voxUrl = nonEmpty(env.VOX_DB_URL);
  if (voxUrl && FILE_URL.test(voxUrl)) return file(fileUrlPath(voxUrl), cwd, "VOX_DB_URL", "VOX_DB_URL is set to a file: URL (a local path)");
  if (voxUrl) return remote(voxUrl, token, "VOX_DB_URL", "VOX_DB_URL is set (remote libSQL, token from VOX_DB_TOKEN)", []);
  const tursoUrl = nonEmpty(env.VOX_TURSO_URL);
  if (tursoUrl && FILE_URL.test(tursoUrl))
    return file(
      fileUrlPath(tursoUrl),
      cwd,
      "VOX_TURSO_URL",
      "VOX_TURSO_URL is set to a file: URL (a local path; VOX_TURSO_URL is a deprecated alias of VOX_DB_URL)",
      ["VOX_TURSO_URL/VOX_TURSO_TOKEN are deprecated compatibility aliases: set VOX_DB_URL and VOX_DB_TOKEN instead."],
    );
  if (tursoUrl) {
    return remote(tursoUrl, nonEmpty(env.VOX_TURSO_TOKEN), "VOX_TURSO_URL", "VOX_TURSO_URL is set (compatibility alias of VOX_DB_URL)", [
      "VOX_TURSO_URL/VOX_TURSO_TOKEN are deprecated compatibility aliases: set VOX_DB_URL and VOX_DB_TOKEN instead.",
    ]);
  }
  const legacyUrl = nonEmpty(env.TURSO_URL);
  if (legacyUrl && FILE_URL.test(legacyUrl))
    return file(fileUrlPath(legacyUrl), cwd, "TURSO_URL", "TURSO_URL is set to a file: URL (a local path; TURSO_URL is a deprecated legacy name)", [
      "TURSO_URL/TURSO_AUTH_TOKEN are deprecated legacy names: set VOX_DB_URL and VOX_DB_TOKEN instead.",
    ]);
  if (legacyUrl) {
    return remote(legacyUrl, nonEmpty(env.TURSO_AUTH_TOKEN), "TURSO_URL", "TURSO_URL is set (legacy alias of VOX_DB_URL)", [
      "TURSO_URL/TURSO_AUTH_TOKEN are deprecated legacy names: set VOX_DB_URL and VOX_DB_TOKEN instead.",
    ]);
  }
  const p = nonEmpty(env.VOX_DB_PATH);
  if (p) return file(p, cwd, "VOX_DB_PATH", "VOX_DB_PATH is set");
  const dataDir = nonEmpty(env.VOX_DATA_DIR);
  if (dataDir) return file(join(dataDir, "vox.db"), cwd, "VOX_DATA_DIR", "VOX_DATA_DIR is set (its vox.db)");
  const platformDir = platformDataDir(env);
  if (platformDir) {
    return file(join(platformDir, "vox.db"), cwd, "platform-data-dir", "the platform default (no --db, VOX_DB_URL, VOX_DB_PATH or VOX_DATA_DIR is set)");
  }
  return file("app.db", cwd, "app.db", "no platform data directory can be determined (HOME/XDG_DATA_HOME unset), so app.db in the working directory");
}

export function describeResolution(r: ResolvedDb): string {
  return `database: ${r.display} (${r.why})`;
}

export function dbJson(r: ResolvedDb): Record<string, string> {
  return r.kind === "file" ? { path: r.path!, source: r.source } : { url: r.display, source: r.source };
}
