import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CryptoHelper } from '../../../src/client/crypto-helper.js';
import { startBinanceSim, type BinanceSim } from '../../../src/sim/binance.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { META, quote, submit } from '../../helpers/client.js';

const A = { apiKey: 'hist-key', apiSecret: 'hist-secret', fills: 400, uid: 5150 };
const B = { apiKey: 'hist-other', apiSecret: 'hist-other-secret', fills: 60, uid: 5151 };
const DAY = 86_400_000;
/** Fields that depend only on the rows and the requested window, not on when it ran. */
const RESULT = [
  'trades',
  'trades_root',
  'pnl',
  'volume',
  'fees',
  'realized_pnl',
  'start_equity',
  'end_equity',
  'net_flows',
  'from',
  'to',
] as const;

describe('stored history (issue #3): incremental downloads, sealed blobs, purge', () => {
  let t: TestApp;
  let sim: BinanceSim;
  before(async () => {
    sim = await startBinanceSim({ port: 0, seed: 11 });
    sim.addAccount(A);
    sim.addAccount(B);
    t = await startTestApp({ exchangeBaseUrl: sim.url });
  });
  after(async () => {
    await t?.close();
    await sim?.close();
  });

  async function newSession(acct: { apiKey: string; apiSecret: string }): Promise<string> {
    const q = await quote(t.app);
    const res = await submit(t.app, {
      ...CryptoHelper.encryptCredentials(
        { exchange: 'binance', apiKey: acct.apiKey, apiSecret: acct.apiSecret },
        q.enclave_pubkey,
      ),
      metadata: META,
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().session_id;
  }
  async function run(sid: string, window: { from: string; to: string }) {
    const res = await t.app.inject({
      method: 'POST',
      url: '/enclave/request_aggregates',
      payload: { session_id: sid, ...window },
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().aggregates_signed.payload as Record<string, unknown>;
  }
  const stored = async (sid: string) =>
    (
      await t.db.db.query<{ version: string | number; ciphertext: string }>(
        'SELECT version, ciphertext FROM session_history WHERE session_id = $1',
        [sid],
      )
    ).map((r) => ({ version: Number(r.version), ciphertext: r.ciphertext }))[0] ?? null;
  const served = () => sim.tradeRowsServed(A.apiKey);
  const pick = (p: Record<string, unknown>) => Object.fromEntries(RESULT.map((k) => [k, p[k]]));

  const truth = () => sim.truth(A.apiKey);
  const window = () => {
    const all = truth();
    return {
      from: new Date(all[0]!.time - DAY).toISOString(),
      to: new Date(all.at(-1)!.time + DAY).toISOString(),
    };
  };

  let sid = '';
  let fullResult: Record<string, unknown> = {};

  it('an incremental run fetches only the new rows, and its result equals a full run', async () => {
    const all = truth();
    const cut = all[Math.floor(all.length * 0.8)]!.time;
    sim.hideTradesAfter(A.apiKey, cut);
    sid = await newSession(A);
    const before1 = served();
    const first = await run(sid, window());
    const seen1 = all.filter((x) => x.time <= cut).length;
    assert.equal(served() - before1, seen1, 'the first run downloads every visible row once');
    assert.equal(first['trades'], seen1);
    const h1 = await stored(sid);
    assert.equal(h1?.version, 1);

    // The newer trades "happen": the second run resumes per symbol, re-reading only the last day.
    sim.hideTradesAfter(A.apiKey, null);
    const before2 = served();
    const second = await run(sid, window());
    const ranAt = Date.parse(first['history_to'] as string);
    const expected = all.filter((x) => x.time > cut || x.time >= ranAt - DAY).length;
    assert.equal(served() - before2, expected, 'only new rows and the 24 h overlap');
    assert.ok(expected < all.length / 2, 'far fewer rows than a full download');
    assert.equal((await stored(sid))?.version, 2);

    // A fresh session (no history) downloads everything: the same result.
    const fresh = await newSession(A);
    const before3 = served();
    fullResult = await run(fresh, window());
    assert.equal(served() - before3, all.length);
    assert.deepEqual(pick(second), pick(fullResult));
    assert.equal(second['trades'], all.length);
    // Binance spot keeps everything: the stored history claims no more than the exchange does.
    assert.equal(second['history_from'], fullResult['history_from']);
  });

  it('stores ciphertext only: no JSON, no trade id, price or symbol of the account in it', async () => {
    const h = (await stored(sid))!;
    const bytes = Buffer.from(h.ciphertext, 'base64');
    assert.equal(bytes[0], 1, 'format byte');
    assert.throws(() => JSON.parse(bytes.toString('utf8')));
    const text = bytes.toString('latin1');
    const sample = truth().slice(-20);
    for (const x of sample) {
      assert.ok(!text.includes(`"${x.id}"`) && !text.includes(x.price), 'row leaked');
    }
    assert.ok(!text.includes('BTC/USDT') && !text.includes('"fills"'));
  });

  it('a tampered blob is refused (ERR_HISTORY_UNSEAL) and the enclave downloads in full', async () => {
    const h = (await stored(sid))!;
    const raw = Buffer.from(h.ciphertext, 'base64');
    raw[raw.length - 1] = raw[raw.length - 1]! ^ 1;
    await t.db.db.query('UPDATE session_history SET ciphertext = $2 WHERE session_id = $1', [
      sid,
      raw.toString('base64'),
    ]);
    const b = served();
    const p = await run(sid, window());
    assert.equal(served() - b, truth().length, 'full download');
    assert.deepEqual(pick(p), pick(fullResult));
    assert.ok(
      t.enclave.logs.some((l) => /history_refused/.test(l) && /ERR_HISTORY_UNSEAL/.test(l)),
    );
    assert.equal((await stored(sid))?.version, 3, 'a fresh history replaces it');
  });

  it("another session's blob, or a relabelled version, does not open (bound by AAD)", async () => {
    const other = await newSession(B);
    await run(other, {
      from: '2020-01-01T00:00:00Z',
      to: new Date(Date.now()).toISOString(),
    });
    const theirs = (await stored(other))!;
    const mine = (await stored(sid))!;
    // swap: B's blob under A's session, with A's version
    await t.db.db.query('UPDATE session_history SET ciphertext = $2 WHERE session_id = $1', [
      sid,
      theirs.ciphertext,
    ]);
    const n = t.enclave.logs.length;
    let b = served();
    assert.deepEqual(pick(await run(sid, window())), pick(fullResult));
    assert.equal(served() - b, truth().length);
    assert.ok(t.enclave.logs.slice(n).some((l) => /ERR_HISTORY_UNSEAL/.test(l)));

    // relabel: A's own current blob claimed as a later version
    const cur = (await stored(sid))!;
    assert.equal(cur.version, mine.version + 1);
    await t.db.db.query('UPDATE session_history SET version = version + 5 WHERE session_id = $1', [
      sid,
    ]);
    const m = t.enclave.logs.length;
    b = served();
    await run(sid, window());
    assert.equal(served() - b, truth().length);
    assert.ok(t.enclave.logs.slice(m).some((l) => /ERR_HISTORY_UNSEAL/.test(l)));
  });

  it('a rolled-back blob (an older version this enclave superseded) is refused: ERR_HISTORY_ROLLBACK', async () => {
    const old = (await stored(sid))!;
    await run(sid, window());
    assert.equal((await stored(sid))!.version, old.version + 1);
    await t.db.db.query(
      'UPDATE session_history SET version = $2, ciphertext = $3 WHERE session_id = $1',
      [sid, old.version, old.ciphertext],
    );
    const m = t.enclave.logs.length;
    const b = served();
    assert.deepEqual(pick(await run(sid, window())), pick(fullResult));
    assert.equal(served() - b, truth().length);
    assert.ok(t.enclave.logs.slice(m).some((l) => /ERR_HISTORY_ROLLBACK/.test(l)));
  });

  it('revoke deletes the stored history in the revoke transaction', async () => {
    assert.ok(await stored(sid));
    const res = await t.app.inject({
      method: 'POST',
      url: '/enclave/revoke',
      payload: { session_id: sid },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(await stored(sid), null);
  });

  it('the TTL purge deletes the history of an expired session', async () => {
    const s = await newSession(A);
    await run(s, window());
    assert.ok(await stored(s));
    await t.db.db.query(
      "UPDATE sessions SET expires_at = now() - interval '1 second', created_at = now() - interval '1 hour' WHERE session_id = $1",
      [s],
    );
    await t.db.db.query(
      "UPDATE credentials SET expires_at = now() - interval '1 second' WHERE session_id = $1",
      [s],
    );
    assert.ok((await t.db.store.purgeExpired(100)) >= 1);
    assert.equal(await stored(s), null);
  });
});
