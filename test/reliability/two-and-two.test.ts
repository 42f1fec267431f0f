/**
 * Scale-out: two host processes and two enclave processes on one PostgreSQL and one Redis, behind
 * a round-robin in this test. The second instance is a peer of the first (same database, dev
 * attestation root and key service), so both enclaves load the one key ring stored in the
 * database: a session submitted through one pair is aggregated through the other, and both sign
 * with the same key. Log appends from both stay one tree (consistency proofs pass between every
 * pair of checkpoints taken in turn from either host), and the rate limit shared through Redis
 * holds within 5 %. Runs only on the real PostgreSQL (DATABASE_URL) with Redis up.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { CryptoHelper } from '../../src/client/crypto-helper.js';
import { startSimProcess, type Proc } from '../helpers/processes.js';
import {
  addSimAccount,
  assertConsistent,
  call,
  checkIntegrity,
  quote,
  SCALE,
  sealFor,
  signedHead,
  SMALL,
  startStack,
  type Head,
  type Stack,
} from './harness.js';

const CREDS = { exchange: 'binance', apiKey: SMALL.apiKey, apiSecret: SMALL.apiSecret };
const META = { exchange: 'binance', label: 'two-and-two', ttl: 3600 };
/** the shared limit; the flow's requests (≈ 17 a round, from 127.0.0.1) stay under it */
const LIMIT = 80 * SCALE;
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

async function redisUp(): Promise<boolean> {
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const up = await r.connect().then(
    () => true,
    () => false,
  );
  r.disconnect();
  return up;
}

describe(
  'scale-out: two hosts and two enclaves on one PostgreSQL and Redis',
  { timeout: 240_000 },
  () => {
    const prefix = `pa-2x2-${randomBytes(6).toString('hex')}:`;
    let enabled = false;
    let sim: Proc & { url: string };
    const stacks: Stack[] = [];
    before(async () => {
      enabled = Boolean(process.env['DATABASE_URL']) && (await redisUp());
      if (!enabled) return;
      sim = await startSimProcess();
      await addSimAccount(sim.url, SMALL);
      const env = {
        EXCHANGE_BASE_URL_BINANCE: sim.url,
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: prefix,
        RATE_LIMIT_MAX: String(LIMIT),
        // one window for the whole test
        RATE_LIMIT_WINDOW: '600000',
        // the limit phase speaks for clients behind a proxy on loopback
        TRUST_PROXY: 'loopback',
      };
      const first = await startStack(env);
      stacks.push(first, await startStack(env, { peerOf: first }));
    });
    after(async () => {
      for (const s of stacks.reverse()) await s.close();
      await sim?.stop();
      if (enabled) {
        const r = new Redis(redisUrl);
        const keys = await r.keys(`${prefix}*`);
        if (keys.length > 0) await r.del(...keys);
        r.disconnect();
      }
    });

    it('sessions cross instances, one key ring signs, the log stays one tree, one rate limit', async (t) => {
      if (!enabled) return t.skip('needs DATABASE_URL (PostgreSQL) and Redis');
      const [a, b] = stacks as [Stack, Stack];
      assert.notEqual(a.host.proc.pid, b.host.proc.pid);
      const qa = await quote(a.base);
      const qb = await quote(b.base);
      assert.equal(qb.enclave_pubkey, qa.enclave_pubkey, 'one key ring: the same credential key');
      assert.equal(qb.signing_pubkey, qa.signing_pubkey, 'and the same signing key');

      // Round-robin: submit through one pair, aggregate through the other, in parallel rounds so
      // appends from both hosts race; a checkpoint from each host after every round.
      const rounds = 3 * SCALE;
      const perRound = 2;
      const heads: Head[] = [await signedHead(a.base, qa.signing_pubkey)];
      for (let r = 0; r < rounds; r++) {
        await Promise.all(
          Array.from({ length: perRound }, async (_, i) => {
            const [via, other] = (r + i) % 2 === 0 ? [a, b] : [b, a];
            const sub = await call(via.base, 'POST', '/enclave/submit_key', {
              ...(await sealFor(qa.enclave_pubkey, CREDS)),
              metadata: META,
            });
            assert.equal(sub.status, 201, JSON.stringify(sub.body));
            const agg = await call(other.base, 'POST', '/enclave/request_aggregates', {
              session_id: sub.body['session_id'],
            });
            assert.equal(agg.status, 200, JSON.stringify(agg.body));
            const signed = agg.body['aggregates_signed'] as Parameters<
              typeof CryptoHelper.verifySignedAggregates
            >[0];
            assert.equal(CryptoHelper.verifySignedAggregates(signed, qb.signing_pubkey), true);
            // the log entry is readable through either host
            const log = await call(via.base, 'GET', `/api/logs/${sub.body['session_id']}`);
            assert.equal(log.status, 200, JSON.stringify(log.body));
          }),
        );
        heads.push(await signedHead(r % 2 === 0 ? b.base : a.base, qa.signing_pubkey));
        heads.push(await signedHead(r % 2 === 0 ? a.base : b.base, qa.signing_pubkey));
      }
      assert.equal(
        heads.at(-1)!.size - heads[0]!.size,
        rounds * perRound,
        'one leaf per aggregate',
      );
      for (let i = 1; i < heads.length; i++) {
        // proofs from both hosts: each serves the one tree
        await assertConsistent(i % 2 ? a.base : b.base, heads[i - 1]!, heads[i]!);
        await assertConsistent(i % 2 ? b.base : a.base, heads[0]!, heads[i]!);
      }

      // The shared limit: one client (behind the loopback proxy) alternating between the hosts.
      const codes: number[] = [];
      for (let i = 0; i < 2 * LIMIT; i++) {
        const r = await call(
          stacks[i % 2]!.base,
          'POST',
          '/enclave/revoke',
          { session_id: 'C'.repeat(43) },
          { 'x-forwarded-for': '198.51.100.77' },
        );
        codes.push(r.status);
      }
      const passed = codes.filter((c) => c !== 429).length;
      assert.ok(Math.abs(passed - LIMIT) <= LIMIT * 0.05, `${passed} passed, limit ${LIMIT}`);
      assert.ok(
        codes.slice(passed).every((c) => c === 429),
        'refused on both hosts once used',
      );

      const integrity = await a.inspect(checkIntegrity);
      assert.equal(integrity.leaves, heads.at(-1)!.size);
      process.stdout.write(
        `# two and two: ${rounds * perRound} sessions across instances, tree ${heads[0]!.size} → ${heads.at(-1)!.size}, ${heads.length} checkpoints consistent, shared limit ${passed}/${LIMIT}\n`,
      );
    });
  },
);
