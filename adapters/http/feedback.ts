/** POST /feedback: 👍/👎 on an answer, optionally naming the expert that should have answered. */
import type { FastifyInstance } from 'fastify';
import type { Router } from '../../src/core/Router.js';
import { errorMessage, RouterError } from '../../src/core/errors.js';
import { legacyExpertName, parseExpertName } from '../../src/core/labels.js';
import { errorSchema, formatValidationErrors, sendError, sendRouterError } from './errors.js';
import { userIdSchema } from './userId.js';

/** Who votes when an HTTP caller names nobody. */
export const ANONYMOUS_HTTP_USER = 'http:anonymous';

interface FeedbackBody {
  decisionId: string;
  vote: 'up' | 'down' | '+1' | '-1' | 1 | -1;
  expert?: string;
  userId?: string;
}

/** A /v1 completion's id: this prefix and its decisionId. */
const COMPLETION_ID_PREFIX = 'chatcmpl-';

export function registerFeedback(app: FastifyInstance, router: Router): void {
  app.post<{ Body: FeedbackBody }>('/feedback', {
    // Ajv's anyOf report for a bad vote is three lines of schema; say what a vote is instead.
    schemaErrorFormatter: (errors, dataVar) =>
      (errors.some((e) => e.instancePath === '/vote') ? new Error(errorMessage('invalid_vote')) : formatValidationErrors(errors, dataVar)),
    schema: {
      summary: 'Vote on an answer',
      description: '`expert` (e.g. FinanceExpert or finance) names the expert that should have answered; it makes the vote a correction.',
      body: {
        type: 'object',
        properties: {
          decisionId: { type: 'string', minLength: 1, maxLength: 100 },
          // "+1"/"-1" as strings too: the error message names them, and +1 is not a JSON number.
          vote: { anyOf: [{ type: 'string', enum: ['up', 'down', '+1', '-1'] }, { type: 'integer', enum: [1, -1] }] },
          expert: { type: 'string', maxLength: 64 },
          userId: userIdSchema,
        },
        required: ['decisionId', 'vote'],
        additionalProperties: false,
      },
      response: {
        200: {
          type: 'object',
          properties: {
            decisionId: { type: 'string' },
            vote: { type: 'string', enum: ['up', 'down'] },
            expert: { type: ['string', 'null'] },
            replaced: { type: 'boolean', description: 'True when this replaced an earlier vote by the same user' },
          },
        },
        '4xx': errorSchema,
        '5xx': errorSchema,
      },
    },
  }, async (request, reply) => {
    const { vote, expert, userId } = request.body;
    // A /v1 completion's own id is `chatcmpl-<decisionId>`: a client that keeps only that id can vote with it too.
    const decisionId = request.body.decisionId.startsWith(COMPLETION_ID_PREFIX) ? request.body.decisionId.slice(COMPLETION_ID_PREFIX.length) : request.body.decisionId;
    const corrected = expert === undefined || expert.trim() === '' ? null : parseExpertName(expert);
    if (expert !== undefined && expert.trim() !== '' && corrected === null) {
      return sendError(reply, 'invalid_expert', errorMessage('invalid_expert', { expert }));
    }
    try {
      const result = router.feedback(decisionId, userId ?? ANONYMOUS_HTTP_USER, vote === 'up' || vote === '+1' || vote === 1 ? 1 : -1, corrected);
      return reply.send({
        decisionId: result.decisionId,
        vote: result.vote === 1 ? 'up' : 'down',
        expert: result.correctedExpert ? legacyExpertName(result.correctedExpert) : null,
        replaced: result.replaced,
      });
    } catch (err) {
      if (err instanceof RouterError) return sendRouterError(reply, err);
      throw err;
    }
  });
}
