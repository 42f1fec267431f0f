/**
 * The Coinbase simulator's products and one account's generated history (`./coinbase.ts`): fills
 * at the shared market price, and the transfers that fund the account. Everything is booked in one
 * time-ordered pass, so balances are exactly Σ credited transfers − Σ (sent + network fee) + Σ
 * fills − Σ commissions, and no balance is negative at any time.
 *
 * Coinbase quirks reproduced (docs.cdp.coinbase.com advanced-trade-api "List Fills"; ccxt
 * coinbase.js parseTrade): commission is in the quote currency; a fill of an order placed in quote
 * size (`size_in_quote: true`) carries its size in the QUOTE currency; USD and USDC are separate
 * wallets with separate products (BTC-USD, BTC-USDC).
 */
import type { SimSymbol } from './binance-data.js';
import { DAY, E8, HOUR, fmtTrim, hex, prng } from './binance-prim.js';

export interface CbProduct extends SimSymbol {
  /** false: delisted and gone from /products (its fills remain in the fill history) */
  listed: boolean;
}

const p = (
  symbol: string,
  tickE8: bigint,
  stepE8: bigint,
  startTicks: number,
  sizeSteps: number,
  listed = true,
): CbProduct => {
  const [base, quote] = symbol.split('-') as [string, string];
  return { symbol, base, quote, status: 'TRADING', tickE8, stepE8, startTicks, sizeSteps, listed };
};

/** tick × step is a multiple of 1e8 for each, so price × size is exact at 8 decimals. */
export const CB_PRODUCTS: readonly CbProduct[] = [
  p('BTC-USD', 1_000_000n, 1_000n, 6_000_000, 2_000),
  p('ETH-USD', 1_000_000n, 10_000n, 300_000, 5_000),
  p('SOL-USD', 1_000_000n, 100_000n, 15_000, 5_000),
  p('BTC-USDC', 1_000_000n, 1_000n, 6_000_000, 2_000),
  p('ETH-BTC', 1_000n, 100_000n, 5_000, 500),
  // delisted (Coinbase delisted REP in 2022): absent from /products, no candles, fills remain
  p('REP-USD', 1_000_000n, 1_000_000n, 1_000, 500, false),
];
for (const s of CB_PRODUCTS) {
  if ((s.tickE8 * s.stepE8) % E8 !== 0n)
    throw new Error(`sim: ${s.symbol} price×size is not exact at 8 dp`);
}

/** One fill row of GET /api/v3/brokerage/orders/historical/fills, as the simulator sends it. */
export interface CbFill {
  entry_id: string;
  trade_id: string;
  order_id: string;
  trade_time: string;
  trade_type: 'FILL';
  price: string;
  size: string;
  commission: string;
  product_id: string;
  sequence_timestamp: string;
  liquidity_indicator: 'MAKER' | 'TAKER';
  size_in_quote: boolean;
  user_id: string;
  side: 'BUY' | 'SELL';
  retail_portfolio_id: string;
}

/** One row of GET /v2/accounts/:id/transactions (the fields a client reads). */
export interface CbTransaction {
  id: string;
  type: 'send' | 'receive' | 'fiat_deposit' | 'fiat_withdrawal';
  status: 'completed' | 'pending' | 'failed' | 'canceled';
  amount: { amount: string; currency: string };
  native_amount: { amount: string; currency: 'USD' };
  created_at: string;
  updated_at: string;
  resource: 'transaction';
  resource_path: string;
  network?: { status: string; transaction_fee: { amount: string; currency: string } };
}

export interface CbWallet {
  uuid: string;
  currency: string;
  /** e8 */
  balance: bigint;
  transactions: CbTransaction[];
}

export interface CbGenerateOptions {
  seed: number;
  fills: number;
  /** fills of one market order in a single millisecond (0 = none) */
  burst: number;
  /** days without any fill in the middle of the history (0 = none) */
  gapDays: number;
  end: number;
  days: number;
  /** price of `symbol` in ticks at `t` */
  ticks(symbol: string, t: number): number;
}

export interface CbGenerated {
  fills: CbFill[];
  wallets: CbWallet[];
  userId: string;
  portfolioId: string;
}

const FIAT = new Set(['USD']);
/** network fee of a crypto send, e8 */
const SEND_FEE_E8: Record<string, bigint> = {
  BTC: 5_000n,
  ETH: 50_000n,
  SOL: 100_000n,
  USDC: 100_000_000n,
};
const INITIAL: readonly [string, bigint, CbTransaction['type']][] = [
  ['USD', 1_000_000n * E8, 'fiat_deposit'],
  ['USDC', 200_000n * E8, 'receive'],
  ['BTC', 2n * E8, 'receive'],
  ['ETH', 20n * E8, 'receive'],
];

