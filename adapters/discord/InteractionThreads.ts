/**
 * The thread an interaction came from, read from the interaction's own gateway payload. discord.js gives
 * `interaction.channel` only for channels in its cache, and a thread is not there when Discord never announced it to
 * the bot: a user-installed app in a server the bot is not in, a private thread it is not a member of, an archived
 * thread after a restart. Without this, every /ask in such a thread would start a conversation of its own.
 */
import { ChannelType, InteractionType } from 'discord.js';
import { ASK_COMMAND } from './commands.js';

export interface ThreadRef {
  id: string;
  /** The channel the thread is in; a thread started from a message has that message's id as its own. */
  parentId: string | null;
}

const THREAD_TYPES: ReadonlySet<unknown> = new Set([ChannelType.PublicThread, ChannelType.PrivateThread, ChannelType.AnnouncementThread]);

/** /ask interactions that may wait between the payload and their handler (which takes its entry, unless it refused the question first). */
const MAX_WAITING = 1_000;

export class InteractionThreads {
  private readonly byInteraction = new Map<string, ThreadRef>();

  /** Reads a raw gateway packet (discord.js's `raw` event, emitted before the interaction's own event). */
  note(packet: unknown): void {
    const p = packet as { t?: unknown; d?: { id?: unknown; type?: unknown; data?: { name?: unknown }; channel?: { id?: unknown; type?: unknown; parent_id?: unknown } } } | null;
    // /ask only, the one command that reads it: buttons and modals carry their answer's message, which says where they are.
    if (p?.t !== 'INTERACTION_CREATE' || p.d?.type !== InteractionType.ApplicationCommand || p.d.data?.name !== ASK_COMMAND || typeof p.d.id !== 'string') return;
    const channel = p.d.channel;
    if (!channel || !THREAD_TYPES.has(channel.type) || typeof channel.id !== 'string') return;
    if (this.byInteraction.size >= MAX_WAITING) this.byInteraction.delete(this.byInteraction.keys().next().value!); // the oldest
    this.byInteraction.set(p.d.id, { id: channel.id, parentId: typeof channel.parent_id === 'string' ? channel.parent_id : null });
  }

  /** The thread of this interaction when it came from one (once: the entry is removed). */
  take(interactionId: string): ThreadRef | null {
    const thread = this.byInteraction.get(interactionId) ?? null;
    this.byInteraction.delete(interactionId);
    return thread;
  }
}
