import { statfsSync } from "node:fs";

/** Free bytes on the filesystem holding `dir`. VOX_CUTOVER_FREE_BYTES overrides it (test hook). */
export function freeBytes(dir: string): number {
  const override = process.env.VOX_CUTOVER_FREE_BYTES;
  if (override !== undefined && override !== "") return Number(override);
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

export function formatBytes(n: number): string {
  const u = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${u[i]}`;
}
