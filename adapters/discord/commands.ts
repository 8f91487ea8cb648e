/**
 * The slash commands the bot registers. /ask works everywhere: in servers, in the bot's DMs and in group DMs, as a
 * server install or a user install. Admin commands stay guild-only (server install) with default_member_permissions
 * = Manage Server, so server owners can adjust who sees them (Server Settings → Integrations).
 */
import {
  ApplicationIntegrationType,
  InteractionContextType,
  PermissionFlagsBits,
  SlashCommandBuilder,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';

/** Discord caps string options at 6,000 characters. */
const DISCORD_MAX_OPTION_LENGTH = 6000;

export const ASK_COMMAND = 'ask';
export const RETRAIN_COMMAND = 'retrain';
export const STATS_COMMAND = 'stats';
export const QUERY_OPTION = 'query';

export function buildCommands(maxQueryChars: number): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  const guildOnly = (b: SlashCommandBuilder): SlashCommandBuilder =>
    b.setContexts(InteractionContextType.Guild).setIntegrationTypes(ApplicationIntegrationType.GuildInstall);
  const ask = new SlashCommandBuilder().setName(ASK_COMMAND).setDescription('Ask a question; the best expert answers')
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall, ApplicationIntegrationType.UserInstall)
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM, InteractionContextType.PrivateChannel)
    .addStringOption((o) =>
      o.setName(QUERY_OPTION).setDescription('Your question').setRequired(true).setMinLength(1)
        .setMaxLength(Math.min(maxQueryChars, DISCORD_MAX_OPTION_LENGTH)));
  const retrain = guildOnly(new SlashCommandBuilder().setName(RETRAIN_COMMAND)
    .setDescription('Retrain the routing gate from votes now (admins)')
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild));
  const stats = guildOnly(new SlashCommandBuilder().setName(STATS_COMMAND)
    .setDescription('Routing statistics: decisions per expert, 👍 rate, fallback rate (admins)')
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild));
  return [ask.toJSON(), retrain.toJSON(), stats.toJSON()];
}
