/**
 * Which exchanges the enclave can reach, and through which hosts. The allow-list is the set of
 * official API hosts, plus the host of an `EXCHANGE_BASE_URL_<ID>` override (the simulator in dev).
 */
import type { PriceOracle } from '../aggregates/ledger.js';
import { createBinanceMarketData } from '../exchanges/binance-market.js';
import { createKlineOracle } from '../exchanges/price-oracle.js';
import type { ExchangeClient } from '../exchanges/types.js';
import { createBinanceClient } from '../exchanges/binance.js';
import { createBinanceUsdmClient } from '../exchanges/binance-usdm.js';
import { createBybitClient } from '../exchanges/bybit.js';
import { createCoinbaseClient } from '../exchanges/coinbase.js';
import { createKrakenClient, KRAKEN_TIERS } from '../exchanges/kraken.js';
import { LimiterRegistry } from '../exchanges/limiter.js';
import { createOkxClient } from '../exchanges/okx.js';
import type { Credentials } from './credentials.js';
import { EnclaveError } from './errors.js';

export type ExchangeAccess = ExchangeClient;

/** Builds a price oracle from an exchange's public candles for the given assets and window. */
export type PriceSource = (
  client: ExchangeClient,
  o: { assets: readonly string[]; from: number; to: number },
) => Promise<PriceOracle>;

export const candlePrices: PriceSource = (client, o) =>
  createKlineOracle(client, {
    ...o,
    quote: 'USDT',
    ...(client.priceSymbol && { symbol: (a: string) => client.priceSymbol!(a) }),
  });

/**
 * Prices for every venue from public candles: a venue's own when its adapter names its price
 * symbols (Binance's `<ASSET>USDT`, Coinbase's `<ASSET>-USD`), and for Bybit, OKX and Kraken
 * Binance's USDT candles through a keyless Binance market-data client on the Binance endpoint (its
 * override and allow-list), drawing on the same limiter as Binance sessions.
 */
export function candlePriceSource(
  endpoints: Record<string, ExchangeEndpoint>,
  limiters: LimiterRegistry,
): PriceSource {
  const binance = endpoints['binance'];
  const market = binance ? createBinanceMarketData({ ...binance, limiters }) : undefined;
  return (client, o) =>
    client.venue.startsWith('binance|') || client.priceSymbol !== undefined || market === undefined
      ? candlePrices(client, o)
      : createKlineOracle(market, { ...o, quote: 'USDT' });
}

export interface ExchangeEndpoint {
  /** Replaces scheme and host of every API URL when set; paths are kept. */
  baseUrl?: string;
  allowHosts: string[];
  /**
   * Hosts of the venue's download files (OKX's fills archive), allowed for those downloads only;
   * with a base-URL override the override's host serves them (the simulator).
   */
  archiveHosts?: string[];
  /** The egress proxy every request goes through, when the enclave has one. */
  httpsProxy?: string;
}

const BINANCE_SPOT_HOSTS = [
  'api.binance.com',
  'api1.binance.com',
  'api2.binance.com',
  'api3.binance.com',
  'api4.binance.com',
];

const OFFICIAL_HOSTS: Record<string, string[]> = {
  binance: BINANCE_SPOT_HOSTS,
  // USD-M futures on fapi; the key's permissions, account id and candles on the spot API
  binanceusdm: ['fapi.binance.com', ...BINANCE_SPOT_HOSTS],
  // api.bybit.com is Bybit's documented alternative host for the same API
  bybit: ['api.bybit.com', 'api.bytick.com'],
  okx: ['www.okx.com'],
  kraken: ['api.kraken.com'],
  coinbase: ['api.coinbase.com'],
};

/**
 * Where OKX's fills-archive `fileHref` points. **Assumption**: OKX's static file host; the real
 * link was not in the research material, so confirm it against a live `fileHref` before production
 * (a link elsewhere is refused with EXCHANGE_EGRESS_DENIED, and the download fails rather than
 * leaving the allow-list).
 */
