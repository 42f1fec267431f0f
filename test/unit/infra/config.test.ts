import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import {
  STAGES,
  STAGE_CONFIGS,
  deployRoleArn,
  resolveTarget,
  validateStageConfig,
  type StageConfig,
} from '../../../infra/lib/config.js';
import {
  parseEnclaveManifest,
  readEnclaveManifest,
  resolvePcr0,
} from '../../../infra/lib/manifest.js';
import { hasCode } from '../../../src/common/errors.js';
import { CDK_JSON, FIXTURE_MANIFEST, ROOT } from '../../helpers/infra.js';

const code = (c: string) => (err: unknown) => hasCode(err, c);
const PCR_A = 'a'.repeat(96);
const PCR_B = 'b'.repeat(96);

describe('resolveTarget (account guard)', () => {
  it('picks the stage and its first region for the pinned account', () => {
    const t = resolveTarget({ environment: 'dev', account: STAGE_CONFIGS.dev.account });
    assert.equal(t.config.stage, 'dev');
    assert.equal(t.region.region, STAGE_CONFIGS.dev.regions[0]!.region);
  });

  it('selects another configured region with --context region', () => {
    const t = resolveTarget({ environment: 'prod', account: '345678901234', region: 'us-east-1' });
    assert.equal(t.region.region, 'us-east-1');
  });

  it('refuses an unknown stage', () => {
    assert.throws(
      () => resolveTarget({ environment: 'qa', account: '123456789012' }),
      code('ERR_INFRA_STAGE_UNKNOWN'),
    );
    assert.throws(
      () => resolveTarget({ environment: undefined, account: '1' }),
      code('ERR_INFRA_STAGE_UNKNOWN'),
    );
  });

  it('requires --context account', () => {
    assert.throws(
      () => resolveTarget({ environment: 'dev', account: undefined }),
      code('ERR_INFRA_ACCOUNT_MISSING'),
    );
  });

  it('refuses a mismatched account', () => {
    assert.throws(
      () => resolveTarget({ environment: 'prod', account: STAGE_CONFIGS.dev.account }),
      code('ERR_INFRA_ACCOUNT_MISMATCH'),
    );
  });

  it('refuses credentials of another account even when --context account matches', () => {
    assert.throws(
      () => resolveTarget({ environment: 'prod', account: '345678901234' }, '123456789012'),
      code('ERR_INFRA_ACCOUNT_MISMATCH'),
    );
    assert.doesNotThrow(() =>
      resolveTarget({ environment: 'prod', account: '345678901234' }, '345678901234'),
    );
  });

  it('refuses a region the stage does not deploy to', () => {
    assert.throws(
      () => resolveTarget({ environment: 'dev', account: '123456789012', region: 'us-east-1' }),
      code('ERR_INFRA_REGION_UNKNOWN'),
    );
  });
});

describe('stage config table', () => {
  for (const stage of STAGES) {
    it(`${stage} passes validation`, () => validateStageConfig(STAGE_CONFIGS[stage]));
  }

  const broken: [string, (c: StageConfig) => StageConfig][] = [
    ['a short account id', (c) => ({ ...c, account: '1234' })],
    [
      'an odd enclave CPU count',
      (c) => ({ ...c, host: { ...c.host, enclave: { memoryMib: 4096, cpuCount: 3 } } }),
    ],
    [
      'a protected single-AZ database',
      (c) => ({ ...c, database: { ...c.database, multiAz: false } }),
    ],
    [
      'an AZ outside its region',
      (c) => ({
        ...c,
        regions: [{ ...c.regions[0]!, availabilityZones: ['us-west-2a', 'us-west-2b'] }],
      }),
    ],
    [
      'a domain outside the zone',
      (c) => ({ ...c, regions: [{ ...c.regions[0]!, apiDomain: 'api.elsewhere.example.org' }] }),
    ],
    [
      'a BYOK key in another account',
      (c) => ({
        ...c,
        regions: [
          {
            ...c.regions[0]!,
            byokKeyArn:
              'arn:aws:kms:eu-central-1:999999999999:key/1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9',
          },
        ],
      }),
    ],
  ];
  for (const [what, mutate] of broken) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => validateStageConfig(mutate(STAGE_CONFIGS.prod)),
        code('ERR_INFRA_CONFIG_INVALID'),
      );
    });
  }

  it('defaults the deploy role to the CDK bootstrap CloudFormation execution role', () => {
    assert.equal(
      deployRoleArn(STAGE_CONFIGS.dev, 'eu-central-1'),
      'arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-eu-central-1',
    );
  });
});

