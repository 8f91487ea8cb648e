/**
 * Runs SQLite WAL checkpoints on a worker thread. A checkpoint fsyncs the database file, which on a slow disk takes
 * milliseconds; doing it inline (SQLite's default every 1000 pages) would stall whichever question triggered it.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 50');
let ticks = 0;
const timer = setInterval(() => {
  ticks++;
  try {
    let big = false;
    try { big = fs.statSync(workerData.file + '-wal').size > workerData.truncateAboveBytes; } catch {}
    // PASSIVE never blocks the bot's writes; TRUNCATE (rarely) resets a WAL that steady traffic kept growing.
    db.pragma(big || ticks % 60 === 0 ? 'wal_checkpoint(TRUNCATE)' : 'wal_checkpoint(PASSIVE)');
  } catch (err) {
    if (!/busy|locked/i.test(String(err && err.message))) parentPort.postMessage({ error: String(err && err.message) });
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface CheckpointerOptions {
  /** Default 1000 ms. */
  intervalMs?: number;
  /** WAL size above which the checkpoint also truncates it. Default 64 MB. */
  truncateAboveBytes?: number;
  onError?: (message: string) => void;
}

export class Checkpointer {
  private readonly worker: Worker;
  private stopped: Promise<void> | null = null;
  private exited = false;

  constructor(file: string, options: CheckpointerOptions = {}) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      // The worker is plain CommonJS; the parent's loader flags (e.g. tsx) are not needed there.
      execArgv: [],
      workerData: { driver, file, intervalMs: options.intervalMs ?? 1000, truncateAboveBytes: options.truncateAboveBytes ?? 64e6 },
    });
    this.worker.unref();
    this.worker.once('exit', () => {
      this.exited = true;
    });
    this.worker.on('message', (m: { error?: string }) => {
      if (m.error) options.onError?.(m.error);
    });
    this.worker.on('error', (err) => options.onError?.(err.message));
  }

  /** Stops the worker and closes its connection. */
  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      if (this.exited) return resolve();
      this.worker.once('exit', () => resolve());
      // Unref'd while running so it never keeps the process alive; ref'd while stopping so awaiting stop() can finish.
      this.worker.ref();
      this.worker.postMessage('stop');
      setTimeout(() => void this.worker.terminate(), 2_000).unref();
    });
    return this.stopped;
  }
}