const ARCHIVE_HOSTS: Record<string, string[]> = {
  okx: ['static.okx.com'],
};

export function exchangeEndpoints(
  overrides: Record<string, string | undefined>,
  egress: { httpsProxy?: string } = {},
): Record<string, ExchangeEndpoint> {
  const out: Record<string, ExchangeEndpoint> = {};
  const proxy = egress.httpsProxy === undefined ? {} : { httpsProxy: egress.httpsProxy };
  for (const [id, hosts] of Object.entries(OFFICIAL_HOSTS)) {
    const baseUrl = overrides[id];
    const files = ARCHIVE_HOSTS[id];
    out[id] = baseUrl
      ? {
          baseUrl,
          allowHosts: [...hosts, new URL(baseUrl).host],
          ...(files && { archiveHosts: [...files, new URL(baseUrl).host] }),
          ...proxy,
        }
      : { allowHosts: hosts, ...(files && { archiveHosts: files }), ...proxy };
  }
  return out;
}

export type ExchangeFactory = (creds: Credentials) => Promise<ExchangeAccess>;

/** What the operator states about the accounts served, where the exchange's API does not say. */
export interface ExchangeOptions {
  /** the Kraken verification tier (sets the per-key call counter; default starter) */
  krakenTier?: keyof typeof KRAKEN_TIERS;
  /** per-request timeout of the Binance adapters' exchange calls */
  timeoutMs?: number;
}

/**
 * `limiters`: one registry for the process, so every session's client of one venue shares its
 * limiter, since exchanges meter weight per egress IP, not per key (src/exchanges/limiter.ts).
 */
export function exchangeFactory(
  endpoints: Record<string, ExchangeEndpoint>,
  limiters: LimiterRegistry = new LimiterRegistry(),
  opts: ExchangeOptions = {},
): ExchangeFactory {
  return async (creds) => {
    const ep = endpoints[creds.exchange];
    if (!ep) throw new EnclaveError('UNKNOWN_EXCHANGE', 'exchange is not supported');
    switch (creds.exchange) {
      case 'binance':
        return createBinanceClient({
          apiKey: creds.apiKey,
          apiSecret: creds.apiSecret,
          ...ep,
          ...(opts.timeoutMs !== undefined && { timeoutMs: opts.timeoutMs }),
          limiters,
        });
      case 'binanceusdm': {
        // one simulator serves both APIs: a USD-M override alone also redirects the spot calls
        const spotBase = endpoints['binance']?.baseUrl ?? ep.baseUrl;
        return createBinanceUsdmClient({
          apiKey: creds.apiKey,
          apiSecret: creds.apiSecret,
          ...ep,
          ...(spotBase !== undefined && { spotBaseUrl: spotBase }),
          allowHosts: [...new Set([...ep.allowHosts, ...(endpoints['binance']?.allowHosts ?? [])])],
          limiters,
          ...(opts.timeoutMs !== undefined && { timeoutMs: opts.timeoutMs }),
        });
      }
      case 'bybit':
        return createBybitClient({
          apiKey: creds.apiKey,
          apiSecret: creds.apiSecret,
          ...ep,
          limiters,
        });
      case 'okx':
        // OKX keys come with a passphrase (protocol §3); without one the adapter refuses the key
        return createOkxClient({
          apiKey: creds.apiKey,
          apiSecret: creds.apiSecret,
          passphrase: creds.passphrase,
          ...ep,
          limiters,
        });
      case 'kraken':
        return createKrakenClient({
          apiKey: creds.apiKey,
          apiSecret: creds.apiSecret,
          ...ep,
          counter: KRAKEN_TIERS[opts.krakenTier ?? 'starter'],
          limiters,
        });
      case 'coinbase':
        return createCoinbaseClient({
          apiKey: creds.apiKey,
          apiSecret: creds.apiSecret,
          ...ep,
          limiters,
        });
      default:
        throw new EnclaveError('UNKNOWN_EXCHANGE', 'exchange is not supported');
    }
  };
}
