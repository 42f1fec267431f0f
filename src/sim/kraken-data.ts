/**
 * Generates one simulated Kraken account: spot trades (X/Z-prefixed pair and asset names, a
 * delisted pair, one order filling `burst` times at the same instant), and the ledger entries
 * beside them: deposits, withdrawals, spot↔futures transfers and margin rollover every 4 h.
 * Deterministic for a seed; amounts are BigInt counts of 1e-10 (sim-http.ts). Balances are what
 * the entries add up to.
 */
import { DAY, HOUR, prng } from './binance-prim.js';
import { E10, fmt10, mulRound } from './sim-http.js';

export interface SimKrakenTrade {
  txid: string;
  ordertxid: string;
  postxid: string;
  pair: string;
  /** seconds, 4 decimals */
  time: number;
  type: 'buy' | 'sell';
  ordertype: 'limit' | 'market';
  price: string;
  cost: string;
  fee: string;
  vol: string;
  margin: string;
  leverage: string;
  misc: string;
  trade_id: number;
  maker: boolean;
}

export interface SimKrakenLedger {
  id: string;
  refid: string;
  time: number;
  type: 'deposit' | 'withdrawal' | 'transfer' | 'rollover' | 'trade';
  subtype: string;
  aclass: 'currency';
  asset: string;
  amount: string;
  fee: string;
  balance: string;
}

export interface KrakenGenOptions {
  seed: number;
  trades: number;
  burst: number;
  end: number;
  days: number;
  gapDays: number;
}

export interface KrakenAccountData {
  trades: SimKrakenTrade[];
  ledger: SimKrakenLedger[];
  /** Kraken asset id → balance (1e-10) */
  balances: Map<string, bigint>;
}

/** AssetPairs: LUNAUSD is delisted (traded, no longer listed). */
export const KRAKEN_PAIRS: Record<
  string,
  { altname: string; wsname: string; base: string; quote: string }
> = {
  XXBTZUSD: { altname: 'XBTUSD', wsname: 'XBT/USD', base: 'XXBT', quote: 'ZUSD' },
  XETHZUSD: { altname: 'ETHUSD', wsname: 'ETH/USD', base: 'XETH', quote: 'ZUSD' },
  XETHXXBT: { altname: 'ETHXBT', wsname: 'ETH/XBT', base: 'XETH', quote: 'XXBT' },
  DOTEUR: { altname: 'DOTEUR', wsname: 'DOT/EUR', base: 'DOT', quote: 'ZEUR' },
};
const TRADED: [string, string, string, bigint, bigint][] = [
  // pair, base, quote, start price (1e-10), qty step (1e-10)
  ['XXBTZUSD', 'XXBT', 'ZUSD', 60_000n * E10, E10 / 1000n],
  ['XETHZUSD', 'XETH', 'ZUSD', 3_000n * E10, E10 / 100n],
  ['XETHXXBT', 'XETH', 'XXBT', E10 / 20n, E10 / 100n],
  ['DOTEUR', 'DOT', 'ZEUR', 5n * E10, E10],
  ['LUNAUSD', 'LUNA', 'ZUSD', E10 / 100n, 1000n * E10],
];

const id = (rnd: () => number, prefix: string) => {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const c = (n: number) => Array.from({ length: n }, () => A[Math.floor(rnd() * 32)]).join('');
  return `${prefix}${c(5)}-${c(5)}-${c(6)}`;
};

