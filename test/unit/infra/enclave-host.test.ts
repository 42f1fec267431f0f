import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { STAGE_CONFIGS } from '../../../infra/lib/config.js';
import { EXCHANGE_EGRESS, enclaveEgress } from '../../../infra/lib/egress.js';
import { hostUserData } from '../../../infra/lib/user-data.js';
import { resourcesOf, single, synthStage } from '../../helpers/infra.js';

/** The user data script with CloudFormation references shown as <…>. */
function userDataOf(t: Template): string {
  const [, lt] = single(t, 'AWS::EC2::LaunchTemplate');
  const data = (lt!.Properties!.LaunchTemplateData as { UserData: { 'Fn::Base64': unknown } })
    .UserData;
  const body = data['Fn::Base64'] as { 'Fn::Join': [string, unknown[]] } | string;
  if (typeof body === 'string') return body;
  return body['Fn::Join'][1]
    .map((p) => (typeof p === 'string' ? p : `<${JSON.stringify(p)}>`))
    .join('');
}

describe('EnclaveHost stack', () => {
  const prod = synthStage('prod');
  const t = prod.template('enclaveHost');
  const ltData = () =>
    resourcesOf(t, 'AWS::EC2::LaunchTemplate')[0]![1].Properties!.LaunchTemplateData as Record<
      string,
      unknown
    >;
  const script = userDataOf(t);
  const cfg = STAGE_CONFIGS.prod;

  it('launches Nitro-enclave-enabled instances with IMDSv2 and no key pair', () => {
    const d = ltData();
    assert.deepEqual(d.EnclaveOptions, { Enabled: true });
    assert.equal((d.MetadataOptions as Record<string, unknown>).HttpTokens, 'required');
    assert.equal(d.KeyName, undefined);
    assert.equal(d.InstanceType, cfg.host.instanceType);
    const [dev] = d.BlockDeviceMappings as { Ebs: Record<string, unknown> }[];
    assert.equal(dev!.Ebs.Encrypted, true);
    assert.match(JSON.stringify(d.ImageId), /al2023/);
  });

  it('runs the ASG in the private host subnets behind the load balancer target group', () => {
    const [, asg] = single(t, 'AWS::AutoScaling::AutoScalingGroup');
    const p = asg!.Properties!;
    assert.equal(p.MinSize, String(cfg.host.minCapacity));
    assert.equal(p.HealthCheckType, 'ELB');
    assert.match(JSON.stringify(p.VPCZoneIdentifier), /hostsSubnet/);
    assert.match(JSON.stringify(p.TargetGroupARNs), /Api:ExportsOutputRefHosts/);
  });

  it('opens no SSH anywhere: no port 22 rule and no key pair in any stack', () => {
    for (const kind of Object.keys(prod.stacks) as (keyof typeof prod.stacks)[]) {
      const json = prod.template(kind).toJSON() as {
        Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
      };
      for (const [id, r] of Object.entries(json.Resources)) {
        const rules: Record<string, unknown>[] = [];
        if (r.Type === 'AWS::EC2::SecurityGroup')
          rules.push(...((r.Properties!.SecurityGroupIngress as Record<string, unknown>[]) ?? []));
        if (r.Type === 'AWS::EC2::SecurityGroupIngress') rules.push(r.Properties!);
        for (const rule of rules) {
          const from = Number(rule.FromPort);
          const to = Number(rule.ToPort);
          assert.ok(
            !(rule.IpProtocol === '-1' || (from <= 22 && 22 <= to)),
            `${kind}/${id} opens port 22`,
          );
        }
        assert.notEqual(r.Type, 'AWS::EC2::KeyPair');
      }
    }
  });

  it('sizes the enclave allocator from the stage config', () => {
    assert.match(script, new RegExp(`memory_mib: ${cfg.host.enclave.memoryMib}\\n`));
    assert.match(script, new RegExp(`cpu_count: ${cfg.host.enclave.cpuCount}\\n`));
    assert.match(
      script,
      new RegExp(`--memory ${cfg.host.enclave.memoryMib} --cpu-count ${cfg.host.enclave.cpuCount}`),
    );
  });

  it('allow-lists exactly the exchange hosts and the regional KMS endpoint for the egress proxy', () => {
    const line = script.split('\n').find((l) => l.startsWith('EGRESS_ALLOW_HOSTS='))!;
    assert.deepEqual(line.slice('EGRESS_ALLOW_HOSTS='.length).split(','), [
      ...EXCHANGE_EGRESS.map((e) => `${e.host}:443`),
      'kms.eu-central-1.amazonaws.com:443',
    ]);
    for (const h of [
      'api.binance.com',
      'fapi.binance.com',
      'api.bybit.com',
      'www.okx.com',
      'api.coinbase.com',
      'api.kraken.com',
    ]) {
      assert.ok(
        EXCHANGE_EGRESS.some((e) => e.host === h),
        h,
      );
    }
    // Secrets Manager is read by the host (VPC endpoint), never through the enclave's egress.
    assert.ok(!enclaveEgress('eu-central-1').some((e) => e.host.startsWith('secretsmanager.')));
  });

  it('installs systemd units for the enclave (never --debug-mode) and the host API', () => {
    for (const unit of ['perf-aggregator-enclave.service', 'perf-aggregator-host.service']) {
      assert.ok(script.includes(`/etc/systemd/system/${unit}`), unit);
    }
    assert.match(script, /ExecStart=\/usr\/bin\/nitro-cli run-enclave --eif-path /);
    assert.doesNotMatch(script, /debug-mode/);
    assert.match(
      script,
      /systemctl enable --now perf-aggregator-enclave.service perf-aggregator-host.service/,
    );
  });

  it('passes DATABASE_SECRET_ARN (the Data stack secret) to the host API, and no password', () => {
    const env = script
      .split("/etc/perf-aggregator/host.env <<'PERF_EOF'\n")[1]!
      .split('\nPERF_EOF')[0]!;
    assert.match(
      env,
      /^DATABASE_SECRET_ARN=<\{"Fn::ImportValue":"PerfAgg-prod-eu-central-1-Data:ExportsOutputRefPostgresSecretAttachment/m,
    );
    assert.match(env, /^TEE_MODE=nitro$/m);
    assert.match(env, /^ENCLAVE_PORT=3000$/m);
    assert.doesNotMatch(env, /PASSWORD|DATABASE_URL/);
  });

  it('starts only an EIF whose PCR0 the key policy admits', () => {
    assert.match(script, new RegExp(`for want in ${prod.pcr0[0]}; do`));
    assert.match(script, /nitro-cli describe-eif/);
  });

  it('reaches hosts only through Session Manager, with a tag-limited DB maintenance policy', () => {
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'ssm:StartSession',
            Condition: { StringEquals: { 'ssm:resourceTag/perf-aggregator-role': 'enclave-host' } },
            Effect: 'Allow',
            Resource: 'arn:aws:ec2:eu-central-1:345678901234:instance/*',
          },
          {
            Action: 'ssm:StartSession',
            Effect: 'Allow',
            Resource:
              'arn:aws:ssm:eu-central-1::document/AWS-StartPortForwardingSessionToRemoteHost',
          },
          Match.objectLike({ Action: 'secretsmanager:GetSecretValue', Effect: 'Allow' }),
        ]),
      },
    });
    // No instance port is opened for it: the only ingress to hosts is the API port from the ALB.
    const hostSg = resourcesOf(prod.template('network'), 'AWS::EC2::SecurityGroupIngress')
      .map(([, r]) => r.Properties!)
      .filter((r) => JSON.stringify(r.GroupId).includes('HostSg'));
    assert.deepEqual(
      hostSg.map((r) => [r.FromPort, r.ToPort]),
      [[3000, 3000]],
    );
  });
});

describe('hostUserData', () => {
  it('refuses every EIF when no PCR0 is admitted yet', () => {
    const lines = hostUserData({
      region: 'eu-central-1',
      stage: 'dev',
      registry: 'r',
      hostImage: 'h:1',
      enclaveImage: 'e:1',
      pcr0: [],
      enclave: { memoryMib: 2048, cpuCount: 2 },
      egress: enclaveEgress('eu-central-1'),
      apiPort: 3000,
      databaseSecretArn: 'arn:s',
      keyRingKeyArn: 'arn:k',
    });
    const loop = lines.find((l) => l.startsWith('for want in'))!;
    assert.equal(loop, 'for want in ; do');
    assert.ok(lines.includes('exit 1'));
  });
});
