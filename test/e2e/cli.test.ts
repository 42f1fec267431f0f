/** The `perf-aggregator` CLI against a real host and simulator: verdicts, exit codes, files. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { CryptoHelper } from '../../src/client/crypto-helper.js';
import { openTestDb, type TestDb } from '../helpers/db.js';
import { freePort, startProcess, startSimProcess, type Proc } from '../helpers/processes.js';

const run = promisify(execFile);

async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; json: Record<string, unknown> }> {
  try {
    const { stdout } = await run(process.execPath, ['bin/perf-aggregator.mjs', ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
    });
    return { code: 0, json: JSON.parse(stdout) };
  } catch (e) {
    const err = e as { code: number; stdout: string };
    return { code: err.code, json: JSON.parse(err.stdout) };
  }
}

describe('perf-aggregator CLI', { timeout: 120_000 }, () => {
  let sim: Proc & { url: string };
  let host: Proc;
  let testDb: TestDb | null = null;
  let url: string;
  const work = mkdtempSync(join(tmpdir(), 'pa-cli-'));

  before(async () => {
    sim = await startSimProcess();
    const port = await freePort();
    const env: Record<string, string> = {
      DATA_DIR: join(work, 'data'),
      ENCLAVE_PORT: String(port),
      EXCHANGE_BASE_URL_BINANCE: sim.url,
    };
    if (process.env['DATABASE_URL']) {
      testDb = await openTestDb();
      env['DATABASE_URL'] = testDb.databaseUrl!;
    }
    host = await startProcess(['dist/api/main.js'], env, /"event":"enclave_ready"/);
    url = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await host?.stop();
    await sim?.stop();
    await testDb?.close();
  });

  it('quote: exit 0 only when the attestation verifies against a root the user chose', async () => {
    const aws = await cli(['quote', '--url', url]);
    assert.equal(aws.code, 1);
    assert.equal(aws.json['valid'], false);
    assert.deepEqual(
      (aws.json['checks'] as { name: string; code?: string }[]).find((c) => c.name === 'root')
        ?.code,
      'ERR_ATTESTATION_UNTRUSTED_ROOT',
    );
    const dev = await cli(['quote', '--url', url, '--trust-dev-root']);
    assert.equal(dev.code, 0, JSON.stringify(dev.json));
    assert.equal(dev.json['valid'], true);
    assert.equal(dev.json['image_hash_pinned'], false);
    const pinned = await cli([
      'quote',
      '--url',
      url,
      '--trust-dev-root',
      '--expect-image-hash',
      '0'.repeat(96),
    ]);
    assert.equal(pinned.code, 1);
  });

  it('submit → aggregates → revoke, with credentials from the environment only', async () => {
    const creds = { PERF_API_KEY: 'demo-binance-key', PERF_API_SECRET: 'demo-binance-secret' };
    const noCreds = await cli([
      'submit',
      '--url',
      url,
      '--trust-dev-root',
      '--exchange',
      'binance',
      '--label',
      'cli',
      '--ttl',
      '600',
    ]);
    assert.equal(noCreds.code, 1, 'no terminal and no environment: fails instead of hanging');
    const sub = await cli(
      [
        'submit',
        '--url',
        url,
        '--trust-dev-root',
        '--exchange',
        'binance',
        '--label',
        'cli',
        '--ttl',
        '600',
      ],
      creds,
    );
    assert.equal(sub.code, 0, JSON.stringify(sub.json));
    const sid = sub.json['session_id'] as string;
    assert.match(sid, /^[A-Za-z0-9_-]{43}$/);

    const out = join(work, 'result.json');
    const agg = await cli(['aggregates', sid, '--url', url, '--trust-dev-root', '--out', out]);
    assert.equal(agg.code, 0, JSON.stringify(agg.json));
    assert.equal(agg.json['signature_valid'], true);
    const saved = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(
      CryptoHelper.verifySignedAggregates(
        saved.aggregates_signed,
        saved.attestation.signing_pubkey,
      ),
      true,
    );

    // Offline verification of the saved result, and of a tampered copy.
    const rootPem = join(work, 'data', 'dev-root', 'root.pem');
    const verified = await cli(['verify', out, '--root', rootPem]);
    assert.equal(verified.code, 0, JSON.stringify(verified.json));
    assert.equal(verified.json['valid'], true);
    const tampered = join(work, 'tampered.json');
    writeFileSync(
      tampered,
      JSON.stringify({
        ...saved,
        aggregates_signed: {
          ...saved.aggregates_signed,
          payload: { ...saved.aggregates_signed.payload, pnl: 1e12 },
        },
      }),
    );
    const bad = await cli(['verify', tampered, '--root', rootPem]);
    assert.equal(bad.code, 1);
    assert.deepEqual(
      (bad.json['checks'] as { name: string; ok: boolean }[])
        .filter((c) => !c.ok)
        .map((c) => c.name),
      ['signature', 'inclusion'],
    );

    // The log commands other tools script against.
    const incl = await cli([
      'log',
      'verify-inclusion',
      '--leaf-hash',
      verified.json['leaf_hash'] as string,
      '--index',
      String(saved.leaf_index),
      '--size',
      String(saved.tree_size),
      '--root',
      saved.merkle_root,
      '--proof',
      saved.inclusion_proof.join(','),
    ]);
    assert.equal(incl.code, 0, JSON.stringify(incl.json));
    const wrongIndex = await cli([
      'log',
      'verify-inclusion',
      '--leaf-hash',
      verified.json['leaf_hash'] as string,
      '--index',
      String(saved.leaf_index + 1),
      '--size',
      String(saved.tree_size + 1),
      '--root',
      saved.merkle_root,
      '--proof',
      saved.inclusion_proof.join(','),
    ]);
    assert.equal(wrongIndex.code, 1);
    const vkey = (await cli(['log', 'vkey', '--url', url])).json['vkey'] as string;
    const cpFile = join(work, 'checkpoint.txt');
    writeFileSync(cpFile, saved.checkpoint);
    assert.equal((await cli(['log', 'verify-checkpoint', cpFile, '--vkey', vkey])).code, 0);
    const otherKey = vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+');
    assert.equal((await cli(['log', 'verify-checkpoint', cpFile, '--vkey', otherKey])).code, 1);
    const audit = await cli([
      'log',
      'consistency',
      '--from',
      '1',
      '--to',
      String(saved.tree_size),
      '--url',
      url,
    ]);
    assert.equal(audit.code, 0, JSON.stringify(audit.json));

    assert.equal((await cli(['revoke', sid, '--url', url])).code, 0);
    const again = await cli(['revoke', sid, '--url', url]);
    assert.equal(again.code, 1);
    assert.equal((again.json['error'] as { code: string }).code, 'SESSION_REVOKED');
  });
});
