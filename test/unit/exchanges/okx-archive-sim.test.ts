/**
 * The OKX adapter's fills archive against the simulator: every seeded fill, older and newer than
 * 90 days, exactly once once the quarters' files are finished; a quarter still generating or
 * failed shrinks the coverage to after it (no fill before it is returned); the archive endpoints'
 * 5 / 2 s limit is never passed; the file is fetched only from an allowed host; and the ledger
 * signs the shrunk span, then retries the older part on the next request.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FuturesFill } from '../../../src/aggregates/ledger.js';
import { loadAccountLedger } from '../../../src/enclave/ledger.js';
import { divDecimals, mulDecimals, negateDecimal } from '../../../src/exchanges/decimal.js';
import { quartersOverlapping, quarterLabel } from '../../../src/exchanges/okx-archive.js';
import { ARCHIVE_MS, createOkxClient, HISTORY_MS } from '../../../src/exchanges/okx.js';
import { ExchangeError, type NormalizedFill } from '../../../src/exchanges/types.js';
import {
  startOkxSim,
  type OkxSim,
  type OkxSimAccountSpec,
  type SimOkxFill,
} from '../../../src/sim/okx.js';

async function withSim<T>(fn: (sim: OkxSim) => Promise<T>): Promise<T> {
  const sim = await startOkxSim({ seed: 11 });
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

let n = 0;
function account(sim: OkxSim, spec: Partial<OkxSimAccountSpec> = {}) {
  const creds = { apiKey: `arch-${++n}`, apiSecret: `s${n}`, passphrase: `p${n}` };
  sim.addAccount({ ...creds, days: 700, spotFills: 300, trips: 40, ...spec });
  const host = new URL(sim.url).host;
  const client = (archiveHosts = [host]) =>
    createOkxClient({ ...creds, baseUrl: sim.url, allowHosts: [host], archiveHosts });
  return { creds, client };
}

const ctVal = (instId: string) =>
  instId.startsWith('ETH-') ? '0.1' : instId.startsWith('BTC-USD-') ? '100' : '0.01';
function expected(f: SimOkxFill): string {
  let [qty, quoteQty, pnl] = [f.fillSz, mulDecimals(f.fillSz, f.fillPx), ''];
  if (f.instType === 'SWAP' || f.instType === 'FUTURES') {
    const c = mulDecimals(f.fillSz, ctVal(f.instId));
    [qty, quoteQty] = f.instId.startsWith('BTC-USD-')
      ? [divDecimals(c, f.fillPx, 12), c]
      : [c, mulDecimals(c, f.fillPx)];
    pnl = f.fillPnl;
  }
  const fee = negateDecimal(f.fee);
  return [f.billId, f.ordId, f.side, f.fillPx, qty, quoteQty, fee, f.feeCcy, f.fillTime, pnl].join(
    '|',
  );
}
const actual = (f: NormalizedFill) =>
  [
    f.id,
    f.orderId,
    f.side,
    f.price,
    f.qty,
    f.quoteQty,
    f.fee,
    f.feeAsset,
    f.ts,
    (f as FuturesFill).realizedPnl ?? '',
  ].join('|');

/** The archive quarters a download at `now` needs, oldest first. */
const needed = (now: number) => quartersOverlapping(now - ARCHIVE_MS, now - HISTORY_MS);

