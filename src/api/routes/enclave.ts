/** Protocol §3–5: submit_key, request_aggregates, revoke. */
import type { FastifyInstance } from 'fastify';
import { fromBase64 } from '../../common/bytes.js';
import { formatTime, parseTime } from '../../common/time.js';
import { jcs } from '../../crypto/jcs.js';
import { SUPPORTED_EXCHANGES } from '../../wire/exchanges.js';
import type { SignedAggregates } from '../../wire/messages.js';
import type { AppDeps } from '../app.js';
import { ApiError } from '../errors.js';
import { requestAggregatesSchema, revokeSchema, submitKeySchema } from '../schemas.js';
import { newSessionId } from '../session-id.js';

interface SubmitBody {
  ephemeral_pub: string;
  nonce: string;
  ciphertext: string;
  tag: string;
  enclave_pubkey?: string;
  metadata: { exchange: string; label: string; ttl: number };
}

function decodedLength(value: string, min: number, max: number): void {
  let n: number;
  try {
    n = fromBase64(value).length;
  } catch {
    throw new ApiError('INVALID_REQUEST', 'envelope fields must be canonical base64');
  }
  if (n < min || n > max)
    throw new ApiError('INVALID_REQUEST', 'envelope fields have the wrong length');
}

export function enclaveRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { store, enclave, config } = deps;

  app.post<{ Body: SubmitBody }>(
    '/enclave/submit_key',
    { schema: submitKeySchema },
    async (req, reply) => {
      const b = req.body;
      if (!SUPPORTED_EXCHANGES.includes(b.metadata.exchange))
        throw new ApiError('UNKNOWN_EXCHANGE');
      if (b.metadata.ttl < 60 || b.metadata.ttl > config.MAX_TTL_SECONDS)
        throw new ApiError(
          'TTL_OUT_OF_RANGE',
          `ttl must be between 60 and ${config.MAX_TTL_SECONDS} seconds`,
        );
      decodedLength(b.ephemeral_pub, 32, 32);
      decodedLength(b.nonce, 12, 12);
      decodedLength(b.tag, 16, 16);
      decodedLength(b.ciphertext, 1, 8192);
      const id = await enclave.identity();
      if (b.enclave_pubkey !== undefined && b.enclave_pubkey !== id.enclave_pubkey)
        throw new ApiError('UNKNOWN_ENCLAVE_KEY');
      const envelope = {
        ephemeral_pub: b.ephemeral_pub,
        nonce: b.nonce,
        ciphertext: b.ciphertext,
        tag: b.tag,
        key_id: id.key_id,
      };
      try {
        await enclave.call('open_envelope', { envelope, exchange: b.metadata.exchange });
        deps.metrics.cryptoOps.inc({ outcome: 'ok' });
      } catch (e) {
        if ((e as { code?: string }).code === 'DECRYPTION_FAILED')
          deps.metrics.cryptoOps.inc({ outcome: 'decryption_failed' });
        throw e;
      }
      const sessionId = newSessionId();
      const expiresAt = new Date(deps.now() + b.metadata.ttl * 1000);
      await store.createSession({
        sessionId,
        exchange: b.metadata.exchange,
        label: b.metadata.label,
        expiresAt,
        envelope: {
          ephemeralPub: b.ephemeral_pub,
          nonce: b.nonce,
          ciphertext: b.ciphertext,
          tag: b.tag,
          keyId: id.key_id,
        },
      });
      await store.logOp({
        sessionId,
        event: 'session_created',
        detail: { exchange: b.metadata.exchange, key_id: id.key_id, ttl: b.metadata.ttl },
      });
      return reply
        .code(201)
        .send({ session_id: sessionId, expires_at: formatTime(expiresAt.getTime()) });
    },
  );

  app.post<{ Body: { session_id: string; from?: string; to?: string } }>(
    '/enclave/request_aggregates',
    { schema: requestAggregatesSchema },
    async (req) => {
      const { session_id, from = null, to = null } = req.body;
      if ((from !== null && parseTime(from) === null) || (to !== null && parseTime(to) === null)) {
        throw new ApiError('INVALID_REQUEST', 'from and to must be RFC 3339 UTC times');
      }
      if (from !== null && to !== null && parseTime(from)! > parseTime(to)!)
        throw new ApiError('INVALID_REQUEST', 'from must not be after to');
      const session = await store.getSession(session_id);
      if (!session) throw new ApiError('SESSION_NOT_FOUND');
      if (session.status === 'revoked') throw new ApiError('SESSION_REVOKED');
      const credential =
        session.status === 'active' && session.expiresAt.getTime() > deps.now()
          ? await store.getCredential(session_id)
          : null;
      if (!credential) throw new ApiError('SESSION_EXPIRED');
      const { signed } = await enclave.call(
        'compute_aggregates',
        {
          session_id,
          exchange: session.exchange,
          label: session.label,
          envelope: {
            ephemeral_pub: credential.ephemeralPub,
            nonce: credential.nonce,
            ciphertext: credential.ciphertext,
            tag: credential.tag,
            key_id: credential.keyId,
          },
          from,
          to,
        },
        config.REQUEST_TIMEOUT_MS,
      );
      const proof = await persistAggregate(deps, session_id, signed);
      return {
        aggregates_signed: signed,
        merkle_root: proof.merkle_root,
        leaf_index: proof.leaf_index,
        tree_size: proof.tree_size,
        inclusion_proof: proof.inclusion_proof,
        checkpoint: proof.checkpoint,
        logs_url: `/api/logs/${session_id}`,
      };
    },
  );

  app.post<{ Body: { session_id: string } }>(
    '/enclave/revoke',
    { schema: revokeSchema },
    async (req) => {
      const { session_id } = req.body;
      const result = await store.revokeSession(session_id);
      if (result === 'not_found') throw new ApiError('SESSION_NOT_FOUND');
      if (result === 'already_revoked') throw new ApiError('SESSION_REVOKED');
      // The store is purged already; the enclave keeps nothing durable, but stop any in-flight work.
      await enclave
        .call('drop_session', { session_id })
        .catch((e: unknown) =>
          req.log.warn(
            { event: 'drop_session_failed', code: (e as { code?: string }).code },
            'enclave drop failed',
          ),
        );
      return { success: true, message: 'Session revoked and data purged' };
    },
  );
}

async function persistAggregate(deps: AppDeps, sessionId: string, signed: SignedAggregates) {
  const p = signed.payload;
  const computedAt = new Date(
    typeof p['computed_at'] === 'string' ? (parseTime(p['computed_at']) ?? deps.now()) : deps.now(),
  );
  try {
    // One sequenced transaction: the session row is share-locked first, so a revoke or expiry that
    // raced the computation wins and nothing is logged or stored.
    const proof = await deps.tlog.append(sessionId, signed, computedAt, jcs(p));
    await deps.store.logOp({
      sessionId,
      event: 'aggregates_computed',
      detail: { trades: p['trades'] ?? null, leaf_index: proof.leaf_index },
    });
    return proof;
  } catch (e) {
    if ((e as { code?: string }).code !== 'STORE_SESSION_INACTIVE') throw e;
    const s = await deps.store.getSession(sessionId);
    throw new ApiError(s?.status === 'expired' ? 'SESSION_EXPIRED' : 'SESSION_REVOKED');
  }
}
