import type { Store } from '../store/Store.js';
import type { MessageLinksApi, Platform } from './types.js';

/** Which platform message shows which decision's answer, and which deliveries were answered already (persisted). */
export class MessageLinks implements MessageLinksApi {
  constructor(private readonly store: Store, private readonly now: () => number = Date.now) {}

  attachMessage(decisionId: string, platform: Platform, messageRef: string): void {
    this.store.attachMessage(decisionId, platform, messageRef, this.now());
  }

  findDecisionByMessage(platform: Platform, messageRef: string): string | null {
    return this.store.findDecisionByMessage(platform, messageRef);
  }

  claimDelivery(platform: Platform, keys: string[]): boolean {
    return keys.length === 0 || this.store.claimDelivery(platform, keys, this.now());
  }
}
