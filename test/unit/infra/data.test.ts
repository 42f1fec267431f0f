import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { STAGE_CONFIGS } from '../../../infra/lib/config.js';
import { DB_SECRET_ROTATION_DAYS } from '../../../infra/lib/data-stack.js';
import { resourcesOf, single, synthStage } from '../../helpers/infra.js';

describe('Data stack', () => {
  const prod = synthStage('prod');
  const dev = synthStage('dev');
  const db = (s: typeof prod) => {
    const dbs = resourcesOf(s.template('data'), 'AWS::RDS::DBInstance');
    assert.equal(dbs.length, 1);
    return dbs[0]![1];
  };

  it('encrypts storage with the BYOK key named in the prod region config', () => {
    const p = db(prod).Properties!;
    assert.equal(p.StorageEncrypted, true);
    assert.equal(p.KmsKeyId, STAGE_CONFIGS.prod.regions[0]!.byokKeyArn);
    // The credentials secret is under the same key.
    prod.template('data').hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: STAGE_CONFIGS.prod.regions[0]!.byokKeyArn,
    });
  });

  it('encrypts storage with a rotating customer-managed key where no BYOK key is configured', () => {
    const t = dev.template('data');
    const p = db(dev).Properties!;
    assert.equal(p.StorageEncrypted, true);
    const [keyId, key] = single(t, 'AWS::KMS::Key');
    assert.deepEqual(p.KmsKeyId, { 'Fn::GetAtt': [keyId, 'Arn'] });
    assert.equal(key.Properties!.EnableKeyRotation, true);
  });

  it('takes the password from a generated secret, never from a literal or an output', () => {
    for (const s of [prod, dev]) {
      const t = s.template('data');
      const p = db(s).Properties!;
      assert.match(
        JSON.stringify(p.MasterUserPassword),
        /resolve:secretsmanager:.*:SecretString:password/,
      );
      t.hasResourceProperties('AWS::SecretsManager::Secret', {
        GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password' }),
      });
      const outputs = JSON.stringify(t.toJSON().Outputs ?? {});
      assert.doesNotMatch(outputs, /password|SecretString|resolve:secretsmanager/i);
    }
  });

  it(`rotates the credentials every ${DB_SECRET_ROTATION_DAYS} days`, () => {
    prod.template('data').hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: `rate(${DB_SECRET_ROTATION_DAYS} days)` },
    });
  });

  it('has deletion protection, RETAIN and Multi-AZ in prod; snapshot-on-delete in dev', () => {
    const p = db(prod);
    assert.equal(p.Properties!.DeletionProtection, true);
    assert.equal(p.DeletionPolicy, 'Retain');
    assert.equal(p.Properties!.MultiAZ, true);
    const d = db(dev);
    assert.equal(d.Properties!.DeletionProtection, false);
    assert.equal(d.DeletionPolicy, 'Snapshot');
  });

  it('forces TLS and IAM authentication and stays private', () => {
    const p = db(prod).Properties!;
    assert.equal(p.EnableIAMDatabaseAuthentication, true);
    assert.equal(p.PubliclyAccessible, false);
    prod.template('data').hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Parameters: { 'rds.force_ssl': '1' },
    });
  });

  it('admits PostgreSQL only from the host security group and the rotation function', () => {
    const t = prod.template('data');
    const ingress = resourcesOf(t, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties!);
    assert.equal(ingress.length, 2);
    const sources = ingress.map((r) => JSON.stringify(r.SourceSecurityGroupId));
    assert.ok(
      sources.some((s) => /Network:ExportsOutputFnGetAttHostSg/.test(s)),
      sources.join(),
    );
    assert.ok(
      sources.some((s) => /RotationSingleUserSecurityGroup/.test(s)),
      sources.join(),
    );
    for (const r of ingress) assert.equal(r.CidrIp, undefined);
    const [, sg] = single(t, 'AWS::EC2::SecurityGroup', 'DbSg');
    assert.equal((sg!.Properties!.SecurityGroupIngress as unknown) ?? undefined, undefined);
  });
});

describe('stateful and stateless stacks', () => {
  const stateful = ['ecr', 'keys', 'data'] as const;
  const stateless = ['budget', 'network', 'certificate', 'api', 'enclaveHost'] as const;

  it('protects the stateful stacks from termination in prod only', () => {
    const prod = synthStage('prod');
    for (const k of stateful) assert.equal(prod.stacks[k].terminationProtection, true, k);
    for (const k of stateless) assert.equal(prod.stacks[k].terminationProtection, false, k);
    const dev = synthStage('dev');
    for (const k of [...stateful, ...stateless])
      assert.equal(dev.stacks[k].terminationProtection, false, k);
  });

  it('deploys one region per synth, each with its own stack names', () => {
    const us = synthStage('prod', { region: 'us-east-1' });
    assert.equal(us.stacks.data.stackName, 'PerfAgg-prod-us-east-1-Data');
    assert.equal(us.stacks.data.region, 'us-east-1');
    assert.deepEqual(us.stacks.network.availabilityZones, [
      'us-east-1a',
      'us-east-1b',
      'us-east-1c',
    ]);
    assert.equal(us.app.node.children.length, 8);
  });
});
