/**
 * Worker: owns the backup file while the main thread reads and encodes rows (backup-writer.ts does
 * the writing; this thread only receives its messages and sends the reply). Its first message is
 * its setup (the file to write): it may be started before the export knows it (export-workers.ts).
 */
import { parentPort } from "node:worker_threads";
import { BackupWriter, type WriterMessage, type WriterSetup } from "./backup-writer.js";

let writer: BackupWriter | null = null;

parentPort!.on("message", (m: WriterMessage | WriterSetup) => {
  if (!writer) {
    writer = new BackupWriter(m as WriterSetup);
    return;
  }
  const reply = writer.handle(m as WriterMessage);
  if (reply) parentPort!.postMessage(reply);
});
