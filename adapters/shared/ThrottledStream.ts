/**
 * Streams a growing answer into one chat message by editing it at most once per `intervalMs` (Discord and Slack both
 * rate-limit edits; about once a second never trips them). Edits never overlap; unchanged content is not re-sent.
 * A platform subclass says how the current header and text look and how an edit is sent.
 */
export interface StreamEdit {
  /** Identifies the rendered content, so an edit with nothing new is skipped. */
  key: string;
  send: () => Promise<unknown>;
}

export abstract class ThrottledStream {
  private text = '';
  private header: string | null = null;
  private shown = '';
  private timer: NodeJS.Timeout | null = null;
  private inflight: Promise<void> | null = null;
  private lastEditAt = 0;
  private closed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** The edit showing `header` and `text` so far, or null when there is nothing to show yet. */
  protected abstract render(header: string | null, text: string): StreamEdit | null;

  /** Names the answering expert as soon as it is known, before the first word. */
  setHeader(header: string): void {
    if (this.closed) return;
    this.header = header;
    this.schedule();
  }

  push(chunk: string): void {
    if (this.closed) return;
    this.text += chunk;
    this.schedule();
  }

  /** Forgets the text so far (none of it was shown): what is pushed next replaces it. The header stays until replaced. */
  protected dropText(): void {
    this.text = '';
  }

  /** Stops streaming, waits for the edit in flight, and then until the next edit is allowed. */
  async finish(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inflight;
    const wait = this.lastEditAt + this.intervalMs - Date.now();
    if (this.lastEditAt > 0 && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  private schedule(): void {
    if (this.closed || this.timer || this.inflight) return;
    const wait = Math.max(0, this.lastEditAt + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = null;
    if (this.closed) return;
    const edit = this.render(this.header, this.text);
    if (edit === null || edit.key === this.shown) return;
    this.shown = edit.key;
    this.lastEditAt = Date.now();
    this.inflight = edit
      .send()
      .then(() => undefined, (err: unknown) => this.onError(err))
      .finally(() => {
        this.inflight = null;
        // Count the interval from the edit's completion: a slow API must not be sent edits back to back.
        this.lastEditAt = Date.now();
        this.schedule();
      });
  }
}
