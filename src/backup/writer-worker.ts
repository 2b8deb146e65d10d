/**
 * Worker: owns the backup file while the main thread reads and encodes rows (backup-writer.ts does
 * the writing; this thread only receives its messages and sends the reply).
 */
import { parentPort, workerData } from "node:worker_threads";
import { BackupWriter, type WriterMessage, type WriterSetup } from "./backup-writer.js";

const writer = new BackupWriter(workerData as WriterSetup);

parentPort!.on("message", (m: WriterMessage) => {
  const reply = writer.handle(m);
  if (reply) parentPort!.postMessage(reply);
});
