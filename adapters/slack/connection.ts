/**
 * Chooses how Slack reaches the bot from the settings: Socket Mode when SLACK_APP_TOKEN is set, else HTTP
 * (Events API, signatures verified by Bolt with SLACK_SIGNING_SECRET). Invalid combinations name the setting.
 */
import { HTTPReceiver, SocketModeReceiver, type Logger } from '@slack/bolt';
import { ConfigError, type Config } from '../../src/config.js';

export const EVENTS_PATH = '/slack/events';
/** Socket Mode pings: Bolt's 5 s default reconnects needlessly on a busy 2-core host while experts generate. */
const CLIENT_PING_TIMEOUT_MS = 15_000;

export type SlackMode = 'http' | 'socket';

export interface SlackSettings {
  mode: SlackMode;
  botToken: string;
  signingSecret: string | null;
  appToken: string | null;
  /** Web API base with a trailing slash, or undefined for https://slack.com/api/. */
  apiUrl: string | undefined;
}

export function slackSettings(config: Config): SlackSettings {
  const { botToken, signingSecret, appToken, apiUrl } = config.slack;
  if (!botToken) throw new ConfigError('SLACK_BOT_TOKEN', 'is required to start the Slack adapter (the xoxb-… token from OAuth & Permissions)');
  if (botToken.startsWith('xapp-')) throw new ConfigError('SLACK_BOT_TOKEN', 'is an app-level token (xapp-…); put it in SLACK_APP_TOKEN and the bot token (xoxb-…) here');
  if (appToken !== null && !appToken.startsWith('xapp-')) {
    throw new ConfigError('SLACK_APP_TOKEN', 'must be an app-level token starting with xapp- (Basic Information → App-Level Tokens, scope connections:write)');
  }
  if (appToken === null && signingSecret === null) {
    throw new ConfigError('SLACK_SIGNING_SECRET', 'is required for HTTP mode (Events API); or set SLACK_APP_TOKEN to use Socket Mode');
  }
  return {
    mode: appToken !== null ? 'socket' : 'http',
    botToken,
    signingSecret,
    appToken,
    apiUrl: apiUrl === null ? undefined : apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
  };
}

export function createReceiver(settings: SlackSettings, logger: Logger): HTTPReceiver | SocketModeReceiver {
  if (settings.mode === 'socket') {
    return new SocketModeReceiver({
      appToken: settings.appToken!,
      logger,
      clientPingTimeout: CLIENT_PING_TIMEOUT_MS,
      // apps.connections.open must go to the same (possibly overridden) Web API as everything else.
      installerOptions: { clientOptions: settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {} },
    });
  }
  return new HTTPReceiver({
    signingSecret: settings.signingSecret!,
    endpoints: EVENTS_PATH,
    logger,
    // Ack at once (Slack's 3-second window); answers are generated after the response.
    processBeforeResponse: false,
  });
}
