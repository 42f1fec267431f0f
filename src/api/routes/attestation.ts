/** Protocol §2: the attestation quote, and the development root in dev mode. */
import type { FastifyInstance } from 'fastify';
import { fromBase64 } from '../../common/bytes.js';
import type { AppDeps } from '../app.js';
import { ApiError } from '../errors.js';
import { quoteSchema } from '../schemas.js';

export function attestationRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get<{ Querystring: { nonce?: string } }>(
    '/attestation/quote',
    { schema: quoteSchema },
    async (req, reply) => {
      const { nonce } = req.query;
      if (nonce !== undefined) {
        let n: Uint8Array;
        try {
          n = fromBase64(nonce);
        } catch {
          throw new ApiError('INVALID_REQUEST', 'nonce must be canonical base64');
        }
        if (n.length < 1 || n.length > 64)
          throw new ApiError('INVALID_REQUEST', 'nonce must be 1..64 bytes');
      }
      const id = await deps.enclave.identity();
      // The quote attests the key the host stored as current, so document and enclave_pubkey agree.
      const { document } = await deps.enclave.call('attest', {
        nonce: nonce ?? null,
        key_id: id.key_id,
      });
      reply.header('cache-control', 'no-store');
      return {
        quote: document,
        enclave_pubkey: id.enclave_pubkey,
        signing_pubkey: id.signing_pubkey,
        image_hash: id.image_hash,
        format: id.format,
      };
    },
  );

  app.get('/attestation/dev-root', async (_req, reply) => {
    const pem = deps.devRootPem();
    if (pem === null) throw new ApiError('NOT_FOUND');
    return reply.type('text/plain; charset=utf-8').send(pem);
  });

  // Development mode only: the simulator's public demo credentials, so the page can offer them.
  app.get('/dev/demo-accounts', async (_req, reply) => {
    const accounts = deps.demoAccounts?.() ?? null;
    if (accounts === null) throw new ApiError('NOT_FOUND');
    reply.header('cache-control', 'no-store');
    return {
      note: 'simulated exchange accounts of this development instance; they open nothing real',
      exchanges: accounts,
    };
  });
}
