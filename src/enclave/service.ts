/**
 * The enclave's request handlers. Everything secret lives here and only here: the key ring and,
 * for the length of one request, a decrypted credential.
 */
import { canonicalFill, compareFills } from '../aggregates/fill.js';
import { computeMetrics, type Metrics } from '../aggregates/compute.js';
import { fromBase64, toBase64, toHex, utf8 } from '../common/bytes.js';
import { CodedError } from '../common/errors.js';
import { formatTime, parseTime } from '../common/time.js';
import { openEnvelope } from '../crypto/envelope.js';
import { jcsBytes } from '../crypto/jcs.js';
import { signJson } from '../crypto/signed-json.js';
import type { Platform } from '../platform/types.js';
import { MerkleRootBuilder } from '../tlog/root.js';
import type { RpcMethod, RpcRequestBody, RpcResponseBody, WireEnvelope } from '../wire/messages.js';
import { parseCredentials, type Credentials } from './credentials.js';
import { EnclaveError } from './errors.js';
import type { ExchangeFactory, PriceSource } from './exchanges.js';
import { loadAccountLedger } from './ledger.js';
import { generateKeyRing, sealKeyRing, unsealKeyRing, type KeyRing } from './keyring.js';
import { createLogSigner } from './log-signer.js';

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
  sealKey: Uint8Array;
  exchanges: ExchangeFactory;
  /** Builds a price oracle from the exchange's candles (src/exchanges/price-oracle.ts). */
  prices: PriceSource;
  now: () => number;
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
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

type Handlers = { [M in RpcMethod]: (body: RpcRequestBody<M>) => Promise<RpcResponseBody<M>> };

export function createEnclaveService(deps: EnclaveDeps): {
  handle<M extends RpcMethod>(m: M, b: RpcRequestBody<M>): Promise<RpcResponseBody<M>>;
} {
  const { platform } = deps;
  const imageHash = toHex(deps.pcr0);
  let ring: KeyRing | null = null;
  // In-flight computations, so `drop_session` can stop one before anything is signed.
  const inflight = new Map<string, AbortController>();
  const logSigner = createLogSigner(platform);

  const requireRing = (): KeyRing => {
    if (!ring) throw new EnclaveError('ENCLAVE_NOT_READY', 'enclave key ring is not loaded');
    return ring;
  };

  const decrypt = (env: WireEnvelope): Credentials => {
    const r = requireRing();
    if (env.key_id !== r.credentialKeyId)
      throw new EnclaveError('DECRYPTION_FAILED', 'envelope could not be opened');
    try {
      const plain = openEnvelope(platform, r.credential, {
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

  const handlers: Handlers = {
    async init({ sealed_ring }) {
      if (sealed_ring !== null) {
        try {
          ring = unsealKeyRing(platform, deps.sealKey, sealed_ring);
        } catch {
          // A ring sealed for another image (PCR0) cannot be opened: by design, a new image gets new keys.
          deps.log.warn(
            { event: 'keyring_unseal_failed' },
            'sealed key ring could not be opened; generating a new one',
          );
        }
      }
      ring ??= generateKeyRing(platform);
      deps.log.info(
        { event: 'keyring_ready', key_id: ring.credentialKeyId, signing_key_id: ring.signingKeyId },
        'key ring ready',
      );
      return {
        sealed_ring: sealKeyRing(platform, deps.sealKey, ring),
        image_hash: imageHash,
        format: deps.attester.format,
        enclave_pubkey: toBase64(ring.credential.publicKey),
        signing_pubkey: toBase64(ring.signing.publicKey),
        key_id: ring.credentialKeyId,
        signing_key_id: ring.signingKeyId,
      };
    },

    async attest({ nonce }) {
      const r = requireRing();
      const doc = await deps.attester.attest({
        publicKey: r.credential.publicKey,
        userData: r.signing.publicKey,
        nonce: nonce === null ? null : fromBase64(nonce),
      });
      return { document: toBase64(doc) };
    },

    async open_envelope({ envelope, exchange }) {
      const creds = decrypt(envelope);
      if (creds.exchange !== exchange)
        throw new EnclaveError(
          'EXCHANGE_MISMATCH',
          'metadata.exchange does not match the sealed credentials',
        );
      return { key_id: envelope.key_id };
    },

    async compute_aggregates(req) {
      const r = requireRing();
      const creds = decrypt(req.envelope);
      if (creds.exchange !== req.exchange)
        throw new EnclaveError(
          'EXCHANGE_MISMATCH',
          'metadata.exchange does not match the sealed credentials',
        );
      const abort = new AbortController();
      inflight.get(req.session_id)?.abort();
      inflight.set(req.session_id, abort);
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
        const accountId = await client.accountId();
        const ledger = await loadAccountLedger(client, { from: fromReq, now });
        if (abort.signal.aborted) throw new EnclaveError('SESSION_REVOKED', 'session was revoked');
        const from = fromReq ?? Math.min(ledger.firstActivity ?? to, to);
        // Every event is valued at its own time from the exchange's public candles.
        const oracle = await deps.prices(client, {
          assets: ledger.assets,
          from: Math.min(from, ledger.openingAt),
          to,
        });
        const m = computeMetrics(ledger.events, {
          from,
          to,
          oracle,
          currency: 'USD',
          costBasis: 'average',
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
          // Additive metrics (docs/methodology.md); none of the fields above changes meaning.
          ...pick(m, EXTRA_METRICS),
        };
        return { signed: signJson(platform, r.signing.privateKey, payload) };
      } catch (e) {
        if (e instanceof EnclaveError) throw e;
        // Exchange adapters throw their own coded errors; anything else becomes a fixed INTERNAL.
        if (
          e instanceof CodedError &&
          (e.code === 'EXCHANGE_AUTH_FAILED' || e.code === 'EXCHANGE_UNAVAILABLE')
        ) {
          throw new EnclaveError(
            e.code,
            e.code === 'EXCHANGE_AUTH_FAILED'
              ? 'the exchange rejected the credentials'
              : 'the exchange is unavailable',
          );
        }
        if (e instanceof CodedError && e.code.startsWith('EXCHANGE_'))
          throw new EnclaveError('EXCHANGE_UNAVAILABLE', 'the exchange is unavailable');
        // A window the engine cannot compute over (e.g. longer than a century) is the request's fault.
        if (e instanceof CodedError && e.code.startsWith('ERR_METRICS_'))
          throw new EnclaveError('INVALID_REQUEST', 'the requested window cannot be computed');
        throw e;
      } finally {
        if (inflight.get(req.session_id) === abort) inflight.delete(req.session_id);
      }
    },

    async log_append(req) {
      return logSigner.append(requireRing(), req);
    },

    async drop_session({ session_id }) {
      const c = inflight.get(session_id);
      c?.abort();
      inflight.delete(session_id);
      return { dropped: c !== undefined };
    },
  };

  return {
    handle: (method, body) =>
      (handlers[method] as (b: typeof body) => Promise<RpcResponseBody<typeof method>>)(body),
  };
}
