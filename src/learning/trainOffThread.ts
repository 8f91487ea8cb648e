/**
 * trainGate in a worker thread, so a retraining (seconds on a busy machine) never blocks the bot's event loop: Slack
 * Socket Mode acks, Discord heartbeats and HTTP answers go on while it trains.
 */
import { Worker } from 'node:worker_threads';
import { Gate } from '../gate/Gate.js';
import { trainGate, TrainingDataError } from '../gate/trainGate.js';
import type { TrainingExample } from '../gate/types.js';
import type { Logger } from '../logger.js';

type WorkerReply = { ok: true; gate: unknown } | { ok: false; trainingData: boolean; message: string };

// Under tsx (tests, benches) the worker is the .ts source; from dist/ it is the compiled .js.
const WORKER_URL = new URL(`./trainGateWorker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export function trainOffThread(examples: readonly TrainingExample[], logger?: Logger): Promise<Gate> {
  return new Promise<Gate>((resolve, reject) => {
    let settled = false;
    const inThread = (why: string): void => {
      // A worker that cannot start (no threads left, a broken install) must not stop retraining: train here instead.
      logger?.warn({ err: why }, 'retrain: training worker unavailable, training on the main thread');
      try {
        resolve(trainGate(examples).gate);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    let worker: Worker;
    try {
      worker = new Worker(WORKER_URL, { workerData: { examples } });
    } catch (err) {
      inThread(err instanceof Error ? err.message : String(err));
      return;
    }
    worker.once('message', (reply: WorkerReply) => {
      settled = true;
      void worker.terminate();
      if (reply.ok) {
        try {
          resolve(Gate.fromJSON(reply.gate, '(training worker)'));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      } else reject(reply.trainingData ? new TrainingDataError(reply.message) : new Error(reply.message));
    });
    worker.once('error', (err) => {
      if (settled) return;
      settled = true;
      inThread(err.message);
    });
    worker.once('exit', (code) => {
      if (settled) return;
      settled = true;
      inThread(`the worker exited with code ${code} before answering`);
    });
  });
}
