/**
 * The enclave's request handlers. Everything secret lives here and only here: the key ring and,
 * for the length of one request, a decrypted credential.
 */
import { canonicalFill, compareFills } from '../aggregates/fill.js';
import { computeMetrics, type Metrics } from '../aggregates/compute.js';
import { bytesEqual, fromBase64, toBase64, toHex, utf8 } from '../common/bytes.js';
import { CodedError } from '../common/errors.js';
import { formatTime, parseTime } from '../common/time.js';
import { openEnvelope } from '../crypto/envelope.js';
import { jcsBytes } from '../crypto/jcs.js';
import { signJson } from '../crypto/signed-json.js';
import type { Platform } from '../platform/types.js';
import { MerkleRootBuilder } from '../tlog/root.js';
import type {
  RpcMethod,
  RpcProgress,
  RpcRequestBody,
  RpcResponseBody,
  WireEnvelope,
} from '../wire/messages.js';
import { parseCredentials, type Credentials } from './credentials.js';
import { EnclaveError } from './errors.js';
import { KeyCheckCache } from './key-check-cache.js';
import type { ExchangeAccess, ExchangeFactory, PriceSource } from './exchanges.js';
import type { KeyPermissions } from '../exchanges/types.js';
import {
  historyKey,
  HistoryError,
  HistoryWatermarks,
  openHistory,
  sealHistory,
  type History,
} from './history.js';
import { loadAccountLedger } from './ledger.js';
import {
  acceptsUntil,
  currentKey,
  destroyAt,
  findCredentialKey,
  generateKeyRing,
  openKeyRing,
  parseSealedRing,
  rotateKeyRing,
  sealKeyRing,
  type CredentialKey,
  type KeyRing,
  type RotationPolicy,
} from './keyring.js';
import type { AwsCredentials, KeyService } from './kms-key-service.js';
import { createLogSigner } from './log-signer.js';
import { progressReporter } from './progress.js';

export interface Attester {
  format: 'dev' | 'aws-nitro';
  attest(req: {
    publicKey: Uint8Array;
    userData: Uint8Array;
    nonce: Uint8Array | null;
  }): Promise<Uint8Array>;
}

export interface EnclaveDeps {
  platform: Platform;
  attester: Attester;
  pcr0: Uint8Array;
  /** Wraps the ring's data key (AWS KMS, or the local key service speaking its API). */
  keyService: KeyService;
  rotation: RotationPolicy;
  exchanges: ExchangeFactory;
  /** Builds a price oracle from the exchange's candles (src/exchanges/price-oracle.ts). */
  prices: PriceSource;
  now: () => number;
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
  /** how long a passed submit-time key check is remembered (src/enclave/key-check-cache.ts); 0: off */
  keyCheckTtlMs: number;
}

/** Payload fields beyond protocol §4's list, in the engine's names (docs/methodology.md). */
const EXTRA_METRICS = [
  'realized_pnl',
  'unrealized_pnl',
  'fees',
  'funding',
  'sortino',
  'max_drawdown',
  'calmar',
  'cagr',
  'volatility',
  'total_return',
  'round_trips',
  'win_rate',
  'profit_factor',
  'avg_win',
  'avg_loss',
  'start_equity',
  'end_equity',
  'net_flows',
  'days',
  'cost_basis',
  'unpriced_fills',
  'unpriced_fees',
  'unpriced_flows',
  'unpriced_marks',
  'balance_adjustments',
  'assumptions',
] as const satisfies readonly (keyof Metrics)[];

function pick<K extends keyof Metrics>(m: Metrics, keys: readonly K[]): Pick<Metrics, K> {
  return Object.fromEntries(keys.map((k) => [k, m[k]])) as Pick<Metrics, K>;
}

/** Refuses a key that can withdraw; returns what it may do otherwise. */
async function readOnlyPermissions(client: ExchangeAccess): Promise<KeyPermissions> {
  const p = await client.permissions();
  if (p.withdraw) throw new EnclaveError('KEY_NOT_READ_ONLY', 'the API key can withdraw funds');
  return p;
}

