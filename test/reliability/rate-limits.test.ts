/**
 * Rate limits are keyed on the client address as TRUST_PROXY defines it (docs/reliability.md):
 * a spoofed X-Forwarded-For cannot buy a fresh budget, only the listed proxies' header is believed,
 * and with REDIS_URL every host instance counts against one shared limit.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { call, startStack, type Stack } from './harness.js';

const MAX = 5;
const unknownSession = 'C'.repeat(43);

/** One cheap request that needs no enclave call: revoking an unknown session (404). */
function hit(t: TestApp, remoteAddress: string, xff?: string) {
  return t.app.inject({
    method: 'POST',
    url: '/enclave/revoke',
    payload: { session_id: unknownSession },
    remoteAddress,
    ...(xff !== undefined && { headers: { 'x-forwarded-for': xff } }),
  });
}

async function statuses(n: number, send: (i: number) => ReturnType<typeof hit>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send(i)).statusCode);
  return out;
}

const limited = (codes: number[]) => codes.filter((c) => c === 429).length;

describe('rate limits: TRUST_PROXY', () => {
  let direct: TestApp;
  let proxied: TestApp;
  before(async () => {
    [direct, proxied] = await Promise.all([
      startTestApp({ config: { RATE_LIMIT_MAX: MAX, TRUST_PROXY: false } }),
      startTestApp({
        config: { RATE_LIMIT_MAX: MAX, TRUST_PROXY: ['10.0.0.1', '192.168.7.0/24'] },
      }),
    ]);
  });
  after(async () => {
    await direct?.close();
    await proxied?.close();
  });

  it('TRUST_PROXY=false: a fresh X-Forwarded-For per request does not evade the limit', async () => {
    const codes = await statuses(MAX + 5, (i) => hit(direct, '203.0.113.9', `198.51.100.${i}`));
    assert.equal(limited(codes), 5, codes.join(','));
  });

  it('a listed proxy (address or CIDR) is believed: each client behind it has its own budget', async () => {
    for (const [n, proxy] of ['10.0.0.1', '192.168.7.42'].entries()) {
      const a = await statuses(MAX + 1, () => hit(proxied, proxy, `198.51.100.${10 + n}`));
      assert.equal(limited(a), 1, `${proxy}: the client is limited after ${MAX}`);
      const b = await statuses(MAX, () => hit(proxied, proxy, `198.51.100.${20 + n}`));
      assert.equal(limited(b), 0, `${proxy}: another client behind it is not`);
    }
  });

  it('an unlisted peer is its own client, whatever header it sends', async () => {
    const codes = await statuses(MAX + 5, (i) => hit(proxied, '10.0.0.2', `198.51.100.${100 + i}`));
    assert.equal(limited(codes), 5);
  });

  it('a client cannot evade by prepending spoofed hops: the nearest untrusted hop is the key', async () => {
    // The proxy appends the real client (203.0.113.50) to whatever the client sent.
    const codes = await statuses(MAX + 5, (i) =>
      hit(proxied, '10.0.0.1', `192.0.2.${i}, 203.0.113.50`),
    );
    assert.equal(limited(codes), 5);
  });
});

