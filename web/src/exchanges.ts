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
    id: 'okx',
    name: 'OKX',
    passphrase: true,
    permission: [
      'Create a V5 API key with the “Read” permission only; it comes with a passphrase.',
    ],
  },
];

export const EXCHANGES: ExchangeInfo[] = KNOWN.filter((e) => SUPPORTED_EXCHANGES.includes(e.id));

export function exchangeInfo(id: string): ExchangeInfo | undefined {
  return EXCHANGES.find((e) => e.id === id);
}
