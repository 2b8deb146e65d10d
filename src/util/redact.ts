/**
 * Secrets never leak: every line the product prints or writes passes through redact().
 * Tokens are registered when the database is resolved; URLs lose userinfo and credential parameters.
 */
const secrets = new Set<string>();
const CREDENTIAL_PARAMS = /^(auth_?token|authtoken|token|access_?token|jwt|password|passwd|pwd|secret|api_?key|key)$/i;

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

/** A URL with userinfo and credential query parameters replaced by `***`. Never throws. */
export function redactUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*@)?([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(url);
  if (!m) return redactText(url, false);
  const [, scheme, userinfo, rest, query, frag] = m;
  let q = query ?? "";
  if (q) {
    q =
      "?" +
      q
        .slice(1)
        .split("&")
        .map((kv) => {
          const eq = kv.indexOf("=");
          const k = eq < 0 ? kv : kv.slice(0, eq);
          return CREDENTIAL_PARAMS.test(decodeSafe(k)) && eq >= 0 ? `${k}=***` : kv;
        })
        .join("&");
  }
  return redactText(`${scheme}${userinfo ? "***@" : ""}${rest}${q}${frag ?? ""}`, false);
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const URL_IN_TEXT = /\b(?:libsql|https?|wss?|file):\/\/[^\s"'<>]+/gi;

/** Removes registered secrets and credentials in any URL found in free text. */
export function redactText(text: string, urls = true): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join("***");
  if (urls) out = out.replace(URL_IN_TEXT, (u) => redactUrl(u));
  return out;
}

/** Deep-redacts strings inside a JSON-able value. */
export function redactValue<T>(value: T): T {
  if (typeof value === "string") return redactText(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactValue(v)) as T;
  if (value && typeof value === "object" && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    // defineProperty: a key named `__proto__` stays an own key.
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: redactValue(v), enumerable: true, writable: true, configurable: true });
    return out as T;
  }
  return value;
}
