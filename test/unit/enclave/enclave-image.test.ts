/** The enclave image inputs are reproducible, and the build refuses to guess when it cannot run. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { dependencyClosure, manifestFrom, measure } from '../../../scripts/enclave-image.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const saved = process.env['SOURCE_DATE_EPOCH'];
after(() => {
  if (saved === undefined) delete process.env['SOURCE_DATE_EPOCH'];
  else process.env['SOURCE_DATE_EPOCH'] = saved;
});

describe('enclave:measure', { timeout: 120_000 }, () => {
  it('two builds give the same bundle and context hashes; SOURCE_DATE_EPOCH is honoured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pa-measure-'));
    process.env['SOURCE_DATE_EPOCH'] = '1700000000';
    const a = await measure(join(dir, 'a'));
    const b = await measure(join(dir, 'b'));
    assert.match(a.bundle.sha384, /^[0-9a-f]{96}$/);
    assert.equal(a.bundle.sha384, b.bundle.sha384);
    assert.equal(a.context.sha384, b.context.sha384);
    assert.ok(a.context.packages.includes('node_modules/ccxt'));
    process.env['SOURCE_DATE_EPOCH'] = '1700000001';
    const c = await measure(join(dir, 'c'));
    assert.equal(c.source_date_epoch, 1700000001);
    assert.equal(c.bundle.sha384, a.bundle.sha384, 'the bundle has no timestamps');
    assert.notEqual(c.context.sha384, a.context.sha384, 'tar mtimes follow SOURCE_DATE_EPOCH');
  });
});

describe('dependencyClosure', () => {
  const lock = {
    '': {},
    'node_modules/a': { dependencies: { b: '1', c: '1' } },
    'node_modules/a/node_modules/b': { dependencies: { c: '1' } },
    'node_modules/b': {},
    'node_modules/c': {},
    'node_modules/unused': {},
  };
  it('resolves nested copies first, then walks up, like Node', () => {
    assert.deepEqual(dependencyClosure(lock, 'a'), [
      'node_modules/a',
      'node_modules/a/node_modules/b',
      'node_modules/c',
    ]);
  });
  it('throws when a dependency is missing from the lockfile', () => {
    assert.throws(() => dependencyClosure({ 'node_modules/a': { dependencies: { z: '1' } } }, 'a'));
  });
});

describe('manifestFrom (nitro-cli build-enclave output)', () => {
  const pcr = (c: string) => c.repeat(96);
  const output = (m: Record<string, unknown>) => JSON.stringify({ Measurements: m });
  const opts = {
    image: 'img:1',
    builtAt: new Date(0),
    contextSha384: 'ab'.repeat(48),
    kmsKeyId: 'arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-4333-8444-555555555555',
    kmsRegion: 'eu-central-1',
  };

  it('writes the manifest (PCRs, context hash, baked-in KMS key) from the measurements', () => {
    const m = manifestFrom(
      output({ HashAlgorithm: 'Sha384 { ... }', PCR0: pcr('a'), PCR1: pcr('b'), PCR2: pcr('c') }),
      opts,
    );
    assert.deepEqual(m, {
      version: 1,
      image: 'img:1',
      pcr0: pcr('a'),
      pcr1: pcr('b'),
      pcr2: pcr('c'),
      built_at: '1970-01-01T00:00:00.000Z',
      context_sha384: 'ab'.repeat(48),
      kms_key_id: opts.kmsKeyId,
      kms_region: 'eu-central-1',
    });
  });

  for (const [what, m] of [
    [
      'all-zero PCR0 (debug)',
      { HashAlgorithm: 'Sha384 { ... }', PCR0: pcr('0'), PCR1: pcr('b'), PCR2: pcr('c') },
    ],
    ['a missing PCR2', { HashAlgorithm: 'Sha384 { ... }', PCR0: pcr('a'), PCR1: pcr('b') }],
    [
      'a short PCR1',
      { HashAlgorithm: 'Sha384 { ... }', PCR0: pcr('a'), PCR1: 'ab', PCR2: pcr('c') },
    ],
    ['another hash', { HashAlgorithm: 'Sha256', PCR0: pcr('a'), PCR1: pcr('b'), PCR2: pcr('c') }],
  ] as const) {
    it(`refuses ${what}`, () => assert.throws(() => manifestFrom(output(m), opts)));
  }
});

describe('enclave:build', { timeout: 120_000 }, () => {
  it('without Docker and nitro-cli › exits 1 naming both, after preparing the context', () => {
    const out = mkdtempSync(join(tmpdir(), 'pa-build-'));
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/enclave-image.ts',
        'build',
        '--kms-key-id',
        'arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-4333-8444-555555555555',
        '--out',
        out,
      ],
      { cwd: ROOT, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', SOURCE_DATE_EPOCH: '1' } },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /enclave:build cannot run here: missing .*Docker.* and nitro-cli/);
    assert.match(r.stderr, /context\.tar \(SHA-384 [0-9a-f]{96}\)/);
  });
  it('refuses to build without the key-ring key ARN (it is baked into the image)', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/enclave-image.ts', 'build', '--kms-key-id', 'alias/keyring'],
      { cwd: ROOT, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--kms-key-id must be the key-ring key ARN/);
  });
});
