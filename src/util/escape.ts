/** Control characters (tab, newline, escape…) in ids, names and typed text shown as visible escapes, so they never break a line or the layout. */
export function escapeControls(t: string): string {
  return t.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    c === "\t" ? "\\t" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}