export function generateKrakenAccount(o: KrakenGenOptions): KrakenAccountData {
  const rnd = prng(o.seed);
  const start = o.end - o.days * DAY;
  const gapStart = start + Math.floor((o.days - o.gapDays) / 2) * DAY;
  const gapEnd = gapStart + o.gapDays * DAY;
  const when = (): number => {
    for (;;) {
      const t = start + HOUR + Math.floor(rnd() * (o.days * DAY - 3 * DAY));
      if (t < gapStart - DAY || t >= gapEnd) return t;
    }
  };
  const bal = new Map<string, bigint>();
  const move = (a: string, v: bigint) => bal.set(a, (bal.get(a) ?? 0n) + v);
  const trades: SimKrakenTrade[] = [];
  const ledger: SimKrakenLedger[] = [];
  const sec = (t: number, frac = 0) =>
    Math.floor(t / 1000) + Math.floor((t % 1000) * 10 + frac) / 10_000;
  const entry = (
    t: number,
    type: SimKrakenLedger['type'],
    subtype: string,
    asset: string,
    amount: bigint,
    fee: bigint,
  ) => {
    move(asset, amount - fee);
    ledger.push({
      id: id(rnd, 'L'),
      refid: id(rnd, 'R'),
      time: sec(t),
      type,
      subtype,
      aclass: 'currency',
      asset,
      amount: fmt10(amount),
      fee: fmt10(fee),
      balance: fmt10(bal.get(asset)!),
    });
  };
  entry(start, 'deposit', '', 'ZUSD', 2_000_000n * E10, 0n);
  entry(start, 'deposit', '', 'XXBT', 10n * E10, 0n);
  entry(start, 'deposit', '', 'XETH', 100n * E10, 0n);
  entry(start, 'deposit', '', 'ZEUR', 200_000n * E10, 0n);
  entry(start, 'deposit', '', 'LUNA', 10_000_000n * E10, 0n);
  entry(start, 'deposit', '', 'DOT', 50_000n * E10, 0n);
  for (let i = 0; i < 4; i++) entry(when(), 'deposit', '', 'ZUSD', BigInt(500 + i) * E10, 5n * E10);
  for (let i = 0; i < 3; i++)
    entry(when(), 'withdrawal', '', 'XXBT', -(E10 / 10n) * BigInt(i + 1), E10 / 5000n);
  entry(when(), 'transfer', 'spottofutures', 'ZUSD', -1000n * E10, 0n);
  entry(when(), 'transfer', 'spotfromfutures', 'ZUSD', 400n * E10, 0n);
  // a margin position open for two days: rollover every 4 h
  const m0 = when();
  for (let t = m0; t < m0 + 2 * DAY; t += 4 * HOUR) entry(t, 'rollover', '', 'ZUSD', 0n, E10 / 4n);

  const price = new Map(TRADED.map(([p, , , s]) => [p, s]));
  let tradeId = 40_000_000;
  const trade = (t: number, frac: number, k: number, ordertxid: string, maker: boolean) => {
    const [pair, base, quote, , step] = TRADED[k]!;
    const p0 = price.get(pair)!;
    const p = p0 + ((rnd() < 0.5 ? -1n : 1n) * p0) / 500n;
    price.set(pair, p);
    const px = mulRound(p, E10, 5);
    const vol = step * BigInt(1 + Math.floor(rnd() * 10));
    const cost = mulRound(px, vol, 8);
    const fee = mulRound(cost, maker ? 16_000_000n : 26_000_000n, 8); // 0.16 % / 0.26 %
    const buy = rnd() < 0.5;
    move(base, buy ? vol : -vol);
    move(quote, (buy ? -cost : cost) - fee);
    trades.push({
      txid: id(rnd, 'T'),
      ordertxid,
      postxid: id(rnd, 'P'),
      pair,
      time: sec(t, frac),
      type: buy ? 'buy' : 'sell',
      ordertype: maker ? 'limit' : 'market',
      price: fmt10(px),
      cost: fmt10(cost),
      fee: fmt10(fee),
      vol: fmt10(vol),
      margin: '0.00000',
      leverage: '0',
      misc: '',
      trade_id: tradeId++,
      maker,
    });
  };
  for (let i = 0; i < o.trades; i++)
    trade(when(), Math.floor(rnd() * 10), i % TRADED.length, id(rnd, 'O'), rnd() < 0.4);
  // one market order filling `burst` times at the same instant (same time, to the 0.1 ms)
  const tb = when();
  const ob = id(rnd, 'O');
  for (let i = 0; i < o.burst; i++) trade(tb, 3, 0, ob, false);
  return { trades, ledger, balances: bal };
}
