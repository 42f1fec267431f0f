import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53resolver from 'aws-cdk-lib/aws-route53resolver';
import type { Construct } from 'constructs';
import { EXCHANGE_EGRESS } from './egress.js';
import { acknowledgeNag } from './nag.js';
import { StageStack, resourcePrefix, type StageStackProps } from './stage-stack.js';

/** Port the host API listens on (ENCLAVE_PORT in src/api/config.ts); only the load balancer reaches it. */
export const HOST_API_PORT = 3000;
export const DB_PORT = 5432;

/**
 * Names the VPC's resolver answers; every other name gets NXDOMAIN (Route 53 Resolver DNS
 * Firewall). AWS endpoints resolve through *.amazonaws.com (VPC endpoints, RDS, the AL2023
 * package mirror in S3), instance names through *.internal.
 */
export function dnsAllowList(): string[] {
  return [
    ...EXCHANGE_EGRESS.map((e) => `${e.host}.`),
    '*.amazonaws.com.',
    '*.compute.internal.',
    '*.ec2.internal.',
  ];
}

/**
 * VPC with three tiers: public (load balancer, NAT), hosts (private, egress through NAT to the
 * allow-listed exchanges only), data (isolated: the database). AWS APIs go through VPC endpoints,
 * so no AWS call needs the NAT. The load balancer and host security groups live here, so that the Data
 * and Api stacks can name the host group without a dependency cycle.
 */
export class NetworkStack extends StageStack {
  readonly vpc: ec2.Vpc;
  readonly albSg: ec2.SecurityGroup;
  readonly hostSg: ec2.SecurityGroup;

  constructor(scope: Construct, props: StageStackProps) {
    super(scope, 'Network', props, false);
    const { config } = this.target;
    const prefix = resourcePrefix(this.target);

    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: config.protect ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(config.network.cidr),
      availabilityZones: [...this.target.region.availabilityZones],
      natGateways: config.network.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'hosts', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });

    this.vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    const endpoints: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
      Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
      SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
      SsmMessages: ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
      Ec2Messages: ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
      EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
      EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
      Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      Monitoring: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    };
    const endpointSg = new ec2.SecurityGroup(this, 'EndpointSg', {
      vpc: this.vpc,
      description: 'Interface endpoints: HTTPS from inside the VPC only',
      allowAllOutbound: false,
    });
    endpointSg.addIngressRule(
      ec2.Peer.ipv4(config.network.cidr),
      ec2.Port.tcp(443),
      'from the VPC',
    );
    for (const [id, service] of Object.entries(endpoints)) {
      this.vpc.addInterfaceEndpoint(id, {
        service,
        privateDnsEnabled: true,
        subnets: { subnetGroupName: 'hosts' },
        securityGroups: [endpointSg],
        open: false,
      });
    }

    this.albSg = new ec2.SecurityGroup(this, 'AlbSg', {
      vpc: this.vpc,
      description: 'Public load balancer: HTTPS in, host API out',
      allowAllOutbound: false,
    });
    this.albSg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS from clients');
    acknowledgeNag(
      this.albSg,
      'AwsSolutions-EC23',
      'The public API load balancer takes HTTPS from the internet by design; port 443 only.',
    );

    this.hostSg = new ec2.SecurityGroup(this, 'HostSg', {
      vpc: this.vpc,
      description:
        'Enclave hosts: API from the load balancer; out to 443 and the database only (no SSH)',
      allowAllOutbound: false,
    });
    this.albSg.addEgressRule(this.hostSg, ec2.Port.tcp(HOST_API_PORT), 'to the host API');
    this.hostSg.addIngressRule(
      this.albSg,
      ec2.Port.tcp(HOST_API_PORT),
      'API from the load balancer',
    );
    // 443 out covers the VPC endpoints and, through NAT, the exchanges; the DNS firewall below
    // and the host API's egress proxy (EGRESS_ALLOW_HOSTS) narrow it to the named hosts.
    this.hostSg.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS: AWS endpoints, exchanges',
    );
    // The database's own group (Data stack) admits the hosts; naming it here would make the two
    // stacks depend on each other, so the hosts' side of the rule is the data subnets' port.
    for (const subnet of this.vpc.selectSubnets({ subnetGroupName: 'data' }).subnets) {
      this.hostSg.addEgressRule(
        ec2.Peer.ipv4(subnet.ipv4CidrBlock),
        ec2.Port.tcp(DB_PORT),
        'PostgreSQL in the data subnets',
      );
    }

    const allow = new route53resolver.CfnFirewallDomainList(this, 'DnsAllowList', {
      name: `${prefix}-egress-allow`,
      domains: dnsAllowList(),
    });
    const everything = new route53resolver.CfnFirewallDomainList(this, 'DnsBlockAll', {
      name: `${prefix}-egress-block-all`,
      domains: ['*.'],
    });
    const rules = new route53resolver.CfnFirewallRuleGroup(this, 'DnsFirewall', {
      name: `${prefix}-egress`,
      firewallRules: [
        { firewallDomainListId: allow.attrId, priority: 100, action: 'ALLOW' },
        {
          firewallDomainListId: everything.attrId,
          priority: 200,
          action: 'BLOCK',
          blockResponse: 'NXDOMAIN',
        },
      ],
    });
    new route53resolver.CfnFirewallRuleGroupAssociation(this, 'DnsFirewallAssociation', {
      firewallRuleGroupId: rules.attrId,
      vpcId: this.vpc.vpcId,
      priority: 101,
      name: `${prefix}-egress`,
      mutationProtection: config.protect ? 'ENABLED' : 'DISABLED',
    });
  }
}
