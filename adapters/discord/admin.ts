/** /retrain and /stats, and who counts as an admin: ADMIN_USER_IDS when set, else members with Manage Server. */
import { MessageFlags, PermissionFlagsBits, type ChatInputCommandInteraction, type Interaction } from 'discord.js';
import { retrainSummary, statsSummary } from '../shared/format.js';
import type { DiscordContext } from './context.js';
import { NO_MENTIONS, replyEphemeral } from './replies.js';

export function isAdmin(ctx: DiscordContext, interaction: Interaction): boolean {
  const allow = ctx.config.discord.adminUserIds;
  if (allow.length > 0) return allow.includes(interaction.user.id);
  return interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false;
}

async function refuse(interaction: ChatInputCommandInteraction): Promise<void> {
  await replyEphemeral(interaction, `⛔ Only server admins can use /${interaction.commandName}.`);
}

export async function handleRetrain(ctx: DiscordContext, interaction: ChatInputCommandInteraction): Promise<void> {
  if (!isAdmin(ctx, interaction)) return refuse(interaction);
  await ctx.deferrals.defer(() => interaction.deferReply({ flags: MessageFlags.Ephemeral }));
  const report = await ctx.router.retrain({ requestedBy: `discord:${interaction.user.id}` });
  ctx.logger.info({ userId: interaction.user.id, version: report.version, promoted: report.promoted }, 'discord: retrained');
  await interaction.editReply({ content: retrainSummary(report), allowedMentions: NO_MENTIONS });
}

export async function handleStats(ctx: DiscordContext, interaction: ChatInputCommandInteraction): Promise<void> {
  if (!isAdmin(ctx, interaction)) return refuse(interaction);
  await replyEphemeral(interaction, statsSummary(ctx.router.stats(), ctx.router.experts()));
}
