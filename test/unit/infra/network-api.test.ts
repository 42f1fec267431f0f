import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { STAGE_CONFIGS } from '../../../infra/lib/config.js';
import { EXCHANGE_EGRESS } from '../../../infra/lib/egress.js';
import { resourcesOf, single, synthStage } from '../../helpers/infra.js';

describe('Network, Ecr, Certificate and Api stacks (staging)', () => {
  const s = synthStage('staging');
  const region = STAGE_CONFIGS.staging.regions[0]!;

  it('has VPC endpoints for KMS, Secrets Manager, SSM and ECR, so AWS calls need no NAT', () => {
    const services = resourcesOf(s.template('network'), 'AWS::EC2::VPCEndpoint').map(([, r]) =>
      JSON.stringify(r.Properties!.ServiceName),
    );
    for (const svc of [
      'kms',
      'secretsmanager',
      'ssm',
      'ssmmessages',
      'ec2messages',
      'ecr.api',
      'ecr.dkr',
      's3',
    ]) {
      assert.ok(
        services.some((n) => n.includes(`.${svc}`)),
        `${svc} endpoint`,
      );
    }
  });

  it('pins the stage AZs without a lookup', () => {
    const azs = resourcesOf(s.template('network'), 'AWS::EC2::Subnet').map(
      ([, r]) => r.Properties!.AvailabilityZone,
    );
    assert.deepEqual([...new Set(azs)].sort(), [...region.availabilityZones].sort());
    assert.deepEqual(
      s.app.node.tryGetContext('availability-zones:account=234567890123:region=eu-central-1'),
      undefined,
    );
  });

  it('allow-lists egress names with a DNS firewall that blocks everything else', () => {
    const t = s.template('network');
    const lists = resourcesOf(t, 'AWS::Route53Resolver::FirewallDomainList').map(
      ([, r]) => r.Properties!.Domains as string[],
    );
    const allow = lists.find((d) => d.includes('api.binance.com.'))!;
    for (const e of EXCHANGE_EGRESS) assert.ok(allow.includes(`${e.host}.`), e.host);
    assert.ok(lists.some((d) => d.length === 1 && d[0] === '*.'));
    t.hasResourceProperties('AWS::Route53Resolver::FirewallRuleGroup', {
      FirewallRules: [
        Match.objectLike({ Action: 'ALLOW', Priority: 100 }),
        Match.objectLike({ Action: 'BLOCK', Priority: 200, BlockResponse: 'NXDOMAIN' }),
      ],
    });
    t.resourceCountIs('AWS::Route53Resolver::FirewallRuleGroupAssociation', 1);
  });

  it('keeps host egress to HTTPS and PostgreSQL in the data subnets', () => {
    const [, sg] = single(s.template('network'), 'AWS::EC2::SecurityGroup', 'HostSg');
    const egress = sg!.Properties!.SecurityGroupEgress as Record<string, unknown>[];
    for (const rule of egress) {
      assert.ok(
        [443, 5432].includes(Number(rule.FromPort)) && rule.FromPort === rule.ToPort,
        JSON.stringify(rule),
      );
    }
  });

  it('creates ECR repositories with immutable tags and scan on push', () => {
    const repos = resourcesOf(s.template('ecr'), 'AWS::ECR::Repository').map(
      ([, r]) => r.Properties!,
    );
    assert.deepEqual(repos.map((r) => r.RepositoryName).sort(), [
      'perf-aggregator/enclave',
      'perf-aggregator/host',
    ]);
    for (const r of repos) {
      assert.equal(r.ImageTagMutability, 'IMMUTABLE');
      assert.deepEqual(r.ImageScanningConfiguration, { ScanOnPush: true });
    }
  });

  it('validates the API certificate through the configured Route 53 zone', () => {
    s.template('certificate').hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: region.apiDomain,
      ValidationMethod: 'DNS',
      DomainValidationOptions: [
        { DomainName: region.apiDomain, HostedZoneId: region.hostedZone.id },
      ],
    });
  });

  it('terminates TLS on the load balancer with that certificate and health-checks /healthz', () => {
    const t = s.template('api');
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [
        {
          CertificateArn: Match.objectLike({
            'Fn::ImportValue': Match.stringLikeRegexp('Certificate'),
          }),
        },
      ],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 3000,
      Protocol: 'HTTP',
      HealthCheckPath: '/healthz',
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.enabled', Value: 'true' }]),
    });
    t.hasResourceProperties('AWS::Route53::RecordSet', { Name: `${region.apiDomain}.`, Type: 'A' });
  });
});
