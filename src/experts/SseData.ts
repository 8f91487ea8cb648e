/**
 * The `data` of each server-sent event in a text stream, as OpenAI-compatible engines send them: fields end with \n,
 * \r\n or \r, an event ends with a blank line, lines starting with ':' are comments, several `data` lines join with \n.
 * The `openai` client's own reader (three async generators and a byte buffer copied per chunk) cost ~0.1 ms of CPU
 * per streamed answer, on every request moe-router proxies; this one is a string scan.
 */
export class SseData {
  private buffer = '';

  /** The data of every event completed by `text`. */
  push(text: string): string[] {
    let s = this.buffer + text;
    // A \r at the end may be the first half of \r\n: keep it until the next piece says.
    const heldCr = s.endsWith('\r');
    if (heldCr) s = s.slice(0, -1);
    if (s.includes('\r')) s = s.replace(/\r\n?/g, '\n');
    const out: string[] = [];
    let start = 0;
    let end: number;
    while ((end = s.indexOf('\n\n', start)) !== -1) {
      const data = eventData(s.slice(start, end));
      if (data !== null) out.push(data);
      start = end + 2;
    }
    this.buffer = s.slice(start) + (heldCr ? '\r' : '');
    return out;
  }

  /** The events completed by `text`, and the last one when the stream ends without its blank line. */
  end(text = ''): string[] {
    const out = this.push(text);
    const rest = this.buffer.replace(/\r\n?/g, '\n');
    this.buffer = '';
    const data = rest.trim() === '' ? null : eventData(rest.replace(/\n+$/, ''));
    if (data !== null) out.push(data);
    return out;
  }
}

/** The joined `data` lines of one event's text, or null when it has none. */
function eventData(event: string): string | null {
  // The usual event is one `data: ...` line.
  if (event.startsWith('data: ') && !event.includes('\n')) return event.slice(6);
  let data: string | null = null;
  for (const line of event.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') continue;
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    data = data === null ? value : `${data}\n${value}`;
  }
  return data;
}
