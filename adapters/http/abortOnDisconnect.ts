import type { FastifyReply, FastifyRequest } from 'fastify';

/** Aborts the answer when the caller goes away, so an expert (local or upstream) does not generate for nobody. */
export function abortOnDisconnect(request: FastifyRequest, reply: FastifyReply): AbortController {
  const abort = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  request.raw.on('aborted', () => abort.abort());
  return abort;
}
