export { Store } from './Store.js';
export type { StoreOptions, NewDecision, DecisionRow, DecisionStatus, DecisionOutcome, FeedbackRow, GateVersionRow, StoreStats } from './Store.js';
export { openDatabase } from './openDatabase.js';
export { migrate, readMigrations, schemaVersion, defaultMigrationsDir, DatabaseError } from './migrate.js';
export { newDecisionId } from './newDecisionId.js';
export { Checkpointer } from './Checkpointer.js';
