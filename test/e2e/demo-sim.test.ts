/**
 * `npm start` on the defaults (TEE_MODE=dev): the host starts the bundled exchange simulator, so a
 * newcomer can connect its demo account with nothing else running; EXCHANGE_SIM=false turns it off.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CryptoHelper } from '../../src/client/crypto-helper.js';
import { openTestDb, type TestDb } from '../helpers/db.js';
import { freePort, startProcess, type Proc } from '../helpers/processes.js';

async function startHost(
  extra: Record<string, string>,
  ready = /"event":"enclave_ready"/,
): Promise<{ host: Proc; url: string }> {
  const port = await freePort();
  const env: Record<string, string> = {
    DATA_DIR: join(mkdtempSync(join(tmpdir(), 'pa-demo-')), 'data'),
    ENCLAVE_PORT: String(port),
    ...extra,
  };
  // A fresh DATA_DIR means a PGlite initdb: slow on a loaded machine.
  const host = await startProcess(['dist/api/main.js'], env, ready, 120_000);
  return { host, url: `http://127.0.0.1:${port}` };
}

describe('development mode: the bundled exchange simulator', { timeout: 120_000 }, () => {
  const dbs: TestDb[] = [];
  const procs: Proc[] = [];
  // One database per host on PostgreSQL: each host's enclave has its own key ring, so two of them
  // cannot extend one log (PGlite gives each host its own DATA_DIR database anyway).
  const dbEnv = async (): Promise<Record<string, string>> => {
    if (!process.env['DATABASE_URL']) return {};
    const db = await openTestDb();
    dbs.push(db);
    return { DATABASE_URL: db.databaseUrl! };
  };
  after(async () => {
    for (const p of procs) await p.stop();
    for (const db of dbs) await db.close();
  });

  it('serves demo accounts that work end to end, with no exchange configured', async () => {
    const { host, url } = await startHost(await dbEnv());
    procs.push(host);
    const demo = (await (await fetch(`${url}/dev/demo-accounts`)).json()) as {
      exchanges: Record<string, { apiKey: string; apiSecret: string }>;
    };
    const binance = demo.exchanges['binance'];
    assert.ok(binance, JSON.stringify(demo));
    assert.equal('url' in binance, false, 'the simulator address stays internal');
    const api = CryptoHelper.connect(url);
    const q = await api.quote();
    const sealed = CryptoHelper.encryptCredentials(
      { exchange: 'binance', apiKey: binance.apiKey, apiSecret: binance.apiSecret },
      q.enclave_pubkey,
    );
    const { session_id } = await api.submitKey(sealed, {
      exchange: 'binance',
      label: 'demo',
      ttl: 3600,
    });
    const res = await api.requestAggregates(session_id);
    assert.equal(
      CryptoHelper.verifySignedAggregates(res.aggregates_signed, q.signing_pubkey),
      true,
    );
    assert.ok((res.aggregates_signed.payload['trades'] as number) > 0);
  });

  it('serves a Coinbase demo key (EC private key) that works end to end, pasted on one line', async () => {
    const { host, url } = await startHost(await dbEnv());
    procs.push(host);
    const demo = (await (await fetch(`${url}/dev/demo-accounts`)).json()) as {
      exchanges: Record<string, { apiKey: string; apiSecret: string }>;
    };
    const coinbase = demo.exchanges['coinbase'];
    assert.ok(coinbase, JSON.stringify(Object.keys(demo.exchanges)));
    assert.match(coinbase.apiSecret, /^-----BEGIN EC PRIVATE KEY-----/);
    const api = CryptoHelper.connect(url);
    const q = await api.quote();
    // an <input> drops line breaks: the enclave rebuilds the PEM
    const sealed = CryptoHelper.encryptCredentials(
      {
        exchange: 'coinbase',
        apiKey: coinbase.apiKey,
        apiSecret: coinbase.apiSecret.replace(/\n/g, ''),
      },
      q.enclave_pubkey,
    );
    const { session_id } = await api.submitKey(sealed, {
      exchange: 'coinbase',
      label: 'demo',
      ttl: 3600,
    });
    const res = await api.requestAggregates(session_id);
    assert.equal(
      CryptoHelper.verifySignedAggregates(res.aggregates_signed, q.signing_pubkey),
      true,
    );
    assert.ok((res.aggregates_signed.payload['trades'] as number) >= 2000);
  });

  it('EXCHANGE_SIM=false starts none and serves no demo accounts', async () => {
    const { host, url } = await startHost(
      { ...(await dbEnv()), EXCHANGE_SIM: 'false' },
      /Server listening/,
    );
    procs.push(host);
    const res = await fetch(`${url}/dev/demo-accounts`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
  });

  it('starts as quietly as LOG_LEVEL=warn asks: readiness does not hang on an info line', async () => {
    // The key service's and the enclave's ready lines are written whatever the level.
    const { host, url } = await startHost(
      { ...(await dbEnv()), LOG_LEVEL: 'warn' },
      /"event":"keyservice_listening"/,
    );
    procs.push(host);
    let status = 0;
    for (let i = 0; i < 300 && status !== 200; i++) {
      status = await fetch(`${url}/healthz`).then(
        (r) => r.status,
        () => 0,
      );
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200);
    assert.ok(!host.lines.some((l) => l.includes('"level":30,') && l.includes('"svc":"host"')));
  });

  it('no child (simulator, key service, enclave) outlives a host killed with SIGKILL', async () => {
    const { host } = await startHost(await dbEnv(), /"event":"enclave_ready"/);
    const kids = childrenOf(host.proc.pid!);
    for (const bundle of ['dist/sim/main.js', 'dist/keyservice/main.js', 'dist/enclave/main.js'])
      assert.ok(
        kids.some((c) => c.cmd.includes(bundle)),
        `the host started ${bundle}: ${JSON.stringify(kids)}`,
      );
    host.proc.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && kids.some((c) => alive(c.pid)))
      await new Promise((r) => setTimeout(r, 100));
    const left = kids.filter((c) => alive(c.pid));
    for (const c of left) process.kill(c.pid, 'SIGKILL');
    assert.deepEqual(left, [], 'their stdin lifelines closed with the host');
  });
});

/** Direct children of `pid`, from /proc. */
function childrenOf(pid: number): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid) continue;
      out.push({ pid: Number(d), cmd: readFileSync(`/proc/${d}/cmdline`, 'utf8') });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    // A zombie (exited, not yet reaped) counts as gone.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
