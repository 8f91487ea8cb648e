import type { Store } from '../store/Store.js';
import type { RouterStats } from './types.js';

/** The decision log in numbers, for /stats commands. */
export function routerStats(store: Store, gateVersion: string): RouterStats {
  const s = store.stats();
  const votes = s.upvotes + s.downvotes;
  return {
    decisionsByExpert: s.byExpert,
    total: s.total,
    fallbackRate: s.total ? s.fallbacks / s.total : 0,
    upvoteRate: votes ? s.upvotes / votes : null,
    votes,
    gateVersion,
  };
}
