/**
 * `npm run register-commands`: registers /ask, /retrain and /stats with Discord by REST PUT (replacing the
 * previous set) in DISCORD_GUILD_ID when set (instant), else globally. Honours DISCORD_API_URL.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { REST, Routes } from 'discord.js';
import { ConfigError, loadConfig, type Config } from '../../src/config.js';
import { loadEnvFile } from '../../src/env.js';
import { buildCommands } from './commands.js';

export interface RegisteredCommands {
  scope: 'guild' | 'global';
  guildId: string | null;
  names: string[];
}

export async function registerCommands(config: Config): Promise<RegisteredCommands> {
  const { token, appId, guildId, apiUrl } = config.discord;
  if (!token) throw new ConfigError('DISCORD_TOKEN', 'is required to register commands');
  if (!appId) throw new ConfigError('DISCORD_APP_ID', 'is required to register commands (Developer Portal → General Information → Application ID)');
  const rest = new REST(apiUrl ? { api: apiUrl } : {}).setToken(token);
  const route = guildId ? Routes.applicationGuildCommands(appId, guildId) : Routes.applicationCommands(appId);
  const registered = (await rest.put(route, { body: buildCommands(config.maxQueryChars) })) as { name: string }[];
  return { scope: guildId ? 'guild' : 'global', guildId, names: registered.map((c) => c.name) };
}

async function main(): Promise<number> {
  try {
    loadEnvFile();
    const result = await registerCommands(loadConfig());
    const where = result.scope === 'guild' ? `in guild ${result.guildId} (available now)` : 'globally (may take up to an hour to appear)';
    console.log(`Registered ${result.names.length} commands ${where}: ${result.names.map((n) => `/${n}`).join(', ')}`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) console.error(`register-commands: ${err.message}`);
    else console.error(`register-commands: Discord refused the registration: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main().then((code) => {
    process.exitCode = code;
  });
}
