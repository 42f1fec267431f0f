/** `perf-aggregator attestation verify` on the genuine and invalid Nitro vectors. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { AttestationUsageError, attestationCommand } from '../../../src/cli/attestation-command.js';

const VECTORS = new URL('../../vectors/nitro/', import.meta.url);
const file = (f: string): string => new URL(f, VECTORS).pathname;
interface Doc {
  file: string;
  verify_at_ms: number;
  pcrs: Record<string, string>;
  nonce_hex: string | null;
}
const { docs } = JSON.parse(readFileSync(file('manifest.json'), 'utf8')) as { docs: Doc[] };
const TAMPERED = 'eternis_invalid.cbor';
const genuine = docs.filter((d) => d.file !== TAMPERED);
const byName = (f: string): Doc => docs.find((d) => d.file === f)!;
const isDebug = (d: Doc): boolean => /^0+$/.test(d.pcrs['0']!);
const EXPECTED_CHECKS = [
  'root_pin',
  'policy',
  'structure',
  'cose_alg',
  'root',
  'chain',
  'validity',
  'signature',
  'pcrs',
  'debug',
  'public_key',
  'user_data',
  'nonce',
  'freshness',
];

interface Verdict {
  valid: boolean;
  verified_at: string;
  checks: { name: string; ok: boolean; code?: string }[];
  trust_root: { sha256: string };
  document: { pcrs: Record<string, string>; timestamp: number; nonce: string | null } | null;
}

async function verify(args: string[]): Promise<{ code: number; v: Verdict }> {
  let v: unknown;
  const code = await attestationCommand(['verify', ...args], (x) => (v = x));
  return { code, v: v as Verdict };
}
/** The manifest lists PCR0..8; documents carry 16. */
function assertPcrs(got: Record<string, string>, want: Record<string, string>): void {
  assert.equal(Object.keys(got).length, 16);
  for (const [i, hex] of Object.entries(want)) assert.equal(got[i], hex, `PCR${i}`);
}
const failed = (v: Verdict) => v.checks.filter((c) => !c.ok).map((c) => c.code);

describe('attestation verify › genuine documents at their own timestamps', () => {
  for (const d of genuine) {
    it(`${d.file} › exit 0, every check named and passing, document decoded`, async () => {
      const args = [file(d.file), '--at', String(d.verify_at_ms)];
      if (isDebug(d)) args.push('--allow-debug');
      const { code, v } = await verify(args);
      assert.equal(code, 0, JSON.stringify(v.checks));
      assert.equal(v.valid, true);
      assert.deepEqual(
        v.checks.map((c) => c.name),
        EXPECTED_CHECKS,
      );
      assert.ok(v.checks.every((c) => c.ok));
      assertPcrs(v.document!.pcrs, d.pcrs);
      assert.equal(v.document!.timestamp, d.verify_at_ms);
      assert.equal(
        v.trust_root.sha256,
        '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b',
      );
    });
  }

  it('reads base64 as well as raw CBOR, and --at as ISO 8601 as well as ms', async () => {
    const d = byName('evervault_beta_valid.cbor');
    const dir = mkdtempSync(join(tmpdir(), 'pa-att-'));
    const b64 = join(dir, 'doc.b64');
    writeFileSync(
      b64,
      `${readFileSync(file(d.file)).toString('base64').replace(/.{76}/g, '$&\n')}\n`,
    );
    const { code, v } = await verify([b64, '--at', new Date(d.verify_at_ms).toISOString()]);
    assert.equal(code, 0);
    assertPcrs(v.document!.pcrs, d.pcrs);
  });

  it('reads the JSON of GET /attestation/quote (its "quote" field)', async () => {
    const d = byName('uid2_core_2021.cbor');
    const dir = mkdtempSync(join(tmpdir(), 'pa-att-'));
    const json = join(dir, 'quote.json');
    const quote = readFileSync(file(d.file)).toString('base64');
    writeFileSync(json, JSON.stringify({ quote, format: 'aws-nitro' }));
    const { code } = await verify([json, '--at', String(d.verify_at_ms), '--allow-debug']);
    assert.equal(code, 0);
    writeFileSync(json, JSON.stringify({ document: quote }));
    await assert.rejects(verify([json]), AttestationUsageError);
  });

  it('--expect-pcr0 and --nonce pass when equal and fail with their own codes when not', async () => {
    const d = byName('evervault_cert2023_nondebug.cbor');
    const at = ['--at', String(d.verify_at_ms)];
    assert.equal(
      (
        await verify([
          file(d.file),
          ...at,
          '--expect-pcr0',
          d.pcrs['0']!.toUpperCase(),
          '--nonce',
          d.nonce_hex!,
        ])
      ).code,
      0,
    );
    const pcr = await verify([file(d.file), ...at, '--expect-pcr0', 'ab'.repeat(48)]);
    assert.equal(pcr.code, 1);
    assert.deepEqual(failed(pcr.v), ['ERR_ATTESTATION_PCR_MISMATCH']);
    const nonce = await verify([file(d.file), ...at, '--nonce', '00']);
    assert.equal(nonce.code, 1);
    assert.deepEqual(failed(nonce.v), ['ERR_ATTESTATION_NONCE']);
  });

  it('--root with the AWS root PEM is accepted like the embedded one', async () => {
    const d = byName('base_nitro_validator_2024.cbor');
    const { code } = await verify([
      file(d.file),
      '--at',
      String(d.verify_at_ms),
      '--root',
      file('aws_nitro_root.pem'),
    ]);
    assert.equal(code, 0);
  });
});