describe('OKX fills archive against the simulator', { concurrency: true }, () => {
  it('finished archives: every seeded fill, older and newer than 90 days, exactly once', () =>
    withSim(async (sim) => {
      const { creds, client } = account(sim, { archiveReadyAfterPolls: 0 });
      const c = await client();
      const coverage: number[] = [];
      const archived: string[] = [];
      const fills = await c.fetchFills({
        onCoverage: (t) => coverage.push(t),
        onProgress: (p) => p.symbol.startsWith('archive/') && archived.push(p.symbol),
      });
      const truth = sim.truth(creds.apiKey).fills;
      const now = Date.now();
      assert.ok(truth.filter((f) => Number(f.fillTime) < now - HISTORY_MS).length > 200);
      assert.ok(truth.filter((f) => Number(f.fillTime) >= now - HISTORY_MS).length > 30);
      const got = fills.map(actual);
      assert.equal(new Set(got).size, got.length, 'no duplicates');
      assert.deepEqual(got.sort(), truth.map(expected).sort());
      assert.deepEqual(coverage, [], 'complete as asked: nothing reported');
      assert.equal(c.historySince(now), now - ARCHIVE_MS);
      assert.deepEqual(
        archived,
        needed(now).map((q) => `archive/${quarterLabel(q)}`),
        'one progress report per quarter',
      );
      const st = sim.stats();
      assert.equal(st.rateLimited, 0, 'the 5 / 2 s archive limit is kept');
      assert.equal(st.archiveDownloads, needed(now).length);
      // ordered like every adapter's fills
      assert.ok(fills.every((f, i) => i === 0 || fills[i - 1]!.ts <= f.ts));
    }));

  it('just requested (files still generating): coverage starts at now − 90 days, no older fill', () =>
    withSim(async (sim) => {
      const { creds, client } = account(sim); // 1 poll answers `ongoing` after the request
      const c = await client();
      let covered: number | undefined;
      const before = Date.now();
      const first = await c.fetchFills({ onCoverage: (t) => (covered = t) });
      const after = Date.now();
      assert.ok(covered !== undefined);
      assert.ok(covered >= before - HISTORY_MS && covered <= after - HISTORY_MS);
      assert.ok(first.every((f) => f.ts >= covered!));
      const truth = sim.truth(creds.apiKey).fills;
      assert.equal(first.length, truth.filter((f) => Number(f.fillTime) >= covered!).length);
      // the next download finds the files finished
      covered = undefined;
      const second = await c.fetchFills({ onCoverage: (t) => (covered = t) });
      assert.equal(covered, undefined);
      assert.equal(second.length, truth.length);
      assert.equal(sim.stats().rateLimited, 0);
    }));

  for (const mode of ['archiveOngoing', 'archiveFails'] as const)
    it(`${mode} for one quarter: coverage starts after it, every fill after it, none before`, () =>
      withSim(async (sim) => {
        const qs = needed(Date.now());
        const stuck = qs[Math.floor(qs.length / 2)]!;
        const { creds, client } = account(sim, {
          archiveReadyAfterPolls: 0,
          [mode]: [quarterLabel(stuck)],
        });
        const c = await client();
        for (let attempt = 0; attempt < 2; attempt++) {
          let covered: number | undefined;
          const fills = await c.fetchFills({ onCoverage: (t) => (covered = t) });
          assert.equal(covered, stuck.end, 'the day after the unavailable quarter');
          assert.ok(
            fills.every((f) => f.ts >= stuck.end),
            'no fill before it is claimed',
          );
          const want = sim
            .truth(creds.apiKey)
            .fills.filter((f) => Number(f.fillTime) >= stuck.end)
            .map(expected);
          assert.deepEqual(fills.map(actual).sort(), want.sort());
        }
        assert.equal(sim.stats().rateLimited, 0);
      }));

  it('a file link to a host that is not allowed is refused before anything is sent', () =>
    withSim(async (sim) => {
      const { client } = account(sim, { archiveReadyAfterPolls: 0, days: 200 });
      const c = await client(['static.okx.example']);
      await assert.rejects(
        c.fetchFills({}),
        (e: unknown) => e instanceof ExchangeError && e.code === 'EXCHANGE_EGRESS_DENIED',
      );
      assert.equal(sim.stats().archiveDownloads, 0);
    }));

  it('without an archive host the adapter keeps to fills-history (90 days), as before', () =>
    withSim(async (sim) => {
      const { creds, client } = account(sim, { archiveReadyAfterPolls: 0, days: 200 });
      const c = await client([]);
      const now = Date.now();
      assert.equal(c.historySince(now), now - HISTORY_MS);
      const fills = await c.fetchFills({});
      const truth = sim.truth(creds.apiKey).fills;
      assert.equal(
        fills.length,
        truth.filter((f) => Number(f.fillTime) >= now - HISTORY_MS).length,
      );
      assert.equal(sim.stats().archiveDownloads, 0);
    }));

  it('the ledger signs the shrunk span, and the next request retries and reaches 2 years', () =>
    withSim(async (sim) => {
      const { creds, client } = account(sim);
      const c = await client();
      const now1 = Date.now();
      const l1 = await loadAccountLedger(c, { from: null, now: now1 });
      assert.ok(l1.history.completeFrom >= now1 - HISTORY_MS, 'not the 2-year horizon');
      assert.equal(l1.history.cutShort, true);
      assert.ok(l1.fills.every((f) => f.ts >= l1.history.completeFrom));
      const now2 = Date.now();
      const l2 = await loadAccountLedger(c, { from: null, now: now2, history: l1.history });
      assert.equal(l2.history.completeFrom, now2 - ARCHIVE_MS, 'the archive now covers 2 years');
      assert.equal(l2.history.cutShort, undefined);
      assert.equal(l2.historyUse, 'incremental');
      assert.equal(l2.fills.length, sim.truth(creds.apiKey).fills.length);
      // complete now: the third request is incremental again (no archive request at all)
      const before = sim.stats().requests;
      const l3 = await loadAccountLedger(c, { from: null, now: Date.now(), history: l2.history });
      assert.equal(l3.history.completeFrom, l2.history.completeFrom);
      assert.equal(l3.fills.length, l2.fills.length);
      assert.ok(sim.stats().requests - before < 20);
    }));
});
