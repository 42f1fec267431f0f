/**
 * The whole flow with real processes over real sockets: simulator, enclave, host (dist bundles),
 * and a client using the SDK. A unique canary secret goes through submit → aggregates → revoke;
 * afterwards it must appear in none of: database files (or pg_dump), log lines of host and enclave,
 * frames between host and enclave, and host process memory. Each search has a positive control
 * (something that must be found), so a broken search cannot pass silently.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CryptoHelper } from '../../src/client/crypto-helper.js';
import { nodePlatform } from '../../src/platform/node.js';
import { openTestDb, type TestDb } from '../helpers/db.js';
import { startEnclaveProcess, type EnclaveProcess } from '../helpers/enclave-process.js';
import {
  freePort,
  memoryContains,
  readProcessMemory,
  startProcess,
  startSimProcess,
  type Proc,
} from '../helpers/processes.js';

const CANARY_SECRET = `canary-secret-${randomBytes(12).toString('hex')}`;
const CANARY_KEY = `canary-key-${randomBytes(12).toString('hex')}`;

function filesUnder(dir: string): Buffer {
  const parts: Buffer[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) parts.push(readFileSync(p));
    }
  };
  walk(dir);
  return Buffer.concat(parts);
}

describe(
  'canary: a secret pushed through the whole flow is never outside the enclave',
  { timeout: 180_000 },
  () => {
    let sim: Proc & { url: string };
    let enclave: EnclaveProcess;
    let host: Proc;
    let testDb: TestDb | null = null;
    let proxy: net.Server;
    const frames: Buffer[] = [];
    let dataDir: string;
    let base: string;
    let hostEnv: Record<string, string>;

    before(async () => {
      sim = await startSimProcess();
      const reg = await fetch(`${sim.url}/__sim/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ apiKey: CANARY_KEY, apiSecret: CANARY_SECRET, fills: 60, uid: 777 }),
      });
      assert.equal(reg.status, 201);

      dataDir = mkdtempSync(join(tmpdir(), 'pa-e2e-'));
      const sockDir = mkdtempSync(join(tmpdir(), 'pa-e2e-sock-'));
      enclave = await startEnclaveProcess({
        dataDir,
        socketPath: join(sockDir, 'enclave.sock'),
        env: { EXCHANGE_BASE_URL_BINANCE: sim.url, LOG_LEVEL: 'debug' },
      });

      // A recording proxy between host and enclave: what crosses the boundary, byte for byte.
      const tap = join(sockDir, 'tap.sock');
      proxy = net.createServer((downstream) => {
        const upstream = net.createConnection(enclave.socketPath);
        downstream.on('data', (c) => frames.push(Buffer.from(c)));
        upstream.on('data', (c) => frames.push(Buffer.from(c)));
        downstream.pipe(upstream).pipe(downstream);
        downstream.on('error', () => upstream.destroy());
        upstream.on('error', () => downstream.destroy());
      });
      await new Promise<void>((ok) => proxy.listen(tap, ok));

      const env: Record<string, string> = {
        DATA_DIR: dataDir,
        ENCLAVE_SPAWN: 'false',
        ENCLAVE_SOCKET: tap,
        // The key service the test started beside the enclave (same DATA_DIR).
        KEYSERVICE_URL: enclave.keyService.url,
        LOG_LEVEL: 'debug',
        ENCLAVE_PORT: String(await freePort()),
      };
      if (process.env['DATABASE_URL']) {
        testDb = await openTestDb();
        env['DATABASE_URL'] = testDb.databaseUrl!;
      }
      hostEnv = env;
      host = await startProcess(
        ['dist/api/main.js'],
        env,
        /Server listening at (http:\/\/[\d.:]+)/,
      );
      base = `http://127.0.0.1:${env['ENCLAVE_PORT']}`;
    });

    after(async () => {
      await host?.stop();
      proxy?.close();
      await enclave?.stop();
      await sim?.stop();
      await testDb?.close();
    });

    it('runs the client flow, then finds the canary nowhere outside the enclave', async () => {
      const api = CryptoHelper.connect(base);
      const nonce = randomBytes(32).toString('base64');
      const attestation = await api.quote(nonce);
      const verdict = await CryptoHelper.verifyAttestation(attestation, attestation.image_hash, {
        trustedRoots: [await api.devRoot()],
        nonce,
      });
      assert.equal(verdict.valid, true, JSON.stringify(verdict.checks));

      const sealed = CryptoHelper.encryptCredentials(
        { exchange: 'binance', apiKey: CANARY_KEY, apiSecret: CANARY_SECRET },
        attestation.enclave_pubkey,
        nodePlatform,
      );
      const { session_id } = await api.submitKey(sealed, {
        exchange: 'binance',
        label: 'canary',
        ttl: 600,
      });
      const result = await api.requestAggregates(session_id);
      assert.equal(
        CryptoHelper.verifySignedAggregates(result.aggregates_signed, attestation.signing_pubkey),
        true,
      );
      const truth = (await (
        await fetch(`${sim.url}/__sim/truth?apiKey=${CANARY_KEY}`)
      ).json()) as unknown[];
      assert.ok(truth.length > 0);
      assert.equal(result.aggregates_signed.payload['trades'], truth.length);

      const memory = await readProcessMemory(host.proc.pid!);
      assert.equal(
        memoryContains(memory, session_id),
        true,
        'control: the session id is in host memory',
      );
      assert.equal(memoryContains(memory, CANARY_SECRET), false, 'canary secret in host memory');
      assert.equal(memoryContains(memory, CANARY_KEY), false, 'canary api key in host memory');

      assert.deepEqual(await api.revoke(session_id), {
        success: true,
        message: 'Session revoked and data purged',
      });
      await assert.rejects(api.requestAggregates(session_id), {
        code: 'SESSION_REVOKED',
        status: 410,
      });

      const wire = Buffer.concat(frames).toString('latin1');
      assert.ok(wire.includes(sealed.ciphertext), 'control: the tap saw the envelope');
      assert.ok(
        !wire.includes(CANARY_SECRET) && !wire.includes(CANARY_KEY),
        'canary in host↔enclave frames',
      );

      await host.stop();
      const logs = [...host.lines, ...enclave.logs].join('\n');
      assert.ok(
        logs.includes('session_created') || logs.includes('Server listening'),
        'control: logs were captured',
      );
      assert.ok(!logs.includes(CANARY_SECRET) && !logs.includes(CANARY_KEY), 'canary in logs');

      if (testDb) {
        const dump = await testDb.dumpText();
        assert.ok(dump.includes(session_id), 'control: the dump holds the session tombstone');
        assert.ok(!dump.includes(CANARY_SECRET) && !dump.includes(CANARY_KEY), 'canary in pg_dump');
      } else {
        const files = filesUnder(dataDir);
        assert.ok(
          memoryContains([files], session_id),
          'control: the data dir holds the session tombstone',
        );
        assert.equal(
          memoryContains([files], CANARY_SECRET) || memoryContains([files], CANARY_KEY),
          false,
          'canary in the data dir',
        );
      }
    });

    it('the quick-start example script works as written against the running service', async () => {
      // A fresh host process (the first test stopped its own).
      await host.stop();
      host = await startProcess(['dist/api/main.js'], hostEnv, /Server listening at/);
      // Asynchronously: the tap proxy and the pipes of the host's logs live in this process's event loop.
      const { stdout: out } = await promisify(execFile)(
        process.execPath,
        ['node_modules/tsx/dist/cli.mjs', 'examples/quickstart.mjs'],
        {
          env: {
            PATH: process.env['PATH'] ?? '',
            PERF_URL: base,
            PERF_API_KEY: CANARY_KEY,
            PERF_API_SECRET: CANARY_SECRET,
          },
          encoding: 'utf8',
        },
      );
      const parsed = JSON.parse(out) as {
        signature_valid: boolean;
        aggregates_signed: { payload: { trades: number } };
      };
      assert.equal(parsed.signature_valid, true);
      assert.ok(parsed.aggregates_signed.payload.trades > 0);
    });
  },
);
