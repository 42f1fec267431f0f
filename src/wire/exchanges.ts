/** Exchange ids both sides agree on. The enclave holds the adapters; the host only validates ids. */
export const SUPPORTED_EXCHANGES: readonly string[] = [
  'binance',
  'binanceusdm',
  'bybit',
  'okx',
  'kraken',
  'coinbase',
];
