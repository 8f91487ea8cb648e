/**
 * Threads of recent answer messages (`channel:ts` → thread ts), so a reaction's private confirmation lands in the
 * answer's thread. In memory and bounded: after a restart the confirmation shows in the channel instead.
 */
export class AnswerThreads {
  private readonly map = new Map<string, string>();
  constructor(private readonly max = 5000) {}

  remember(channel: string, ts: string, threadTs: string): void {
    this.map.set(`${channel}:${ts}`, threadTs);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  threadOf(channel: string, ts: string): string | null {
    return this.map.get(`${channel}:${ts}`) ?? null;
  }
}
