/** Native since Node 20 (V8 11.3); the ES2023 typings we compile against lack them. */
const native = String.prototype as unknown as { isWellFormed(this: string): boolean; toWellFormed(this: string): string };

/** `text` with every lone UTF-16 surrogate replaced by U+FFFD: SQLite would store a lone one as invalid UTF-8. */
export function wellFormed(text: string): string {
  return native.isWellFormed.call(text) ? text : native.toWellFormed.call(text);
}
