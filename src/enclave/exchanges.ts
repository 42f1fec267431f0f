/**
 * Which exchanges the enclave can reach, and through which hosts. The allow-list is the set of
 * official API hosts, plus the host of an `EXCHANGE_BASE_URL_<ID>` override (the simulator in dev).
 */
import type { PriceOracle } from '../aggregates/ledger.js';
import { createKlineOracle } from '../exchanges/price-oracle.js';
import type { ExchangeClient } from '../exchanges/types.js';
import { createBinanceClient } from '../exchanges/binance.js';
import type { Credentials } from './credentials.js';
import { EnclaveError } from './errors.js';

export type ExchangeAccess = ExchangeClient;

/** Builds a price oracle from an exchange's public candles for the given assets and window. */
export type PriceSource = (
  client: ExchangeClient,
  o: { assets: readonly string[]; from: number; to: number },
) => Promise<PriceOracle>;

export const candlePrices: PriceSource = (client, o) =>
  createKlineOracle(client, { ...o, quote: 'USDT' });

export interface ExchangeEndpoint {
  /** Replaces scheme and host of every API URL when set; paths are kept. */
  baseUrl?: string;
  allowHosts: string[];
}

const OFFICIAL_HOSTS: Record<string, string[]> = {
  binance: [
    'api.binance.com',
    'api1.binance.com',
    'api2.binance.com',
    'api3.binance.com',
    'api4.binance.com',
  ],
};

export function exchangeEndpoints(
  overrides: Record<string, string | undefined>,
): Record<string, ExchangeEndpoint> {
  const out: Record<string, ExchangeEndpoint> = {};
  for (const [id, hosts] of Object.entries(OFFICIAL_HOSTS)) {
    const baseUrl = overrides[id];
    out[id] = baseUrl
      ? { baseUrl, allowHosts: [...hosts, new URL(baseUrl).host] }
      : { allowHosts: hosts };
  }
  return out;
}

export type ExchangeFactory = (creds: Credentials) => Promise<ExchangeAccess>;

export function exchangeFactory(endpoints: Record<string, ExchangeEndpoint>): ExchangeFactory {
  return async (creds) => {
    const ep = endpoints[creds.exchange];
    if (!ep) throw new EnclaveError('UNKNOWN_EXCHANGE', 'exchange is not supported');
    switch (creds.exchange) {
      case 'binance':
        return createBinanceClient({ apiKey: creds.apiKey, apiSecret: creds.apiSecret, ...ep });
      default:
        throw new EnclaveError('UNKNOWN_EXCHANGE', 'exchange is not supported');
    }
  };
}