describe('rate limits shared through Redis (REDIS_URL)', () => {
  const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  let redis: Redis | null = null;
  const apps: TestApp[] = [];
  const clients: Redis[] = [];
  const nameSpace = `pa-rl-test-${randomBytes(6).toString('hex')}:`;
  const LIMIT = 200;

  before(async () => {
    const r = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
    try {
      await r.connect();
      await r.ping();
      redis = r;
    } catch {
      r.disconnect();
      return;
    }
    // each instance with its own connection, as two host processes would have
    for (let i = 0; i < 2; i++) {
      const client = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
      await new Promise((ok) => client.once('ready', ok));
      clients.push(client);
      apps.push(
        await startTestApp({
          config: { RATE_LIMIT_MAX: LIMIT, RATE_LIMIT_WINDOW: 60_000 },
          extra: { rateLimitRedis: { client, nameSpace } },
        }),
      );
    }
  });
  after(async () => {
    for (const a of apps) await a.close();
    for (const c of clients) c.disconnect();
    if (redis) {
      const keys = await redis.keys(`${nameSpace}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it('two host instances hold one limit within 5 %', async (t) => {
    if (!redis) return t.skip(`no Redis at ${url}`);
    const total = 3 * LIMIT;
    const codes: number[] = [];
    // round-robin over both instances, 20 requests in flight at a time
    for (let i = 0; i < total; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, (_, j) => hit(apps[(i + j) % 2]!, '198.51.100.200')),
      );
      codes.push(...batch.map((r) => r.statusCode));
    }
    const passed = codes.filter((c) => c !== 429).length;
    assert.ok(Math.abs(passed - LIMIT) <= LIMIT * 0.05, `${passed} passed, limit ${LIMIT}`);
    for (const i of [0, 1]) {
      const served = codes.filter((c, k) => k % 2 === i && c !== 429).length;
      assert.ok(served > 0, `instance ${i} served some`);
    }
    process.stdout.write(
      `# shared limit: ${passed} of ${total} passed across 2 instances (limit ${LIMIT})\n`,
    );
  });
});

describe('rate limits when Redis is unreachable', () => {
  let t: TestApp;
  let dead: Redis;
  before(async () => {
    // nothing listens on port 1; no offline queue, so each command fails at once
    dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    t = await startTestApp({
      config: { RATE_LIMIT_MAX: 2 },
      extra: { rateLimitRedis: { client: dead, nameSpace: 'pa-rl-dead:' } },
    });
  });
  after(async () => {
    await t?.close();
    dead?.disconnect();
  });

  it('fails open: requests are served (not 500) while the shared store is down', async () => {
    const codes = await statuses(5, () => hit(t, '198.51.100.9'));
    assert.deepEqual(codes, [404, 404, 404, 404, 404]);
  });
});

describe('rate limits shared by two host processes (REDIS_URL)', { timeout: 120_000 }, () => {
  const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const prefix = `pa-rl-proc-${randomBytes(6).toString('hex')}:`;
  const LIMIT = 40;
  let up = false;
  const stacks: Stack[] = [];
  before(async () => {
    const r = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
    up = await r.connect().then(
      () => true,
      () => false,
    );
    r.disconnect();
    if (!up) return;
    for (let i = 0; i < 2; i++)
      stacks.push(
        await startStack({
          REDIS_URL: url,
          REDIS_KEY_PREFIX: prefix,
          RATE_LIMIT_MAX: String(LIMIT),
          RATE_LIMIT_WINDOW: '60000',
        }),
      );
  });
  after(async () => {
    for (const s of stacks) await s.close();
    if (up) {
      const r = new Redis(url);
      const keys = await r.keys(`${prefix}*`);
      if (keys.length > 0) await r.del(...keys);
      r.disconnect();
    }
  });

  it('the real hosts (dist/api/main.js) hold one limit between them', async (t) => {
    if (!up) return t.skip(`no Redis at ${url}`);
    const codes: number[] = [];
    for (let i = 0; i < 3 * LIMIT; i++) {
      const r = await call(stacks[i % 2]!.base, 'POST', '/enclave/revoke', {
        session_id: unknownSession,
      });
      codes.push(r.status);
    }
    const passed = codes.filter((c) => c !== 429).length;
    assert.ok(Math.abs(passed - LIMIT) <= LIMIT * 0.05, `${passed} passed, limit ${LIMIT}`);
    assert.ok(
      codes.slice(LIMIT).every((c) => c === 429),
      'both hosts refuse once the shared limit is used',
    );
    process.stdout.write(
      `# shared limit, two host processes: ${passed} of ${codes.length} passed (limit ${LIMIT})\n`,
    );
  });
});