describe('attestation verify › refusals, exit 1, each naming its check', () => {
  it('the tampered document › signature ERR_ATTESTATION_SIGNATURE', async () => {
    const d = byName(TAMPERED);
    const { code, v } = await verify([
      file(d.file),
      '--at',
      String(d.verify_at_ms),
      '--allow-debug',
    ]);
    assert.equal(code, 1);
    assert.deepEqual(failed(v), ['ERR_ATTESTATION_SIGNATURE']);
    assert.ok(v.document, 'the decoded (unauthenticated) document is still printed');
  });

  it('a genuine document at the current time › validity ERR_ATTESTATION_CERT_EXPIRED', async () => {
    const d = byName('evervault_beta_valid.cbor');
    const { code, v } = await verify([file(d.file)]);
    assert.equal(code, 1);
    assert.ok(failed(v).includes('ERR_ATTESTATION_CERT_EXPIRED'));
    assert.equal(v.checks.find((c) => c.name === 'validity')!.ok, false);
  });

  it('the look-alike root › root ERR_ATTESTATION_UNTRUSTED_ROOT', async () => {
    const d = byName('evervault_beta_valid.cbor');
    const { code, v } = await verify([
      file(d.file),
      '--at',
      String(d.verify_at_ms),
      '--root',
      file('lookalike_root_invalid.pem'),
    ]);
    assert.equal(code, 1);
    assert.deepEqual(failed(v), ['ERR_ATTESTATION_UNTRUSTED_ROOT']);
  });

  it('a debug-mode document without --allow-debug › debug ERR_ATTESTATION_DEBUG', async () => {
    const d = byName('evervault_beta_debug.cbor');
    const { code, v } = await verify([file(d.file), '--at', String(d.verify_at_ms)]);
    assert.equal(code, 1);
    assert.deepEqual(failed(v), ['ERR_ATTESTATION_DEBUG']);
  });

  it('bytes that are not a document › structure ERR_ATTESTATION_MALFORMED, document null', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pa-att-'));
    writeFileSync(join(dir, 'x.cbor'), new Uint8Array([0x84, 0x40, 0xa0, 0x40]));
    const { code, v } = await verify([join(dir, 'x.cbor')]);
    assert.equal(code, 1);
    assert.deepEqual(failed(v).filter(Boolean), ['ERR_ATTESTATION_MALFORMED']);
    assert.equal(v.document, null);
  });
});

describe('attestation verify › usage errors', () => {
  const d = byName('evervault_beta_valid.cbor');
  for (const [what, args] of [
    ['no file', []],
    ['a bad --at', [file(d.file), '--at', 'yesterday']],
    ['a short --expect-pcr0', [file(d.file), '--expect-pcr0', 'abcd']],
    ['an odd-length --nonce', [file(d.file), '--nonce', 'abc']],
    ['an unknown option', [file(d.file), '--frobnicate']],
    ['a --root that is not PEM', [file(d.file), '--root', file(d.file)]],
  ] as const) {
    it(`with ${what} › throws AttestationUsageError`, async () => {
      await assert.rejects(verify([...args]), AttestationUsageError);
    });
  }
});

describe('perf-aggregator attestation verify (the installed CLI)', () => {
  const run = promisify(execFile);
  const cli = async (args: string[]) => {
    try {
      const r = await run(process.execPath, [
        'bin/perf-aggregator.mjs',
        'attestation',
        'verify',
        ...args,
      ]);
      return { code: 0, stdout: r.stdout };
    } catch (e) {
      const err = e as { code: number; stdout: string };
      return { code: err.code, stdout: err.stdout };
    }
  };

  it('exits 0 for a valid document, 1 for an invalid one, 2 for bad usage', async () => {
    const d = byName('base_nitro_validator_2024.cbor');
    const ok = await cli([file(d.file), '--at', String(d.verify_at_ms)]);
    assert.equal(ok.code, 0);
    assert.equal((JSON.parse(ok.stdout) as Verdict).valid, true);
    const bad = await cli([file(d.file)]);
    assert.equal(bad.code, 1);
    assert.equal((JSON.parse(bad.stdout) as Verdict).valid, false);
    assert.equal((await cli(['--at', 'x'])).code, 2);
  });
});
