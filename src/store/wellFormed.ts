/** `text` with every lone UTF-16 surrogate replaced by U+FFFD: SQLite would store a lone one as invalid UTF-8. */
export function wellFormed(text: string): string {
  return text.isWellFormed() ? text : text.toWellFormed();
}