/** RFC 3339 with microseconds, as Coinbase prints trade_time ("2023-01-18T01:37:38.092520Z"). */
export function rfc3339(ms: number, micros = 0): string {
  return new Date(ms).toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`);
}

function uuid(rnd: () => number): string {
  const h = hex(rnd, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

type Plan =
  | { kind: 'order'; time: number; sym: CbProduct; fills: number; burst: boolean; close: boolean }
  | { kind: 'flow'; time: number; status: CbTransaction['status']; asset?: string; amount?: bigint }
  | { kind: 'out'; time: number; status: CbTransaction['status']; fiat: boolean };

export function generateCoinbaseAccount(o: CbGenerateOptions): CbGenerated {
  const rnd = prng(o.seed);
  const start = o.end - o.days * DAY;
  const userId = uuid(rnd);
  const portfolioId = uuid(rnd);
  // the gap sits in the middle third; nothing trades inside it
  const gapStart = start + Math.floor(o.days / 3) * DAY;
  const gapEnd = gapStart + o.gapDays * DAY;
  const inWindow = (): number => {
    for (;;) {
      const t = start + Math.floor(rnd() * (o.days * DAY - HOUR));
      if (t < gapStart || t >= gapEnd) return t;
    }
  };
  const traded = CB_PRODUCTS.filter((s) => s.listed);
  const delisted = CB_PRODUCTS.find((s) => !s.listed)!;
  const delistAt = start + Math.floor(o.days / 4) * DAY;

  const plan: Plan[] = [];
  for (let left = o.fills; left > 0;) {
    const early = rnd() < 0.08;
    const sym = early ? delisted : traded[Math.floor(rnd() * traded.length)]!;
    const n = Math.min(left, 1 + Math.floor(rnd() * 4));
    let time = inWindow();
    if (early) time = start + Math.floor(rnd() * (delistAt - start - DAY));
    plan.push({ kind: 'order', time, sym, fills: n, burst: false, close: false });
    left -= n;
  }
  // the delisted product is sold out before its delisting: no balance trace remains
  plan.push({ kind: 'order', time: delistAt, sym: delisted, fills: 1, burst: false, close: true });
  if (o.burst > 0) {
    const time = start + Math.floor((o.days * 2) / 3) * DAY + 12_345;
    plan.push({ kind: 'order', time, sym: traded[0]!, fills: o.burst, burst: true, close: false });
  }
  INITIAL.forEach(([asset, amount], i) =>
    plan.push({ kind: 'flow', time: start - HOUR + i * 1000, status: 'completed', asset, amount }),
  );
  for (let i = 0, n = 2 + Math.floor(rnd() * 2); i < n; i++)
    plan.push({ kind: 'flow', time: inWindow(), status: 'completed' });
  plan.push({ kind: 'flow', time: inWindow(), status: 'pending' }); // not credited yet
  for (let i = 0, n = 2 + Math.floor(rnd() * 2); i < n; i++)
    plan.push({ kind: 'out', time: inWindow(), status: 'completed', fiat: i === 0 });
  plan.push({
    kind: 'out',
    time: inWindow(),
    status: rnd() < 0.5 ? 'failed' : 'canceled',
    fiat: rnd() < 0.5,
  });
  plan.sort((a, b) => a.time - b.time);

  const wallets = new Map<string, CbWallet>();
  const wallet = (c: string): CbWallet => {
    let w = wallets.get(c);
    if (!w) wallets.set(c, (w = { uuid: uuid(rnd), currency: c, balance: 0n, transactions: [] }));
    return w;
  };
  for (const c of ['USD', 'USDC', 'BTC', 'ETH', 'SOL', 'REP']) wallet(c);
  const bal = (c: string) => wallet(c).balance;
  const add = (c: string, v: bigint) => (wallet(c).balance += v);
  const pos = new Map<string, bigint>();
  const fills: CbFill[] = [];

  const tx = (
    t: number,
    asset: string,
    signedE8: bigint,
    type: CbTransaction['type'],
    status: CbTransaction['status'],
    feeE8: bigint,
  ): void => {
    const w = wallet(asset);
    const id = uuid(rnd);
    const row: CbTransaction = {
      id,
      type,
      status,
      amount: { amount: fmtSigned(signedE8), currency: asset },
      native_amount: { amount: fmtSigned(signedE8), currency: 'USD' }, // choice: not revalued
      created_at: rfc3339(t).replace(/\.\d+Z$/, 'Z'),
      updated_at: rfc3339(t).replace(/\.\d+Z$/, 'Z'),
      resource: 'transaction',
      resource_path: `/v2/accounts/${w.uuid}/transactions/${id}`,
    };
    if (type === 'send' && !FIAT.has(asset))
      row.network = {
        status: status === 'completed' ? 'confirmed' : status,
        transaction_fee: { amount: fmtTrim(feeE8), currency: asset },
      };
    w.transactions.push(row);
  };

  const secs = (t: number) => Math.ceil(t / 1000) * 1000; // transfers have second resolution
  let last = start - DAY;
  for (const ev of plan) {
    if (ev.kind === 'flow') {
      const t = secs(Math.max(ev.time, last + 1));
      const asset = ev.asset ?? ['USD', 'BTC', 'ETH', 'USDC'][Math.floor(rnd() * 4)]!;
      const amount =
        ev.amount ??
        (FIAT.has(asset) || asset === 'USDC'
          ? BigInt(1_000 + Math.floor(rnd() * 50_000)) * E8
          : BigInt(1 + Math.floor(rnd() * 200)) * (E8 / 100n));
      const type = FIAT.has(asset) ? 'fiat_deposit' : rnd() < 0.5 ? 'receive' : 'send';
      tx(t, asset, amount, type, ev.status, 0n);
      if (ev.status === 'completed') add(asset, amount);
      last = t + 1;
      continue;
    }
    if (ev.kind === 'out') {
      const t = secs(Math.max(ev.time, last + 1));
      const asset = ev.fiat ? 'USD' : ['BTC', 'ETH', 'USDC'][Math.floor(rnd() * 3)]!;
      const fee = FIAT.has(asset) ? 0n : SEND_FEE_E8[asset]!;
      const amount = ((bal(asset) * BigInt(3 + Math.floor(rnd() * 15))) / 100n / 1_000n) * 1_000n;
      if (amount === 0n || bal(asset) < amount + fee) continue;
      tx(t, asset, -amount, ev.fiat ? 'fiat_withdrawal' : 'send', ev.status, fee);
      if (ev.status === 'completed') add(asset, -(amount + fee));
      last = t + 1;
      continue;
    }
    const { sym } = ev;
    const orderId = uuid(rnd);
    const held = pos.get(sym.symbol) ?? 0n;
    let buy = ev.burst || held === 0n || (!ev.close && rnd() < 0.55);
    if (ev.close) buy = false;
    const maker = !ev.burst && !ev.close && rnd() < 0.4;
    // market buys by quote amount: each fill's size is then in the quote currency
    const inQuote = buy && !maker && !ev.burst && rnd() < 0.3;
    for (let f = 0; f < ev.fills; f++) {
      const time = Math.max(last, ev.burst ? ev.time : ev.time + Math.floor(f / 2));
      const step = ev.burst ? Math.floor((f * 3) / ev.fills) : Math.floor(rnd() * 5) - 2;
      const price = BigInt(o.ticks(sym.symbol, time) + step) * sym.tickE8;
      let qty = ev.burst
        ? sym.stepE8 * 10n
        : BigInt(1 + Math.floor(rnd() * sym.sizeSteps)) * sym.stepE8;
      if (!buy) {
        const have =
          bal(sym.base) < (pos.get(sym.symbol) ?? 0n) ? bal(sym.base) : (pos.get(sym.symbol) ?? 0n);
        const cap = have - (have % sym.stepE8);
        qty = ev.close || qty > cap ? cap : qty;
      }
      if (qty <= 0n) break;
      const quoteQty = (price * qty) / E8;
      // Advanced Trade fee tiers: 0.40 % maker, 0.60 % taker, charged in the quote currency
      const fee = (quoteQty * (maker ? 40n : 60n)) / 10_000n;
      if (buy && bal(sym.quote) < quoteQty + fee) break;
      add(sym.base, buy ? qty : -qty);
      add(sym.quote, (buy ? -quoteQty : quoteQty) - fee);
      pos.set(sym.symbol, (pos.get(sym.symbol) ?? 0n) + (buy ? qty : -qty));
      last = time;
      const micros = Math.floor(rnd() * 1000);
      fills.push({
        entry_id: uuid(rnd),
        trade_id: uuid(rnd),
        order_id: orderId,
        trade_time: rfc3339(time, micros),
        trade_type: 'FILL',
        price: fmtTrim(price),
        size: fmtTrim(inQuote ? quoteQty : qty),
        commission: fmtTrim(fee),
        product_id: sym.symbol,
        sequence_timestamp: rfc3339(time, micros),
        liquidity_indicator: maker ? 'MAKER' : 'TAKER',
        size_in_quote: inQuote,
        user_id: userId,
        side: buy ? 'BUY' : 'SELL',
        retail_portfolio_id: portfolioId,
      });
    }
  }
  return { fills, wallets: [...wallets.values()], userId, portfolioId };
}

function fmtSigned(v: bigint): string {
  return v < 0n ? `-${fmtTrim(-v)}` : fmtTrim(v);
}
