/**
 * What the connect form says per exchange: its name, whether its API keys have a passphrase, and
 * which read-only permission to grant. Only exchanges the service supports (src/wire/exchanges.ts)
 * are offered.
 */
import { SUPPORTED_EXCHANGES } from '../../src/wire/exchanges.js';

export interface ExchangeInfo {
  id: string;
  name: string;
  passphrase: boolean;
  permission: string[];
}

const KNOWN: ExchangeInfo[] = [
  {
    id: 'binance',
    name: 'Binance',
    passphrase: false,
    permission: [
      'In API Management, create a key with only “Enable Reading” ticked.',
      'Leave “Enable Spot & Margin Trading”, “Enable Withdrawals” and every other permission off.',
    ],
  },
  {
    id: 'binanceusdm',
    name: 'Binance USDⓈ-M futures',
    passphrase: false,
    permission: [
      'In API Management, create a key with only “Enable Reading” ticked (it covers the futures account too).',
      'Leave “Enable Futures”, “Enable Spot & Margin Trading”, “Enable Withdrawals” and every other permission off.',
    ],
  },
  {
    id: 'bybit',
    name: 'Bybit',
    passphrase: false,
    permission: [
      'In API Management, create a system-generated key with “Read-Only” permissions.',
      'Leave “Read-Write”, every trading permission and “Withdrawal” off.',
    ],
  },
  {
    id: 'coinbase',
    name: 'Coinbase Advanced',
    passphrase: false,
    permission: [
      'In the Coinbase Developer Platform, create a Secret API key with the ECDSA signature algorithm (not Ed25519).',
      'Grant only “View”; leave “Trade” and “Transfer” unticked. Paste the key name (organizations/…/apiKeys/…) and the whole private key, BEGIN and END lines included.',
    ],
  },
  {
    id: 'okx',
    name: 'OKX',
    passphrase: true,
    permission: [
      'Create a V5 API key with the “Read” permission only; it comes with a passphrase.',
    ],
  },
  {
    id: 'kraken',
    name: 'Kraken',
    passphrase: false,
    permission: [
      'In Settings › API, create a key with only “Query Funds”, “Query Open Orders & Trades”, “Query Closed Orders & Trades” and “Query Ledger Entries”.',
      'Leave “Withdraw Funds”, “Create & Modify Orders” and every other permission off.',
    ],
  },
];

export const EXCHANGES: ExchangeInfo[] = KNOWN.filter((e) => SUPPORTED_EXCHANGES.includes(e.id));

export function exchangeInfo(id: string): ExchangeInfo | undefined {
  return EXCHANGES.find((e) => e.id === id);
}
