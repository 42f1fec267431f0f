/**
 * The host process with DATABASE_SECRET_ARN: it reads its database credentials from (a local fake
 * of) Secrets Manager, migrates and serves; the database password is rotated mid-test on a private
 * SCRAM PostgreSQL and its connections are cut; the host recovers without a restart, and a fresh
 * host starts with the new version. No password is in its environment or config.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  startFakeSecretsManager,
  type FakeSecretsManager,
} from '../helpers/fake-secrets-manager.js';
import { startScramCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { freePort, startProcess, type Proc } from '../helpers/processes.js';

const REGION = 'eu-west-1';

describe('host with database credentials from Secrets Manager', { timeout: 90_000 }, () => {
  let cluster: PgCluster | null;
  let sm: FakeSecretsManager;
  let admin: pg.Client;
  let host: Proc | null = null;
  let env: Record<string, string>;
  let base: string;
  const secret = (password: string) =>
    JSON.stringify({
      engine: 'postgres',
      host: '127.0.0.1',
      port: cluster!.port,
      username: 'postgres',
      password,
      dbname: 'perf',
    });
  const health = async () =>
    (await (await fetch(`${base}/healthz`)).json()) as {
      status: string;
      db: string;
      enclave: string;
    };

  before(async () => {
    cluster = await startScramCluster();
    if (!cluster) return;
    sm = await startFakeSecretsManager({ region: REGION, name: 'perf-aggregator/db' });
    admin = new pg.Client({ connectionString: cluster.url() });
    await admin.connect();
    await admin.query('CREATE DATABASE perf');
    sm.put(secret(cluster.password));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'pa-secret-host-')),
      ENCLAVE_PORT: String(port),
      DATABASE_SECRET_ARN: sm.arn,
      SECRETS_MANAGER_ENDPOINT: sm.url,
      AWS_REGION: REGION,
      // The SDK's provider chain reads these (an instance role in production).
      AWS_ACCESS_KEY_ID: sm.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: sm.credentials.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      LOG_LEVEL: 'info',
    };
    host = await startProcess(['dist/api/main.js'], env, /"event":"enclave_ready"/);
  });
  after(async () => {
    await host?.stop();
    await admin?.end();
    await sm?.close();
    cluster?.stop();
  });

  it('serves from the secret, survives a password rotation, and restarts on the new version', async (t) => {
    if (!cluster) return t.skip('PostgreSQL server binaries are not installed');
    assert.deepEqual(await health(), { status: 'ok', db: 'up', enclave: 'up' });
    const perf = new pg.Client({ connectionString: cluster.url('perf') });
    await perf.connect();
    try {
      const { rows } = await perf.query('SELECT version FROM enclave_keyring');
      assert.equal(rows.length, 1, 'the key ring is stored in the database named by the secret');
    } finally {
      await perf.end();
    }

    const rotated = 'rotated-' + Math.random().toString(36).slice(2);
    await admin.query(`ALTER ROLE postgres PASSWORD '${rotated}'`);
    sm.put(secret(rotated));
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'perf' AND pid <> pg_backend_pid()",
    );
    await new Promise((r) => setTimeout(r, 300));
    const fetched = sm.calls.ok;
    assert.equal((await health()).db, 'up');
    assert.ok(sm.calls.ok > fetched, 'the host read the secret again');
    assert.ok(
      !host!.lines.some((l) => l.includes(rotated) || l.includes(cluster!.password)),
      'no password in the host logs',
    );

    await host!.stop();
    host = await startProcess(['dist/api/main.js'], env, /"event":"enclave_ready"/);
    assert.equal((await health()).db, 'up');
  });
});