describe('enclave release manifest and PCR0', () => {
  const fixture = JSON.parse(readFileSync(FIXTURE_MANIFEST, 'utf8')) as Record<string, unknown>;

  it('reads the fixture manifest', () => {
    const m = readEnclaveManifest(FIXTURE_MANIFEST)!;
    assert.equal(m.version, 1);
    assert.match(m.pcr0, /^[0-9a-f]{96}$/);
  });

  it('returns undefined when no release was built', () => {
    assert.equal(readEnclaveManifest(resolve(ROOT, 'release/does-not-exist.json')), undefined);
  });

  const bad: [string, Record<string, unknown>][] = [
    ['a short PCR0', { ...fixture, pcr0: 'ab' }],
    ['uppercase hex', { ...fixture, pcr1: String(fixture.pcr1).toUpperCase() }],
    ['another version', { ...fixture, version: 2 }],
    ['an unknown field', { ...fixture, pcr8: fixture.pcr0 }],
    ['a bad build time', { ...fixture, built_at: 'yesterday' }],
    ['an empty image', { ...fixture, image: '' }],
  ];
  for (const [what, value] of bad) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parseEnclaveManifest(value), code('ERR_INFRA_MANIFEST_INVALID'));
    });
  }

  it('takes PCR0 from the manifest', () => {
    const m = parseEnclaveManifest({ ...fixture, pcr0: PCR_A });
    assert.deepEqual(resolvePcr0(STAGE_CONFIGS.prod, m), [PCR_A]);
  });

  it('lets the stage override win, with two values during a rollout', () => {
    const c = {
      ...STAGE_CONFIGS.staging,
      release: { imageTag: 'x', pcr0Override: [PCR_A, PCR_B.toUpperCase()] },
    };
    assert.deepEqual(resolvePcr0(c, parseEnclaveManifest(fixture)), [PCR_A, PCR_B]);
  });

  it('refuses to synth prod without a PCR0', () => {
    assert.throws(() => resolvePcr0(STAGE_CONFIGS.prod, undefined), code('ERR_INFRA_PCR0_MISSING'));
  });

  it('lets the first prod deploy create the key ring before any image exists, admitting none', () => {
    // the image bakes in the key ARN, so the key must exist first (docs/deploy-aws.md)
    assert.deepEqual(resolvePcr0(STAGE_CONFIGS.prod, undefined, { firstKeyRing: true }), []);
  });

  it('lets dev and staging synth without a release, admitting no image', () => {
    assert.deepEqual(resolvePcr0(STAGE_CONFIGS.dev, undefined), []);
    assert.deepEqual(resolvePcr0(STAGE_CONFIGS.staging, undefined), []);
  });

  it('refuses an all-zero (debug-mode) PCR0 in every stage', () => {
    const zero = parseEnclaveManifest({ ...fixture, pcr0: '0'.repeat(96) });
    for (const stage of STAGES) {
      assert.throws(() => resolvePcr0(STAGE_CONFIGS[stage], zero), code('ERR_INFRA_PCR0_DEBUG'));
    }
  });

  it('refuses more than two PCR0 values', () => {
    const c = {
      ...STAGE_CONFIGS.dev,
      release: { imageTag: 'x', pcr0Override: [PCR_A, PCR_B, 'c'.repeat(96)] },
    };
    assert.throws(() => resolvePcr0(c, undefined), code('ERR_INFRA_MANIFEST_INVALID'));
  });
});

describe('offline CLI settings', () => {
  it('cdk.json turns notices off and telemetry off inside "context"', () => {
    assert.equal(CDK_JSON.notices, false);
    assert.equal(CDK_JSON.context['cli-telemetry'], false);
    assert.equal('cli-telemetry' in CDK_JSON, false, 'a top-level key is ignored by the CLI');
  });

  it('cdk.context.json holds the same AZs as the stage config', () => {
    const ctx = JSON.parse(readFileSync(resolve(ROOT, 'cdk.context.json'), 'utf8')) as Record<
      string,
      string[]
    >;
    for (const c of Object.values(STAGE_CONFIGS)) {
      for (const r of c.regions) {
        assert.deepEqual(
          ctx[`availability-zones:account=${c.account}:region=${r.region}`],
          r.availabilityZones,
        );
      }
    }
  });

  it('package.json pins the CLI to 2.x and synthesizes without lookups', () => {
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    assert.match(pkg.devDependencies['aws-cdk']!, /^\^?2\.\d+\.\d+$/);
    assert.match(pkg.scripts['cdk:synth']!, /--no-lookups/);
    assert.match(pkg.scripts['cdk:deploy']!, /--no-lookups/);
  });
});
