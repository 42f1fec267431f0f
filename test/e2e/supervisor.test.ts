/**
 * The host supervises the enclave: kill -9 the enclave process, and the host restarts it; the
 * restarted enclave reloads the sealed key ring, so a session submitted before the crash still works.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CryptoHelper } from '../../src/client/crypto-helper.js';
import { nodePlatform } from '../../src/platform/node.js';
import { openTestDb, type TestDb } from '../helpers/db.js';
import { freePort, startProcess, startSimProcess, type Proc } from '../helpers/processes.js';

function enclaveChildPid(hostPid: number): number | null {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(hostPid)], {
    encoding: 'utf8',
  });
  const line = out.split('\n').find((l) => l.includes('enclave/main.js'));
  return line ? Number(line.trim().split(/\s+/)[0]) : null;
}

async function until<T>(fn: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('enclave supervision', { timeout: 120_000 }, () => {
  let sim: Proc & { url: string };
  let host: Proc;
  let testDb: TestDb | null = null;
  let base: string;

  before(async () => {
    sim = await startSimProcess();
    const port = await freePort();
    const env: Record<string, string> = {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'pa-sup-')),
      ENCLAVE_PORT: String(port),
      EXCHANGE_BASE_URL_BINANCE: sim.url,
      LOG_LEVEL: 'info',
    };
    if (process.env['DATABASE_URL']) {
      testDb = await openTestDb();
      env['DATABASE_URL'] = testDb.databaseUrl!;
    }
    host = await startProcess(['dist/api/main.js'], env, /"event":"enclave_ready"/);
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await host?.stop();
    await sim?.stop();
    await testDb?.close();
  });

  it('restarts a killed enclave, which answers with the same keys and opens earlier sessions', async () => {
    const api = CryptoHelper.connect(base);
    const before = await api.quote();
    const sealed = CryptoHelper.encryptCredentials(
      { exchange: 'binance', apiKey: 'demo-binance-key', apiSecret: 'demo-binance-secret' },
      before.enclave_pubkey,
      nodePlatform,
    );
    const { session_id } = await api.submitKey(sealed, {
      exchange: 'binance',
      label: 'before-crash',
      ttl: 600,
    });

    const pid = enclaveChildPid(host.proc.pid!);
    assert.ok(pid, 'the host runs an enclave child process');
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();

    const newPid = await until(async () => {
      const p = enclaveChildPid(host.proc.pid!);
      return p !== null && p !== pid ? p : null;
    }, 10_000);
    const after = await until(async () => api.quote(), 10_000);
    assert.ok(Date.now() - killedAt < 5_000, 'service returns within 5 s');
    assert.notEqual(newPid, pid);
    assert.equal(after.enclave_pubkey, before.enclave_pubkey);
    assert.equal(after.signing_pubkey, before.signing_pubkey);
    assert.equal(after.image_hash, before.image_hash);
    const res = await api.requestAggregates(session_id);
    assert.equal(
      CryptoHelper.verifySignedAggregates(res.aggregates_signed, after.signing_pubkey),
      true,
    );
    assert.ok(host.lines.some((l) => l.includes('"event":"enclave_exit"')));
  });
});
