import { existsSync, statSync } from "node:fs";
import { probeFile } from "../db/probe.js";
import { refused } from "../errors.js";

/** What changes whenever anything writes to a SQLite file (or its WAL). */
export interface FileIdentity {
  size: number;
  mtimeNs: string;
  changeCounter: number | null;
  walSize: number | null;
  walMtimeNs: string | null;
}

export function fileIdentity(path: string): FileIdentity {
  const st = statSync(path, { bigint: true });
  const probe = probeFile(path);
  const wal = `${path}-wal`;
  // An empty -wal holds nothing (opening a WAL database for writing creates one): same as none.
  const found = existsSync(wal) ? statSync(wal, { bigint: true }) : null;
  const wst = found && found.size > 0n ? found : null;
  return {
    size: Number(st.size),
    mtimeNs: st.mtimeNs.toString(),
    changeCounter: probe.state === "ok" ? probe.header.changeCounter : null,
    walSize: wst ? Number(wst.size) : null,
    walMtimeNs: wst ? wst.mtimeNs.toString() : null,
  };
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.changeCounter === b.changeCounter && a.walSize === b.walSize && a.walMtimeNs === b.walMtimeNs;
}

export function describeIdentityChange(a: FileIdentity, b: FileIdentity): string {
  const parts: string[] = [];
  if (a.size !== b.size) parts.push(`size ${a.size} → ${b.size}`);
  if (a.changeCounter !== b.changeCounter) parts.push(`change counter ${a.changeCounter} → ${b.changeCounter}`);
  if (a.mtimeNs !== b.mtimeNs) parts.push("modification time changed");
  if (a.walSize !== b.walSize || a.walMtimeNs !== b.walMtimeNs) parts.push("its -wal changed");
  return parts.join(", ");
}

/**
 * The gate before anything replaces or changes the primary: it must still be exactly what the
 * export read. `consequence` says what would be lost (for the message).
 */
export function assertUnchangedSince(before: FileIdentity, path: string, consequence: string): FileIdentity {
  const now = fileIdentity(path);
  if (!sameIdentity(before, now)) {
    throw refused({
      what: `The primary ${path} changed since the export (${describeIdentityChange(before, now)}): ${consequence}.`,
      untouched: "The primary was left in place, unchanged by this tool.",
      next: "Stop the application writing to it, roll this run back (--rollback) and run the cutover again.",
    });
  }
  return now;
}
