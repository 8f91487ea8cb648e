/**
 * Slack's text format both ways: escaping what we post (so an answer or an echoed question can never notify
 * anyone or become a link) and turning a received message back into the plain question the router sees.
 */

const BROADCAST = /@(here|channel|everyone)\b/gi;

/**
 * Escapes &, < and > as Slack's formatting rules require (they start mentions and links) and breaks plain
 * `@here`/`@channel`/`@everyone` with a zero-width space, so no text we post notifies anyone.
 */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(BROADCAST, '@\u200b$1');
}

/** Markdown bold (`**x**`, what models write) becomes Slack bold (`*x*`); then everything is escaped. */
export function toMrkdwn(markdown: string): string {
  return escapeMrkdwn(markdown.replace(/\*\*(?=\S)([^*\n]*?\S)\*\*/g, '*$1*'));
}

/**
 * Text for a streamed `markdown_text` (standard markdown, shown as written): `<!here>`, `<@U…>`, `<#C…>` and plain
 * `@here`/`@channel`/`@everyone` are broken with a zero-width space so they never notify anyone. Word-local, so
 * pieces cut at whitespace give the same result as the whole text.
 */
export function toMarkdownText(markdown: string): string {
  return markdown.replace(/<([!@#])/g, '<\u200b$1').replace(BROADCAST, '@\u200b$1');
}

/** Slack's `<…>` entities as a reader would see them: `<@U1|ann>` → `@ann`, `<!here>` → `@here`, links → their label. */
function readableEntity(inner: string): string {
  const [target = '', label] = inner.split('|', 2);
  if (target.startsWith('@')) return label ? `@${label.replace(/^@/, '')}` : target;
  if (target.startsWith('#')) return label ? `#${label}` : target;
  if (target.startsWith('!')) {
    if (label) return label.startsWith('@') ? label : `@${label}`;
    const name = target.slice(1).split('^')[0] ?? '';
    return name === 'subteam' ? '@group' : `@${name}`;
  }
  return label ? `${label} (${target})` : target;
}

/** The question in a received message: the bot's own mention removed, entities made readable, HTML escapes undone. */
export function questionFromSlack(text: string, botUserId?: string): string {
  let out = text;
  if (botUserId) out = out.replace(new RegExp(`<@${botUserId}(?:\\|[^>]*)?>`, 'g'), ' ');
  out = out.replace(/<([^<>]*)>/g, (_m, inner: string) => readableEntity(inner));
  out = out.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return out.replace(/[ \t]+/g, ' ').trim();
}
