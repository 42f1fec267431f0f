/** Protocol §3–5: submit_key, request_aggregates, revoke. */
import type { FastifyInstance } from 'fastify';
import { fromBase64 } from '../../common/bytes.js';
import { formatTime, parseTime } from '../../common/time.js';
import { jcs } from '../../crypto/jcs.js';
import { SUPPORTED_EXCHANGES } from '../../wire/exchanges.js';
import type { LogAppend } from '../../store/log-store.js';
import { wireHistory, type SignedAggregates } from '../../wire/messages.js';
import type { AppDeps } from '../app.js';
import type { EnclaveIdentity } from '../enclave-link.js';
import { ApiError, toApiError } from '../errors.js';
import { JobRegistry } from '../jobs.js';
import { parsePrefer } from '../prefer.js';
import { jobSchema, requestAggregatesSchema, revokeSchema, submitKeySchema } from '../schemas.js';
import { newSessionId } from '../session-id.js';

interface SubmitBody {
  ephemeral_pub: string;
  nonce: string;
  ciphertext: string;
  tag: string;
  enclave_pubkey?: string;
  metadata: { exchange: string; label: string; ttl: number };
}

interface AggregatesBody {
  session_id: string;
  from?: string;
  to?: string;
  daily?: boolean;
}
type AggregatesResponse = {
  aggregates_signed: SignedAggregates;
  merkle_root: string;
  leaf_index: number;
  tree_size: number;
  inclusion_proof: string[];
  checkpoint: string;
  logs_url: string;
};
/** Finished jobs stay readable this long; at most this many jobs are kept. */
const JOB_RETENTION_MS = 15 * 60_000;
const MAX_JOBS = 10_000;

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

/** The key id an envelope sealed to `pubkey` goes to, or null when no such key accepts sessions. */
function submittableKey(
  id: EnclaveIdentity,
  pubkey: string | undefined,
  now: number,
): string | null {
  if (pubkey === undefined) return id.key_id;
  const k = id.credential_keys.find((c) => c.public_key === pubkey);
  if (!k) return null;
  return k.accepts_until === null || (parseTime(k.accepts_until) ?? 0) > now ? k.key_id : null;
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
      // Without enclave_pubkey: the current key. With it: any key that still accepts sessions; an
      // unknown one may be newer than this host's view (another instance rotated), so sync once.
      let keyId = submittableKey(await enclave.identity(), b.enclave_pubkey, deps.now());
      if (keyId === null)
        keyId = submittableKey(await enclave.sync(), b.enclave_pubkey, deps.now());
      if (keyId === null) throw new ApiError('UNKNOWN_ENCLAVE_KEY');
      const envelope = {
        ephemeral_pub: b.ephemeral_pub,
        nonce: b.nonce,
        ciphertext: b.ciphertext,
        tag: b.tag,
        key_id: keyId,
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
          keyId,
        },
        createdDetail: { exchange: b.metadata.exchange, key_id: keyId, ttl: b.metadata.ttl },
      });
      return reply
        .code(201)
        .send({ session_id: sessionId, expires_at: formatTime(expiresAt.getTime()) });
    },
  );

  const jobs = new JobRegistry<AggregatesResponse>({
    retentionMs: JOB_RETENTION_MS,
    maxJobs: MAX_JOBS,
    now: deps.now,
    describeError: (e) => {
      const api = toApiError(e);
      return { code: api.code, message: api.message };
    },
  });

  // Graceful shutdown: once the server stops taking requests, running jobs get until the grace
  // period ends to store their result (a job cut short stores nothing; its client retries).
  app.addHook('onClose', async () => {
    const drained = await jobs.drain(config.SHUTDOWN_GRACE_MS ?? 0);
    if (!drained) app.log.warn({ event: 'jobs_not_drained' }, 'jobs still running at shutdown');
  });

  app.post<{ Body: AggregatesBody }>(
    '/enclave/request_aggregates',
    { schema: requestAggregatesSchema },
    async (req, reply) => {
      const { session_id, from = null, to = null, daily = false } = req.body;
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
      const job = jobs.start(JSON.stringify([session_id, from, to, daily]), async (onProgress) => {
        // The sealed history of earlier requests: the enclave downloads only what is newer.
        const stored = await store.getHistory(session_id);
        const { signed, history } = await enclave.call(
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
            daily,
            history: stored,
          },
          config.JOB_TIMEOUT_MS,
          onProgress,
        );
        const proof = await persistAggregate(deps, session_id, signed, {
          expected: stored?.version ?? null,
          // re-checked: the host stores only a well-formed, bounded blob
          next: wireHistory(history),
        });
        return {
          aggregates_signed: signed,
          merkle_root: proof.merkle_root,
          leaf_index: proof.leaf_index,
          tree_size: proof.tree_size,
          inclusion_proof: proof.inclusion_proof,
          checkpoint: proof.checkpoint,
          logs_url: `/api/logs/${session_id}`,
        };
      });
      if (!job) throw new ApiError('ENCLAVE_UNAVAILABLE');
      const prefer = parsePrefer(req.headers['prefer']);
      const waitMs = prefer.respondAsync
        ? Math.min(prefer.waitSeconds ?? 1, config.REQUEST_TIMEOUT_MS / 1000) * 1000
        : config.REQUEST_TIMEOUT_MS;
      if (await job.wait(waitMs)) return jobs.outcome(job.id);
      // Still running. The job goes on either way: a retry of the same request attaches to it.
      if (!prefer.respondAsync) throw new ApiError('ENCLAVE_UNAVAILABLE');
      return reply
        .code(202)
        .header('location', `/enclave/jobs/${job.id}`)
        .header('preference-applied', 'respond-async')
        .send(jobs.view(job.id));
    },
  );

  app.get<{ Params: { id: string } }>('/enclave/jobs/:id', { schema: jobSchema }, async (req) => {
    const view = jobs.view(req.params.id);
    if (!view)
      throw new ApiError('NOT_FOUND', 'no such job (finished jobs are kept for 15 minutes)');
    return view;
  });

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

async function persistAggregate(
  deps: AppDeps,
  sessionId: string,
  signed: SignedAggregates,
  history: LogAppend['history'],
) {
  const p = signed.payload;
  const computedAt = new Date(
    typeof p['computed_at'] === 'string' ? (parseTime(p['computed_at']) ?? deps.now()) : deps.now(),
  );
  try {
    // One sequenced transaction: the session row is share-locked first, so a revoke or expiry that
    // raced the computation wins and nothing is logged or stored.
    // The history is written in the same transaction: stored exactly when the result is.
    const proof = await deps.tlog.append(sessionId, signed, computedAt, jcs(p), history);
    // The aggregate and its leaf are committed: losing only this operational record (the database
    // went away just now) must not turn a stored, logged result into an error and a second leaf.
    await deps.store
      .logOp({
        sessionId,
        event: 'aggregates_computed',
        detail: { trades: p['trades'] ?? null, leaf_index: proof.leaf_index },
      })
      .catch((e: unknown) =>
        deps.logger.warn(
          { event: 'ops_log_failed', code: (e as { code?: string }).code },
          'ops log write failed',
        ),
      );
    return proof;
  } catch (e) {
    if ((e as { code?: string }).code !== 'STORE_SESSION_INACTIVE') throw e;
    const s = await deps.store.getSession(sessionId);
    throw new ApiError(s?.status === 'expired' ? 'SESSION_EXPIRED' : 'SESSION_REVOKED');
  }
}
