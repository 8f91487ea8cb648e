/** Worker-thread entry of trainOffThread: trains one gate and posts back its file JSON, or the error. */
import { parentPort, workerData } from 'node:worker_threads';
import { trainGate, TrainingDataError } from '../gate/trainGate.js';
import type { TrainingExample } from '../gate/types.js';

const { examples } = workerData as { examples: TrainingExample[] };
try {
  parentPort!.postMessage({ ok: true, gate: trainGate(examples).gate.toJSON() });
} catch (err) {
  parentPort!.postMessage({ ok: false, trainingData: err instanceof TrainingDataError, message: err instanceof Error ? err.message : String(err) });
}
