/**
 * What the rest of the product uses from learning: the active gate (load, hold, follow), retraining now (with
 * progress), rolling back to a version, listing versions, the schedule, and recording a gate trained by `moe train`.
 */
export { ActiveGate, loadActiveGate, watchActiveGate } from './ActiveGate.js';
export { createRetrainer, formatRetrainReport, RETRAIN_STAGES, type Retrainer, type RetrainOptions, type RetrainProgress, type RetrainStage } from './Retrainer.js';
export { rollbackGate } from './rollbackGate.js';
export { listGateVersions } from './listGateVersions.js';
export { scheduleRetraining } from './scheduleRetraining.js';
export { publishTrainedGate } from './publishTrainedGate.js';
export { pruneGateVersions } from './pruneGateVersions.js';
