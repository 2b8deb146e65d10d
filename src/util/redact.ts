/**
 * Secrets never leak: every line the product prints or writes passes through redact().
 * Tokens are registered when the database is resolved; URLs lose userinfo and credential parameters.
 */
const secrets = new Set<string>();
/** A parameter whose value may be a credential (in a query, a `;` parameter or a fragment). */
const CREDENTIAL_PARAMS = /^(tok|pw|sig|.*(token|auth|jwt|pass|pwd|secret|api_?key|access_?key|credential|session|cookie|signature).*|key)$/i;

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

/**
 * A URL with every credential replaced by `***`. Never throws. Userinfo is everything up to the last
 * `@` (a password may hold a raw `/`, `#` or `?`); credential parameters are redacted in the query and
 * in `;` parameters (`;authToken=`); a fragment is dropped whole (it may carry one); the form without
 * slashes (`libsql:user:pass@host`) too. A `file:` URL has no credentials: only its parameters are looked at.
 */
export function redactUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:)(\/\/)?([\s\S]*)$/i.exec(url);
  if (!m) return redactText(url, false);
  const scheme = m[1]!;
  const slashes = m[2] ?? "";
  let rest = m[3]!;
  let userinfo = false;
  if (!/^file:$/i.test(scheme)) {
    const at = rest.lastIndexOf("@");
    if (at >= 0) {
      rest = rest.slice(at + 1);
      userinfo = true;
    }
  }
  let frag = "";
  const hash = rest.indexOf("#");
  if (hash >= 0) {
    frag = hash < rest.length - 1 ? "#***" : "#";
    rest = rest.slice(0, hash);
  }
  rest = rest.replace(/([;?&])([^=;&?#/]*)=([^;&#]*)/g, (all, sep: string, k: string) => (CREDENTIAL_PARAMS.test(decodeSafe(k)) ? `${sep}${k}=***` : all));
  return redactText(`${scheme}${slashes}${userinfo ? "***@" : ""}${rest}${frag}`, false);
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const URL_IN_TEXT = /\b(?:(?:libsql|https?|wss?):(?:\/\/)?|file:\/\/)[^\s"'<>]+/gi;

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
