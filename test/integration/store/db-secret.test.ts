/**
 * Database credentials from Secrets Manager (DATABASE_SECRET_ARN), against a local fake of its
 * HTTP API (real loopback server, SigV4 checked) and, for rotation, a private PostgreSQL cluster
 * with SCRAM passwords: the test role's password is changed mid-test, the secret gets a new
 * version, the old connections are cut, and the store recovers by re-reading the secret.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { openDb, type Db } from '../../../src/store/db.js';
import { DbSecretError, secretsManagerSource } from '../../../src/store/db-secret.js';
import { migrate } from '../../../src/store/migrate.js';
import {
  startFakeSecretsManager,
  type FakeSecretsManager,
} from '../../helpers/fake-secrets-manager.js';
import { startScramCluster, type PgCluster } from '../../helpers/pg-cluster.js';

const REGION = 'eu-west-1';

function source(sm: FakeSecretsManager, over: { secret?: string; arn?: string } = {}) {
  return secretsManagerSource({
    secretArn: over.arn ?? sm.arn,
    region: REGION,
    endpoint: sm.url,
    credentials: {
      accessKeyId: sm.credentials.accessKeyId,
      secretAccessKey: over.secret ?? sm.credentials.secretAccessKey,
    },
  });
}

const rds = (o: { password: string; port: number; username?: string; dbname?: string }) =>
  JSON.stringify({
    engine: 'postgres',
    host: '127.0.0.1',
    username: o.username ?? 'svc_login',
    dbname: o.dbname ?? 'app',
    port: o.port,
    password: o.password,
  });

describe('Secrets Manager database credentials', { timeout: 60_000 }, () => {
  let sm: FakeSecretsManager;
  before(async () => {
    sm = await startFakeSecretsManager({ region: REGION, name: 'perf-aggregator/db' });
  });
  after(() => sm?.close());

  it('reads the current version through the SDK and re-reads it on demand', async () => {
    const v1 = sm.put(rds({ password: 'first-password', port: 5432 }));
    const s = source(sm);
    const a = await s.get();
    assert.equal(a.versionId, v1);
    assert.equal(a.password, 'first-password');
    assert.equal(a.dbname, 'app');
    const calls = sm.calls.ok;
    await s.get();
    assert.equal(sm.calls.ok, calls, 'cached');
    const v2 = sm.put(rds({ password: 'second-password', port: 5432 }));
    const b = await s.get(true);
    assert.equal(b.versionId, v2);
    assert.equal(b.password, 'second-password');
  });

  it('fails with a code, never the secret, on a bad signature, an unknown secret or bad JSON', async () => {
    const codeOf = (e: unknown) => (e instanceof DbSecretError ? e.code : undefined);
    await assert.rejects(
      source(sm, { secret: 'wrong' }).get(),
      (e) => codeOf(e) === 'DB_SECRET_UNAVAILABLE',
    );
    assert.equal(sm.calls.refused.at(-1), 'InvalidSignatureException');
    await assert.rejects(
      source(sm, { arn: sm.arn.replace('perf-aggregator/db', 'other') }).get(),
      (e) => codeOf(e) === 'DB_SECRET_UNAVAILABLE',
    );
    assert.equal(sm.calls.refused.at(-1), 'ResourceNotFoundException');
    sm.put('{"username":"svc_login","password":"leak-me-not","host":"127.0.0.1","port":"x"}');
    await assert.rejects(source(sm).get(), (e) => {
      assert.equal(codeOf(e), 'DB_SECRET_INVALID');
      assert.ok(!JSON.stringify(e, Object.getOwnPropertyNames(e)).includes('leak-me-not'));
      return true;
    });
  });

  describe('rotation against a real PostgreSQL with passwords', () => {
    let cluster: PgCluster | null = null;
    let admin: pg.Client;
    let db: Db | null = null;
    before(async () => {
      cluster = await startScramCluster();
      if (!cluster) return;
      admin = new pg.Client({ connectionString: cluster.url() });
      await admin.connect();
      await admin.query('CREATE DATABASE app');
      await admin.query("CREATE ROLE svc_login LOGIN PASSWORD 'p1'");
      const owner = await openDb({ databaseUrl: cluster.url('app'), dataDir: tmpdir() });
      await migrate(owner); // creates app_service and the schema
      await owner.close();
      await admin.query('GRANT app_service TO svc_login');
    });
    after(async () => {
      await db?.close();
      await admin?.end();
      cluster?.stop();
    });

    it('recovers after the password rotates: re-reads the secret and rebuilds the pool', async (t) => {
      if (!cluster) return t.skip('PostgreSQL server binaries are not installed');
      const port = cluster.port;
      sm.put(rds({ password: 'p1', port }));
      db = await openDb({
        dataDir: mkdtempSync(join(tmpdir(), 'pa-secret-')),
        secret: { source: source(sm), refreshMs: 3_600_000 },
        role: 'app_service',
      });
      const who = async () =>
        (
          await db!.query<{ s: string; c: string }>('SELECT session_user AS s, current_user AS c')
        )[0];
      assert.deepEqual(await who(), { s: 'svc_login', c: 'app_service' });

      // Rotation as Secrets Manager's single-user rotation does it: new password, new version.
      await admin.query("ALTER ROLE svc_login PASSWORD 'p2'");
      sm.put(rds({ password: 'p2', port }));
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'svc_login'",
      );
      await new Promise((r) => setTimeout(r, 200)); // let the pool see its connections die

      // The old password is really refused now.
      const old = new pg.Client({
        host: '127.0.0.1',
        port,
        user: 'svc_login',
        password: 'p1',
        database: 'app',
      });
      await assert.rejects(old.connect(), (e) => (e as { code?: string }).code === '28P01');

      const fetched = sm.calls.ok;
      assert.deepEqual(await who(), { s: 'svc_login', c: 'app_service' });
      assert.ok(sm.calls.ok > fetched, 'the secret was read again');
      const [n] = await db.query<{ n: number }>('SELECT count(*) AS n FROM sessions');
      assert.equal(n?.n, 0, 'the store works as app_service after recovery');
    });

    it('re-reads the secret periodically', async (t) => {
      if (!cluster) return t.skip('PostgreSQL server binaries are not installed');
      const port = cluster.port;
      const periodic = await openDb({
        dataDir: tmpdir(),
        secret: { source: source(sm), refreshMs: 100 },
        role: 'app_service',
      });
      try {
        const pid = async () =>
          (await periodic.query<{ p: number }>('SELECT pg_backend_pid() AS p'))[0]!.p;
        const first = await pid();
        await admin.query("ALTER ROLE svc_login PASSWORD 'p3'");
        sm.put(rds({ password: 'p3', port }));
        const before = sm.calls.ok;
        await new Promise((r) => setTimeout(r, 500));
        assert.ok(sm.calls.ok >= before + 2, 'fetched while idle');
        // The new version built a new pool (a new backend, logged in with p3) and ended the old one.
        const second = await pid();
        assert.notEqual(second, first);
        const { rows } = await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [
          first,
        ]);
        assert.equal(rows.length, 0, 'the old pool was closed');
      } finally {
        await periodic.close();
      }
    });
  });
});
