/** Reading Slack Web API failures: the error code Slack answered, and which codes mean "this workspace cannot". */

type Fields = Record<string, unknown>;
const obj = (v: unknown): Fields => (typeof v === 'object' && v !== null ? (v as Fields) : {});

/** Slack API errors carry `data.error` (e.g. invalid_auth); anything else is described by its message. */
export function slackErrorCode(err: unknown): string {
  const code = obj(obj(err).data).error;
  if (typeof code === 'string' && code !== '') return code;
  return err instanceof Error ? err.message : String(err);
}

/** Answers meaning the method or feature is not available to this app or workspace (not a passing failure). */
const UNSUPPORTED = new Set([
  'unknown_method', 'not_allowed', 'not_allowed_token_type', 'method_not_supported_for_channel_type', 'feature_not_enabled',
  'team_not_allowed', 'missing_scope', 'method_deprecated', 'not_supported', 'access_denied',
]);

export function isUnsupported(err: unknown): boolean {
  return UNSUPPORTED.has(slackErrorCode(err));
}

/** A fetch that failed because the pooled connection was already closed by the server (a stale keep-alive socket). */
export function isConnectionReset(err: unknown): boolean {
  if (!(err instanceof TypeError)) return false;
  const code = obj(obj(err).cause).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET';
}

/**
 * Runs a response_url POST, once more if the connection was reset before Slack saw it. Node's fetch reuses idle
 * keep-alive sockets and does not retry a POST; after the event loop was busy (a retrain) longer than the server's
 * keep-alive, the first request can go to a socket the server has closed.
 */
export async function retryOnReset<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (!isConnectionReset(err)) throw err;
    return await send();
  }
}
