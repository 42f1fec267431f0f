import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STAGE_CONFIGS } from '../../../infra/lib/config.js';
import {
  DENIED_UNATTESTED,
  IMAGE_SHA384,
  KEY_ADMIN_ACTIONS,
} from '../../../infra/lib/key-policy.js';
import { resourcesOf, synthStage } from '../../helpers/infra.js';

interface Statement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal: { AWS: unknown };
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}
const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

function keyRingPolicy(stage: 'dev' | 'prod', manifest?: null): Statement[] {
  const t = synthStage(stage, manifest === null ? { manifest: null } : {}).template('keys');
  const keys = resourcesOf(t, 'AWS::KMS::Key');
  assert.equal(keys.length, 1);
  const [, key] = keys[0]!;
  assert.equal(key.DeletionPolicy, 'Retain');
  assert.equal(key.Properties!.EnableKeyRotation, true);
  return (key.Properties!.KeyPolicy as { Statement: Statement[] }).Statement;
}

describe('key-ring key policy (prod, PCR0 from the release manifest)', () => {
  const synth = synthStage('prod');
  const statements = keyRingPolicy('prod');
  const bySid = (sid: string) => statements.find((s) => s.Sid === sid)!;
  const deployRole = `arn:aws:iam::${STAGE_CONFIGS.prod.account}:role/cdk-hnb659fds-cfn-exec-role-${STAGE_CONFIGS.prod.account}-eu-central-1`;

  it('allows Decrypt/GenerateDataKey to the host role only with the manifest PCR0', () => {
    const allow = bySid('AttestedEnclaveOnly');
    assert.equal(allow.Effect, 'Allow');
    assert.deepEqual(actions(allow).sort(), ['kms:Decrypt', 'kms:GenerateDataKey']);
    assert.deepEqual(allow.Condition, {
      StringEqualsIgnoreCase: { [IMAGE_SHA384]: [...synth.pcr0] },
    });
    assert.deepEqual(allow.Principal.AWS, {
      'Fn::GetAtt': [
        synth.stacks.keys.getLogicalId(synth.stacks.keys.hostRole.node.defaultChild as never),
        'Arn',
      ],
    });
  });

  it('is the only Allow that grants a cryptographic operation', () => {
    const crypto =
      /^kms:(Decrypt|Encrypt|GenerateDataKey|ReEncrypt|GenerateRandom|DeriveSharedSecret|Sign)/;
    const granting = statements.filter(
      (s) => s.Effect === 'Allow' && actions(s).some((a) => crypto.test(a) || a.includes('*')),
    );
    assert.deepEqual(
      granting.map((s) => s.Sid),
      ['AttestedEnclaveOnly'],
    );
  });

  it('denies Decrypt, GenerateDataKey* and ReEncrypt* to everyone without a matching attestation', () => {
    const deny = bySid('DenyUnattestedUse');
    assert.equal(deny.Effect, 'Deny');
    assert.deepEqual(deny.Principal.AWS, '*');
    assert.deepEqual(actions(deny), [...DENIED_UNATTESTED]);
    assert.deepEqual(deny.Condition, {
      StringNotEqualsIgnoreCase: { [IMAGE_SHA384]: [...synth.pcr0] },
    });
  });

  it('denies CreateGrant to everyone, unconditionally', () => {
    const deny = bySid('DenyGrantsToEveryone');
    assert.equal(deny.Effect, 'Deny');
    assert.equal(deny.Principal.AWS, '*');
    assert.deepEqual(actions(deny), ['kms:CreateGrant']);
    assert.equal(deny.Condition, undefined);
  });

  it('gives admins an explicit list without Create*, ReEncrypt*, PutKeyPolicy or any use', () => {
    const admin = bySid('KeyAdministrationWithoutUse');
    assert.equal(admin.Principal.AWS, `arn:aws:iam::${STAGE_CONFIGS.prod.account}:root`);
    assert.deepEqual(actions(admin).sort(), [...KEY_ADMIN_ACTIONS].sort());
    for (const a of actions(admin)) {
      assert.ok(!a.includes('*'), `${a} is a wildcard`);
      assert.ok(!/^kms:(Create|ReEncrypt|PutKeyPolicy|Decrypt|Encrypt|GenerateDataKey)/.test(a), a);
    }
  });

  it('lets only the deploy role change the policy', () => {
    const allow = bySid('DeployRoleManagesPolicyAndAlias');
    assert.equal(allow.Principal.AWS, deployRole);
    assert.ok(actions(allow).includes('kms:PutKeyPolicy'));
    const holders = statements.filter(
      (s) => s.Effect === 'Allow' && actions(s).includes('kms:PutKeyPolicy'),
    );
    assert.deepEqual(
      holders.map((s) => s.Sid),
      ['DeployRoleManagesPolicyAndAlias'],
    );
    const deny = bySid('DenyPolicyChangesExceptDeployRole');
    assert.equal(deny.Effect, 'Deny');
    assert.deepEqual(deny.Condition, { ArnNotEquals: { 'aws:PrincipalArn': deployRole } });
  });

  it('alarms on PutKeyPolicy and on any unattested use that succeeds (the canary)', () => {
    const t = synth.template('keys');
    const filters = resourcesOf(t, 'AWS::Logs::MetricFilter').map(([, r]) => r.Properties!);
    const pattern = (metric: string) => {
      const f = filters.find(
        (p) => (p.MetricTransformations as { MetricName: string }[])[0]!.MetricName === metric,
      )!;
      return JSON.stringify(f.FilterPattern);
    };
    assert.match(pattern('KeyRingPolicyChanged'), /eventName = \\"PutKeyPolicy\\"/);
    const canary = pattern('KeyRingUnattestedUse');
    assert.match(canary, /eventName = \\"Decrypt\\"/);
    assert.match(canary, /errorCode NOT EXISTS/);
    assert.match(canary, /attestationDocumentEnclaveImageDigest NOT EXISTS/);
    const alarms = resourcesOf(t, 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties!);
    for (const metric of ['KeyRingPolicyChanged', 'KeyRingUnattestedUse']) {
      const alarm = alarms.find((a) => a.MetricName === metric)!;
      assert.ok(alarm, metric);
      assert.equal(alarm.Threshold, 1);
      assert.equal(alarm.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
      assert.equal((alarm.AlarmActions as unknown[]).length, 1);
    }
    t.hasResourceProperties('AWS::CloudTrail::Trail', {
      IsLogging: true,
      EnableLogFileValidation: true,
    });
  });

  it('gives the host role Session Manager and nothing else by managed policy', () => {
    const t = synth.template('keys');
    const [, role] = resourcesOf(t, 'AWS::IAM::Role').find(([id]) => id.startsWith('HostRole'))!;
    assert.equal((role.Properties!.ManagedPolicyArns as unknown[]).length, 1);
    assert.match(
      JSON.stringify(role.Properties!.ManagedPolicyArns),
      /AmazonSSMManagedInstanceCore/,
    );
  });
});

describe('key-ring key policy without a release (dev, no manifest)', () => {
  it('has no Allow for any image and denies use unconditionally', () => {
    const statements = keyRingPolicy('dev', null);
    assert.equal(
      statements.find((s) => s.Sid === 'AttestedEnclaveOnly'),
      undefined,
    );
    const deny = statements.find((s) => s.Sid === 'DenyUnattestedUse')!;
    assert.equal(deny.Effect, 'Deny');
    assert.equal(deny.Condition, undefined);
  });
});
