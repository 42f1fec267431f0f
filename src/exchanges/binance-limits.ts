/**
 * Binance's IP limits as the shared limiter (./limiter.ts) meters them, and the weight of every
 * endpoint the adapters call. Sources: binance-spot-api-docs rest-api.md "LIMITS"/"IP Limits"
 * (6,000 REQUEST_WEIGHT per minute since CHANGELOG 2023-08-25; `X-MBX-USED-WEIGHT-1M`), the
 * wallet pages (each /sapi endpoint with an IP limit has its own 12,000/min pool,
 * `X-SAPI-USED-IP-WEIGHT-1M`; withdraw history weight 18,000 of 180,000 per second, i.e. 10/s),
 * and the USD-M pages (REQUEST_WEIGHT 2,400/min in /fapi/v1/exchangeInfo; userTrades 5, income
 * 30, balance 5, account 5, positionRisk 5). Unknown paths are charged conservatively.
 */
import type { Cost, WeightPool } from './limiter.js';

const MINUTE = 60_000;

/** api.binance.com: /api/* and the /sapi/* endpoints the adapters call. */
export const BINANCE_SPOT_POOLS: readonly WeightPool[] = [
  { name: 'api', limit: 6000, windowMs: MINUTE, header: 'X-MBX-USED-WEIGHT-1M' },
  // choice: one limiter pool per /sapi endpoint family we call, mirroring Binance's per-endpoint
  // IP pools; the header reports the pool of the endpoint that answered
  { name: 'sapiDeposit', limit: 12_000, windowMs: MINUTE, header: 'X-SAPI-USED-IP-WEIGHT-1M' },
  { name: 'sapiRestrictions', limit: 12_000, windowMs: MINUTE, header: 'X-SAPI-USED-IP-WEIGHT-1M' },
  { name: 'sapiWithdraw1s', limit: 180_000, windowMs: 1000, header: 'X-SAPI-USED-IP-WEIGHT-1S' },
];

/** fapi.binance.com (USD-M futures): one REQUEST_WEIGHT pool. */
export const BINANCE_USDM_POOLS: readonly WeightPool[] = [
  { name: 'fapi', limit: 2400, windowMs: MINUTE, header: 'X-MBX-USED-WEIGHT-1M' },
];

/** Weight of a spot-host request by path (and, for myTrades, by its parameters). */
export function binanceSpotCost(path: string, query: URLSearchParams): Cost {
  switch (path) {
    case '/api/v3/ping':
    case '/api/v3/time':
      return { api: 1 };
    case '/api/v3/klines':
      return { api: 2 };
    case '/api/v3/exchangeInfo':
    case '/api/v3/account':
      return { api: 20 };
    case '/api/v3/myTrades':
      return { api: query.has('orderId') ? 5 : 20 };
    case '/sapi/v1/capital/deposit/hisrec':
      return { sapiDeposit: 1 };
    case '/sapi/v1/capital/withdraw/history':
      return { sapiWithdraw1s: 18_000 };
    case '/sapi/v1/account/apiRestrictions':
      return { sapiRestrictions: 1 };
    default:
      return { api: 50 }; // an endpoint we did not price: assume it is heavy
  }
}

/** Weight of a USD-M request by path. */
export function binanceUsdmCost(path: string): Cost {
  switch (path) {
    case '/fapi/v1/ping':
    case '/fapi/v1/time':
    case '/fapi/v1/exchangeInfo':
      return { fapi: 1 };
    case '/fapi/v1/userTrades':
    case '/fapi/v2/balance':
    case '/fapi/v2/account':
    case '/fapi/v3/account':
    case '/fapi/v2/positionRisk':
    case '/fapi/v3/positionRisk':
      return { fapi: 5 };
    case '/fapi/v1/income':
      return { fapi: 30 };
    default:
      return { fapi: 50 };
  }
}
