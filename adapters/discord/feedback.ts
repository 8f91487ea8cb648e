/** 👍 / 👎 buttons, the "which expert should have answered?" select and "Ask <expert> instead". */
import { MessageFlags, type ButtonInteraction, type StringSelectMenuInteraction } from 'discord.js';
import { isExpertId } from '../../src/gate/types.js';
import { deliverAnswer } from './answer.js';
import { interactionChain } from './AnswerChain.js';
import { isAdmin } from './admin.js';
import type { DiscordContext } from './context.js';
import type { CustomAction } from './customIds.js';
import { correctionComponents, expertName, followUpModal, NO_MENTIONS, replyEphemeral, rerouteButton } from './replies.js';

export async function handleComponent(
  ctx: DiscordContext,
  interaction: ButtonInteraction | StringSelectMenuInteraction,
  action: CustomAction,
): Promise<void> {
  const userId = interaction.user.id;
  const admin = isAdmin(ctx, interaction);
  switch (action.kind) {
    case 'upvote': {
      const r = ctx.router.feedback(action.decisionId, userId, 1, null, { admin });
      await replyEphemeral(interaction, r.replaced ? 'Changed your vote to 👍. Thanks!' : 'Recorded your 👍. Thanks!');
      return;
    }
    case 'downvote': {
      const r = ctx.router.feedback(action.decisionId, userId, -1, null, { admin });
      await interaction.reply({
        content: `${r.replaced ? 'Changed your vote to 👎.' : 'Recorded your 👎.'} Which expert should have answered?`,
        components: correctionComponents(action.decisionId, ctx.router.experts(), action.runnerUp),
        flags: MessageFlags.Ephemeral,
        allowedMentions: NO_MENTIONS,
      });
      return;
    }
    case 'correct': {
      const picked = interaction.isStringSelectMenu() ? interaction.values[0] : undefined;
      if (!isExpertId(picked)) {
        await replyEphemeral(interaction, '⚠️ That choice is not valid.');
        return;
      }
      ctx.router.feedback(action.decisionId, userId, -1, picked, { admin });
      const experts = ctx.router.experts();
      const chosen = experts.find((e) => e.id === picked);
      await interaction.update({
        content: `Recorded: 👎, ${expertName(experts, picked)} should have answered. Retraining learns from this.`,
        components: chosen ? [rerouteButton(action.decisionId, chosen)] : [],
        allowedMentions: NO_MENTIONS,
      });
      return;
    }
    case 'reroute':
      await deliverAnswer(ctx, interactionChain(ctx, interaction), (options) => ctx.router.reroute(action.decisionId, action.expertId, options));
      return;
    case 'followUp':
      await interaction.showModal(followUpModal(action.decisionId, ctx.config.maxQueryChars));
      return;
    case 'followUpModal':
      await replyEphemeral(interaction, '⚠️ This action is not supported.');
      return;
  }
}
