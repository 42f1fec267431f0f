import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  KEY_ID_VAR,
  parseImportArgs,
  planImport,
  renderPlan,
  type ImportOptions,
} from '../../../infra/scripts/import-key-material.js';
import { hasCode } from '../../../src/common/errors.js';
import { ROOT } from '../../helpers/infra.js';

const NOW = new Date('2026-11-22T00:00:00Z');
const SCRIPT = resolve(ROOT, 'infra/scripts/import-key-material.ts');
const FAKE_AWS_DIR = resolve(ROOT, 'test/fixtures/infra/fake-aws');
const KEY = '1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9';
const base = ['--region', 'eu-central-1', '--no-escrow'];
const usage = (err: unknown) => hasCode(err, 'ERR_BYOK_USAGE');

describe('kms:import-key-material arguments', () => {
  it('accepts the minimal form', () => {
    const o = parseImportArgs(base, NOW);
    assert.equal(o.region, 'eu-central-1');
    assert.equal(o.escrowTo, null);
    assert.equal(o.dryRun, false);
  });

  const bad: [string, string[]][] = [
    ['no region', ['--no-escrow']],
    ['a malformed region', ['--region', 'eu-central', '--no-escrow']],
    ['a shell-looking profile', [...base, '--profile', 'x;rm -rf /']],
    ['a malformed key id', [...base, '--key-id', 'not-a-key']],
    [
      'a key ARN in another region',
      [...base, '--key-id', `arn:aws:kms:us-east-1:123456789012:key/${KEY}`],
    ],
    ['an alias in the reserved aws/ namespace', [...base, '--alias', 'alias/aws/rds']],
    ['an alias for an existing key', [...base, '--key-id', KEY, '--alias', 'alias/x']],
    ['an expiry in the past', [...base, '--valid-to', '2020-01-01T00:00:00Z']],
    ['no escrow decision', ['--region', 'eu-central-1']],
    ['both escrow choices', [...base, '--escrow-to', '/tmp/x']],
    ['an unknown option', [...base, '--force']],
  ];
  for (const [what, argv] of bad) {
    it(`refuses ${what}`, () => assert.throws(() => parseImportArgs(argv, NOW), usage));
  }
});

describe('kms:import-key-material plan (--dry-run)', () => {
  const opts: ImportOptions = parseImportArgs(
    [...base, '--profile', 'prod-admin', '--alias', 'alias/perf-aggregator-prod/database'],
    NOW,
  );
  const text = renderPlan(planImport(opts, '/w'));
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));

  it('prints the four BYOK steps as exact commands', () => {
    assert.deepEqual(lines, [
      `KEY_ID=$(aws kms create-key --origin EXTERNAL --key-spec SYMMETRIC_DEFAULT --key-usage ENCRYPT_DECRYPT --description 'perf-aggregator database (BYOK)' --query KeyMetadata.KeyId --output text --region eu-central-1 --profile prod-admin)`,
      'aws kms create-alias --alias-name alias/perf-aggregator-prod/database --target-key-id "$KEY_ID" --region eu-central-1 --profile prod-admin',
      'aws kms get-parameters-for-import --key-id "$KEY_ID" --wrapping-algorithm RSAES_OAEP_SHA_256 --wrapping-key-spec RSA_2048 --output json --region eu-central-1 --profile prod-admin > /w/import-parameters.json',
      'openssl rand -out /w/PlaintextKeyMaterial.bin 32',
      'openssl pkeyutl -encrypt -in /w/PlaintextKeyMaterial.bin -out /w/EncryptedKeyMaterial.bin -inkey /w/WrappingPublicKey.der -keyform DER -pubin -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256',
      'aws kms import-key-material --key-id "$KEY_ID" --encrypted-key-material fileb:///w/EncryptedKeyMaterial.bin --import-token fileb:///w/ImportToken.bin --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE --region eu-central-1 --profile prod-admin',
      'shred -u /w/PlaintextKeyMaterial.bin',
      `aws kms describe-key --key-id "$KEY_ID" --query '[KeyMetadata.KeyState,KeyMetadata.Arn]' --output text --region eu-central-1 --profile prod-admin`,
    ]);
  });

  it('skips create-key for an existing key and sets an expiry when asked', () => {
    const p = planImport(
      parseImportArgs([...base, '--key-id', KEY, '--valid-to', '2027-06-01T00:00:00Z'], NOW),
      '/w',
    );
    const out = renderPlan(p);
    assert.doesNotMatch(out, /create-key/);
    assert.doesNotMatch(out, new RegExp(KEY_ID_VAR.replace('$', '\\$')));
    assert.match(
      out,
      /--expiration-model KEY_MATERIAL_EXPIRES --valid-to 2027-06-01T00:00:00.000Z/,
    );
  });

  it('prints the plan from the command line and runs nothing', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...base, '--dry-run'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: '/nonexistent' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^KEY_ID=\$\(aws kms create-key --origin EXTERNAL/m);
  });

  it('exits 64 with the usage on a bad command line', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, '--region', 'nowhere'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 64);
    assert.match(r.stderr, /usage: npm run kms:import-key-material/);
  });
});

describe('kms:import-key-material run (real openssl, fake KMS)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'byok-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the key, wraps 32 bytes with RSA-OAEP-SHA-256, imports them and keeps the escrow copy', () => {
    const state = join(dir, 'state');
    const work = join(dir, 'work');
    const escrow = join(dir, 'escrow.bin');
    spawnSync('mkdir', ['-p', state, work]);
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        SCRIPT,
        '--region',
        'eu-central-1',
        '--escrow-to',
        escrow,
        '--workdir',
        work,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${FAKE_AWS_DIR}:${process.env.PATH}`, FAKE_AWS_STATE: state },
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const kms = JSON.parse(readFileSync(join(state, 'kms.json'), 'utf8')) as {
      keys: Record<string, { state: string; materialSha256: string }>;
    };
    const [key] = Object.values(kms.keys);
    assert.equal(key!.state, 'Enabled');
    // KMS unwrapped exactly the material the operator keeps in escrow.
    assert.equal(
      createHash('sha256').update(readFileSync(escrow)).digest('hex'),
      key!.materialSha256,
    );
    assert.equal(statSync(escrow).mode & 0o777, 0o400);
    assert.ok(!readdirSync(work).includes('PlaintextKeyMaterial.bin'), 'plaintext destroyed');
    assert.equal(statSync(work).mode & 0o777, 0o700);
    assert.match(r.stderr, /done: Enabled\tarn:aws:kms:eu-central-1:/);
  });

  it('stops at the failing step and destroys the plaintext material', () => {
    const state = join(dir, 'state2');
    const work = join(dir, 'work2');
    spawnSync('mkdir', ['-p', state, work]);
    // KMS fails the import after the material was generated.
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', SCRIPT, '--region', 'eu-central-1', '--no-escrow', '--workdir', work],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          PATH: `${FAKE_AWS_DIR}:${process.env.PATH}`,
          FAKE_AWS_STATE: state,
          FAKE_AWS_FAIL: 'import-key-material',
        },
      },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /step failed: 4\. import the wrapped material/);
    assert.ok(readdirSync(work).includes('EncryptedKeyMaterial.bin'), 'steps 1-3 ran');
    assert.ok(!readdirSync(work).includes('PlaintextKeyMaterial.bin'));
  });
});
