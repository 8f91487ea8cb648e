import type { GateModel } from '../gate/types.js';

/**
 * Holds the gate that routes now. The router calls `current()` once per question, so `swap()` (after retraining
 * or a rollback) takes effect for the next question while answers in flight keep the decision they already made.
 */
export class ActiveGate {
  private gate: GateModel;
  private readonly listeners = new Set<(gate: GateModel, previous: GateModel) => void>();

  constructor(initial: GateModel) {
    this.gate = initial;
  }

  current(): GateModel {
    return this.gate;
  }

  /** Replaces the gate; returns the previous one. */
  swap(gate: GateModel): GateModel {
    const previous = this.gate;
    this.gate = gate;
    for (const listener of this.listeners) listener(gate, previous);
    return previous;
  }

  /** Calls `listener` after every swap; returns a function that stops it. */
  onSwap(listener: (gate: GateModel, previous: GateModel) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