/** Exchange adapters throw their own coded errors; anything else passes unchanged. */
function exchangeFailure(e: unknown): unknown {
  if (e instanceof EnclaveError) return e;
  if (e instanceof CodedError && e.code === 'EXCHANGE_AUTH_FAILED')
    return new EnclaveError('EXCHANGE_AUTH_FAILED', 'the exchange rejected the credentials');
  if (e instanceof CodedError && e.code.startsWith('EXCHANGE_'))
    return new EnclaveError('EXCHANGE_UNAVAILABLE', 'the exchange is unavailable');
  return e;
}

/** What a handler may do besides answering: report progress of a long request. */
export interface CallContext {
  progress(p: RpcProgress): void;
}
type Handlers = {
  [M in RpcMethod]: (body: RpcRequestBody<M>, ctx: CallContext) => Promise<RpcResponseBody<M>>;
};

export function createEnclaveService(deps: EnclaveDeps): {
  handle<M extends RpcMethod>(
    m: M,
    b: RpcRequestBody<M>,
    ctx?: CallContext,
  ): Promise<RpcResponseBody<M>>;
  /** Shutdown: stops every computation and forgets the key ring (see dropPlaintext below). */
  dropPlaintext(): { aborted: number };
} {
  const { platform } = deps;
  const imageHash = toHex(deps.pcr0);
  let ring: KeyRing | null = null;
  // The ring's data key, in memory only, and the key service's wrapping of it. A ring re-sealed
  // after rotation keeps the same data key (fresh nonce), so rotation needs no key service call.
  let dataKey: { plain: Uint8Array; wrapped: Uint8Array } | null = null;
  let sealed: string | null = null;
  // In-flight computations, so `drop_session` can stop one before anything is signed.
  // Several may run per session (different windows): each is stopped by a revoke, none by another.
  const inflight = new Map<string, Set<AbortController>>();
  const logSigner = createLogSigner(platform);
  // Versions of the histories this process returned, to refuse an older blob (a rollback).
  const watermarks = new HistoryWatermarks();
  const keyChecks = new KeyCheckCache(platform, deps.keyCheckTtlMs, deps.now);

  const requireRing = (): KeyRing => {
    if (!ring) throw new EnclaveError('ENCLAVE_NOT_READY', 'enclave key ring is not loaded');
    return ring;
  };

  const unknownKey = (): never => {
    throw new EnclaveError('UNKNOWN_ENCLAVE_KEY', 'no such enclave key');
  };

  /** A key new sessions may be sealed to now: the current one, or one within its grace period. */
  const submittable = (id: string): CredentialKey => {
    const now = deps.now();
    const k = findCredentialKey(requireRing(), id, now, deps.rotation) ?? unknownKey();
    const until = acceptsUntil(k, deps.rotation);
    return until === null || now < until ? k : unknownKey();
  };

  const decrypt = (env: WireEnvelope, key: CredentialKey): Credentials => {
    try {
      const plain = openEnvelope(platform, key.pair, {
        ephemeralPub: fromBase64(env.ephemeral_pub),
        nonce: fromBase64(env.nonce),
        ciphertext: fromBase64(env.ciphertext),
        tag: fromBase64(env.tag),
      });
      return parseCredentials(plain);
    } catch {
      throw new EnclaveError('DECRYPTION_FAILED', 'envelope could not be opened');
    }
  };

  const keyServiceFailure = (e: unknown): never => {
    const code = (e as { code?: string }).code;
    deps.log.warn({ event: 'keyring_key_service_failed', code }, 'key service call failed');
    if (code === 'KEY_SERVICE_DENIED')
      throw new EnclaveError('KEY_SERVICE_DENIED', 'the key service denied this enclave');
    if (code === 'KEY_SERVICE_INVALID_CIPHERTEXT' || code === 'KEY_SERVICE_BAD_RESPONSE')
      throw new EnclaveError('KEYRING_UNSEAL', 'the stored key ring could not be unwrapped');
    throw new EnclaveError('KEY_SERVICE_UNAVAILABLE', 'the key service is unavailable');
  };

  /** Opens a stored ring; fails closed (never replaces a ring it cannot open). */
  const load = async (stored: string, creds: AwsCredentials): Promise<KeyRing> => {
    if (stored === sealed && ring) return ring;
    let parts;
    try {
      parts = parseSealedRing(stored);
    } catch {
      throw new EnclaveError('KEYRING_UNSEAL', 'the stored key ring could not be unwrapped');
    }
    if (parts.keyArn !== deps.keyService.keyArn)
      throw new EnclaveError('KEYRING_UNSEAL', 'the stored key ring is wrapped by another key');
    const plain =
      dataKey && bytesEqual(dataKey.wrapped, parts.wrappedKey)
        ? dataKey.plain
        : await deps.keyService.decrypt(parts.wrappedKey, creds).catch(keyServiceFailure);
    let opened: KeyRing;
    try {
      opened = openKeyRing(platform, plain, parts);
    } catch {
      throw new EnclaveError('KEYRING_UNSEAL', 'the stored key ring could not be unwrapped');
    }
    dataKey = { plain, wrapped: parts.wrappedKey };
    return opened;
  };

  /**
   * The stored history, or null when there is none or it is refused: damaged, sealed for another
   * session, exchange or version or by another ring (ERR_HISTORY_UNSEAL), or older than one this
   * process returned (ERR_HISTORY_ROLLBACK). A refused history costs a full download, never a
   * wrong result; the refusal is logged with its code.
   */
  const openStoredHistory = (
    req: RpcRequestBody<'compute_aggregates'>,
    key: Uint8Array,
  ): History | null => {
    const h = req.history;
    if (h === null) return null;
    try {
      watermarks.check(req.session_id, h.version);
      return openHistory(
        platform,
        key,
        { sessionId: req.session_id, exchange: req.exchange, version: h.version },
        h.blob,
      );
    } catch (e) {
      if (!(e instanceof HistoryError)) throw e;
      deps.log.warn({ event: 'history_refused', code: e.code }, 'stored history refused');
      return null;
    }
  };

  const credentialKeys = (r: KeyRing) =>
    r.credentials.map((k) => {
      const until = acceptsUntil(k, deps.rotation);
      const destroy = destroyAt(k, deps.rotation);
      return {
        key_id: k.keyId,
        public_key: toBase64(k.pair.publicKey),
        created_at: formatTime(k.createdAt),
        accepts_until: until === null ? null : formatTime(until),
        destroy_at: destroy === null ? null : formatTime(destroy),
      };
    });

  const init = async ({
    sealed_ring,
    kms_credentials,
  }: RpcRequestBody<'init'>): Promise<RpcResponseBody<'init'>> => {
    const creds: AwsCredentials = {
      accessKeyId: kms_credentials.access_key_id,
      secretAccessKey: kms_credentials.secret_access_key,
      ...(kms_credentials.session_token !== null && {
        sessionToken: kms_credentials.session_token,
      }),
    };
    const now = deps.now();
    // Nothing stored yet: keep the ring this process holds, or make the first one.
    const base =
      sealed_ring === null
        ? (ring ?? generateKeyRing(platform, now))
        : await load(sealed_ring, creds);
    if (!dataKey) {
      const k = await deps.keyService.generateDataKey(creds).catch(keyServiceFailure);
      dataKey = { plain: k.plaintext, wrapped: k.wrapped };
    }
    const rotated = rotateKeyRing(platform, base, now, deps.rotation);
    const changed = sealed_ring === null || rotated.changed;
    // Logged when loaded or changed, not on every periodic sync that changes nothing.
    const news = changed || ring !== rotated.ring;
    ring = rotated.ring;
    sealed = changed
      ? sealKeyRing(platform, dataKey.plain, deps.keyService.keyArn, dataKey.wrapped, ring)
      : sealed_ring!;
    const cur = currentKey(ring);
    if (news)
      deps.log.info(
        {
          event: 'keyring_ready',
          key_id: cur.keyId,
          signing_key_id: ring.signingKeyId,
          credential_keys: ring.credentials.length,
          changed,
        },
        'key ring ready',
      );
    return {
      sealed_ring: sealed,
      changed,
      image_hash: imageHash,
      format: deps.attester.format,
      enclave_pubkey: toBase64(cur.pair.publicKey),
      signing_pubkey: toBase64(ring.signing.publicKey),
      key_id: cur.keyId,
      signing_key_id: ring.signingKeyId,
      credential_keys: credentialKeys(ring),
    };
  };

  // One init at a time: concurrent ones (a host's start-up and its periodic sync) would otherwise
  // interleave at the key service call and each install a different ring.
  let initChain: Promise<unknown> = Promise.resolve();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = initChain.then(fn, fn);
    initChain = run.catch(() => undefined);
    return run;
  };

  const handlers: Handlers = {
    init: (body) => serialized(() => init(body)),

    async attest({ nonce, key_id }) {
      const r = requireRing();
      const doc = await deps.attester.attest({
        publicKey: submittable(key_id).pair.publicKey,
        userData: r.signing.publicKey,
        nonce: nonce === null ? null : fromBase64(nonce),
      });
      return { document: toBase64(doc) };
    },

    async open_envelope({ envelope, exchange }) {
      // A new session: only a key that still accepts submissions.
      const creds = decrypt(envelope, submittable(envelope.key_id));
      if (creds.exchange !== exchange)
        throw new EnclaveError(
          'EXCHANGE_MISMATCH',
          'metadata.exchange does not match the sealed credentials',
        );
      // The key's powers are checked before the host stores anything: it stores the envelope
      // only when this answers.
      if (keyChecks.get(creds) === null) {
        try {
          keyChecks.pass(creds, await readOnlyPermissions(await deps.exchanges(creds)));
        } catch (e) {
          throw exchangeFailure(e);
        }
      }
      return { key_id: envelope.key_id };
    },

    async compute_aggregates(req, ctx) {
      const r = requireRing();
      // A stored session: any key not yet destroyed (its sessions may still be alive).
      const key =
        findCredentialKey(r, req.envelope.key_id, deps.now(), deps.rotation) ?? unknownKey();
      const creds = decrypt(req.envelope, key);
      if (creds.exchange !== req.exchange)
        throw new EnclaveError(
          'EXCHANGE_MISMATCH',
          'metadata.exchange does not match the sealed credentials',
        );
      const abort = new AbortController();
      const running = inflight.get(req.session_id) ?? new Set<AbortController>();
      running.add(abort);
      inflight.set(req.session_id, running);
      try {
        const now = deps.now();
        const to = req.to === null ? now : parseTime(req.to);
        const fromReq = req.from === null ? null : parseTime(req.from);
        if (
          to === null ||
          (req.from !== null && fromReq === null) ||
          (fromReq !== null && fromReq > to)
        ) {
          throw new EnclaveError('INVALID_REQUEST', 'from/to are not a valid time range');
        }
        const client = await deps.exchanges(creds);
        // again before signing: withdrawal may have been enabled on the key since submit
        const keyPermissions = await readOnlyPermissions(client);
        const accountId = await client.accountId();
        const progress = progressReporter(ctx);
        // The ring's data key exists once init ran (requireRing above); the history key derives from it.
        const hKey = historyKey(platform, dataKey!.plain);
        const binding = (version: number) => ({
          sessionId: req.session_id,
          exchange: req.exchange,
          version,
        });
        const stored = openStoredHistory(req, hKey);
        progress.phase('fills');
        const ledger = await loadAccountLedger(client, {
          from: fromReq,
          now,
          progress,
          history: stored,
        });
        if (ledger.historyUse === 'gap')
          deps.log.warn(
            { event: 'history_gap' },
            'stored history ends before the exchange horizon; downloaded in full',
          );
        if (abort.signal.aborted) throw new EnclaveError('SESSION_REVOKED', 'session was revoked');
        const from = fromReq ?? Math.min(ledger.firstActivity ?? to, to);
        // Every event is valued at its own time from the exchange's public candles.
        progress.phase('prices');
        const oracle = await deps.prices(client, {
          assets: ledger.assets,
          from: Math.min(from, ledger.openingAt),
          to,
        });
        progress.phase('compute');
        const m = computeMetrics(ledger.events, {
          from,
          to,
          oracle,
          currency: 'USD',
          costBasis: 'average',
          dailySeries: req.daily,
        });
        const fills = ledger.fills.filter((f) => f.ts >= from && f.ts <= to).sort(compareFills);
        const roots = new MerkleRootBuilder(platform);
        for (const f of fills) roots.addLeaf(jcsBytes(canonicalFill(f)));
        const account = toHex(
          platform.sha256(utf8(`${creds.exchange}:${accountId ?? creds.apiKey}`)),
        );
        const payload = {
          v: 1,
          session_id: req.session_id,
          exchange: req.exchange,
          label: req.label,
          account,
          pnl: m.pnl,
          sharpe: m.sharpe,
          volume: m.volume,
          trades: m.trades,
          from: formatTime(from),
          to: formatTime(to),
          currency: m.currency,
          computed_at: formatTime(now),
          image_hash: imageHash,
          key_id: r.signingKeyId,
          trades_root: toHex(roots.root()),
          // Additive (docs/methodology.md §9): what the key may do, and the span of history the
          // download is complete for: [history_from, history_to].
          key_permissions: keyPermissions,
          // With stored history this reaches further back than the exchange keeps (src/enclave/history.ts).
          history_from: formatTime(Math.min(ledger.history.completeFrom, now)),
          history_to: formatTime(now),
          // Additive metrics (docs/methodology.md); none of the fields above changes meaning.
          ...pick(m, EXTRA_METRICS),
          ...(req.daily && { daily: m.daily }),
        };
        progress.phase('sign');
        // revoked, or the enclave is shutting down (its ring dropped): sign nothing
        if (abort.signal.aborted) throw new EnclaveError('SESSION_REVOKED', 'session was revoked');
        const signed = signJson(platform, r.signing.privateKey, payload);
        const version = (req.history?.version ?? 0) + 1;
        let history: { version: number; blob: string } | null = null;
        try {
          history = {
            version,
            blob: sealHistory(platform, hKey, binding(version), ledger.history),
          };
          watermarks.record(req.session_id, version);
        } catch (e) {
          if (!(e instanceof HistoryError)) throw e;
          // Too large for a message: nothing is kept, the next request downloads in full.
          watermarks.forget(req.session_id);
          deps.log.warn({ event: 'history_not_stored', code: e.code }, 'history not stored');
        }
        return { signed, history };
      } catch (e) {
        // A window the engine cannot compute over (e.g. longer than a century) is the request's fault.
        if (e instanceof CodedError && e.code.startsWith('ERR_METRICS_'))
          throw new EnclaveError('INVALID_REQUEST', 'the requested window cannot be computed');
        throw exchangeFailure(e);
      } finally {
        running.delete(abort);
        if (running.size === 0 && inflight.get(req.session_id) === running)
          inflight.delete(req.session_id);
      }
    },

    async log_append(req) {
      return logSigner.append(requireRing(), req);
    },

    async drop_session({ session_id }) {
      watermarks.forget(session_id);
      const running = inflight.get(session_id);
      for (const c of running ?? []) c.abort();
      inflight.delete(session_id);
      return { dropped: running !== undefined };
    },
  };

  return {
    /**
     * Aborts every in-flight computation (none signs after this) and overwrites the ring's private
     * key bytes before dropping them. Best effort by nature: a garbage-collected runtime may hold
     * copies (the KeyObjects cached per key are released with it); the process exits right after.
     */
    dropPlaintext() {
      let aborted = 0;
      for (const running of inflight.values())
        for (const c of running) {
          c.abort();
          aborted++;
        }
      inflight.clear();
      if (ring) {
        for (const c of ring.credentials) c.pair.privateKey.fill(0);
        ring.signing.privateKey.fill(0);
      }
      ring = null;
      return { aborted };
    },
    handle: (method, body, ctx = { progress: () => {} }) =>
      (
        handlers[method] as (
          b: typeof body,
          c: CallContext,
        ) => Promise<RpcResponseBody<typeof method>>
      )(body, ctx),
  };
}
