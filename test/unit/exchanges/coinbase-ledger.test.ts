/**
 * A hand-built Coinbase ledger, from raw API rows through the adapter's parsers to the metrics,
 * with every expected number worked out below. It pins the Coinbase quirks: fees in the quote
 * currency, a fill sized in quote (`size_in_quote`), and USD and USDC books of one asset.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeMetrics } from '../../../src/aggregates/compute.js';
import type { LedgerEvent } from '../../../src/aggregates/ledger.js';
import { toCoinbaseFill } from '../../../src/exchanges/coinbase-fills.js';
import { toFlow } from '../../../src/exchanges/coinbase-flows.js';
import { D, H, T0, steps } from '../aggregates/helpers.js';

const iso = (t: number, micros = '000') => new Date(t).toISOString().replace('Z', `${micros}Z`);
const fill = (o: {
  t: number;
  id: string;
  product: string;
  side: 'BUY' | 'SELL';
  price: string;
  size: string;
  commission: string;
  inQuote?: boolean;
  maker?: boolean;
}) =>
  toCoinbaseFill({
    entry_id: `e-${o.id}`,
    trade_id: `t-${o.id}`,
    order_id: `o-${o.id}`,
    trade_time: iso(o.t, '123'),
    trade_type: 'FILL',
    price: o.price,
    size: o.size,
    commission: o.commission,
    product_id: o.product,
    sequence_timestamp: iso(o.t, '123'),
    liquidity_indicator: o.maker ? 'MAKER' : 'TAKER',
    size_in_quote: o.inQuote ?? false,
    user_id: 'u',
    side: o.side,
    retail_portfolio_id: 'p',
  })!;
const tx = (t: number, id: string, type: string, amount: string, currency: string) =>
  toFlow(
    {
      id,
      type,
      status: 'completed',
      amount: { amount, currency },
      created_at: new Date(t).toISOString().replace('.000', ''),
    },
    currency,
  )!;

describe('a Coinbase ledger: quote-currency fees, a quote-sized fill, USD and USDC books', () => {
  // Prices: BTC 40000 from day 0, 50000 from day 1, 60000 from day 2 (USD; USDC at par).
  // Ledger (raw rows → adapter parsers):
  //   day −1 23:00  fiat_deposit 20120 USD
  //   day −1 23:30  receive      10060 USDC
  //   day 0 01:00   BTC-USD  BUY  size 0.5 @ 40000, taker → quote 0.5·40000 = 20000 USD, commission 120 USD (0.6 %)
  //   day 1 01:00   BTC-USDC BUY  size_in_quote: size 10000 USDC @ 50000 → qty 10000 / 50000 = 0.2 BTC,
  //                 quote 10000 USDC, commission 60 USDC (0.6 %), charged in USDC, not in BTC
  //   day 2 01:00   BTC-USD  SELL size 0.7 @ 60000, maker → quote 42000 USD, commission 168 USD (0.4 %)
  //   day 2 02:00   fiat_withdrawal −1000 USD
  // BTC is one asset whichever book it traded on: average cost (20000 + 10000) / 0.7; the sale of
  // all 0.7 takes out cost 30000 → realized 42000 − 30000 = 12000.
  // fees = 120 + 60 + 168 = 348 (USDC at par with USD); volume = 20000 + 10000 + 42000 = 72000.
  // Balances at the end: USD 20120 − 20000 − 120 + 42000 − 168 − 1000 = 40832; USDC 10060 − 10000 − 60 = 0; BTC 0.
  // pnl = end 40832 − start (20120 + 10060 = 30180) − net flows in the window (−1000) = 11652
  //     = realized 12000 − fees 348 ✓; nothing is held at the end, so unrealized = 0.
  const fills = [
    fill({
      t: T0 + H,
      id: '1',
      product: 'BTC-USD',
      side: 'BUY',
      price: '40000',
      size: '0.5',
      commission: '120',
    }),
    fill({
      t: T0 + D + H,
      id: '2',
      product: 'BTC-USDC',
      side: 'BUY',
      price: '50000.00',
      size: '10000',
      commission: '60',
      inQuote: true,
    }),
    fill({
      t: T0 + 2 * D + H,
      id: '3',
      product: 'BTC-USD',
      side: 'SELL',
      price: '60000',
      size: '0.7',
      commission: '168',
      maker: true,
    }),
  ];
  const ledger: LedgerEvent[] = [
    tx(T0 - H, 'd1', 'fiat_deposit', '20120.00', 'USD'),
    tx(T0 - H / 2, 'd2', 'receive', '10060', 'USDC'),
    ...fills,
    tx(T0 + 2 * D + 2 * H, 'w1', 'fiat_withdrawal', '-1000.00', 'USD'),
  ];
  const oracle = steps({
    BTC: [
      [T0 - D, '40000'],
      [T0 + D, '50000'],
      [T0 + 2 * D, '60000'],
    ],
  });
  const m = computeMetrics(ledger, { from: T0, to: T0 + 3 * D - 1, oracle });

  it('the adapter reads each row as Coinbase means it', () => {
    assert.deepEqual(
      fills.map((f) => [f.symbol, f.side, f.qty, f.quoteQty, f.fee, f.feeAsset, f.maker]),
      [
        ['BTC/USD', 'buy', '0.5', '20000', '120', 'USD', false],
        ['BTC/USDC', 'buy', '0.2', '10000', '60', 'USDC', false],
        ['BTC/USD', 'sell', '0.7', '42000', '168', 'USD', true],
      ],
    );
    assert.equal(ledger[ledger.length - 1]!.type, 'withdrawal');
  });

  it('money figures match the worked example', () => {
    assert.equal(m.realized_pnl, 12000);
    assert.equal(m.fees, 348);
    assert.equal(m.unrealized_pnl, 0);
    assert.equal(m.pnl, 11652);
    assert.equal(m.volume, 72000);
    assert.equal(m.trades, 3);
    assert.equal(m.unpriced_fees, 0);
  });
});
