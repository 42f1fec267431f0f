import { Duration, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { DataStack } from './data-stack.js';
import type { EcrStack } from './ecr-stack.js';
import { enclaveEgress } from './egress.js';
import type { KeysStack } from './keys-stack.js';
import { HOST_API_PORT, type NetworkStack } from './network-stack.js';
import { acknowledgeNag } from './nag.js';
import { StageStack, resourcePrefix, type StageStackProps } from './stage-stack.js';
import { hostUserData } from './user-data.js';

export interface EnclaveHostStackProps extends StageStackProps {
  readonly network: NetworkStack;
  readonly ecr: EcrStack;
  readonly keys: KeysStack;
  readonly data: DataStack;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly alerts: sns.ITopic;
  readonly pcr0: readonly string[];
}

/** Tag that marks enclave hosts; the DB maintenance policy only opens sessions to these. */
export const HOST_TAG = { key: 'perf-aggregator-role', value: 'enclave-host' } as const;

/**
 * Nitro-enabled EC2 on Amazon Linux 2023 in an Auto Scaling group. No key pair and no port 22:
 * operators reach a host, and through it the database, with SSM Session Manager only.
 */
export class EnclaveHostStack extends StageStack {
  readonly asg: autoscaling.AutoScalingGroup;
  readonly maintenancePolicy: iam.ManagedPolicy;

  constructor(scope: Construct, props: EnclaveHostStackProps) {
    super(scope, 'EnclaveHost', props, false);
    const { config, region } = this.target;
    const prefix = resourcePrefix(this.target);
    const role = props.keys.hostRole;
    const { hostRepo, enclaveRepo } = props.ecr;

    const runtime = new iam.Policy(this, 'HostRuntimeAccess', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
        new iam.PolicyStatement({
          actions: [
            'ecr:BatchGetImage',
            'ecr:GetDownloadUrlForLayer',
            'ecr:BatchCheckLayerAvailability',
          ],
          resources: [hostRepo.repositoryArn, enclaveRepo.repositoryArn],
        }),
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [props.data.secret.secretArn],
        }),
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [props.data.storageKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${region.region}.amazonaws.com` },
          },
        }),
      ],
    });
    acknowledgeNag(
      runtime,
      'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken has no resource-level permissions; the pulls themselves are limited to the two repositories.',
    );

    const userData = ec2.UserData.forLinux();
    userData.addCommands(
      ...hostUserData({
        region: region.region,
        stage: config.stage,
        registry: `${this.account}.dkr.ecr.${region.region}.amazonaws.com`,
        hostImage: `${hostRepo.repositoryUri}:${config.release.imageTag}`,
        enclaveImage: `${enclaveRepo.repositoryUri}:${config.release.imageTag}`,
        pcr0: props.pcr0,
        enclave: config.host.enclave,
        egress: enclaveEgress(region.region),
        apiPort: HOST_API_PORT,
        databaseSecretArn: props.data.secret.secretArn,
        keyRingKeyArn: props.keys.keyRing.keyArn,
      }),
    );

    const launchTemplate = new ec2.LaunchTemplate(this, 'HostTemplate', {
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
      instanceType: new ec2.InstanceType(config.host.instanceType),
      role,
      securityGroup: props.network.hostSg,
      userData,
      nitroEnclaveEnabled: true,
      requireImdsv2: true,
      httpPutResponseHopLimit: 1,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(config.host.rootVolumeGiB, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    this.asg = new autoscaling.AutoScalingGroup(this, 'Hosts', {
      vpc: props.network.vpc,
      vpcSubnets: { subnetGroupName: 'hosts' },
      launchTemplate,
      minCapacity: config.host.minCapacity,
      maxCapacity: config.host.maxCapacity,
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: Duration.minutes(10),
      }),
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        minInstancesInService: config.host.minCapacity > 1 ? 1 : 0,
      }),
      notifications: [{ topic: props.alerts }],
    });
    Tags.of(this.asg).add(HOST_TAG.key, HOST_TAG.value);
    this.asg.attachToApplicationTargetGroup(props.targetGroup);

    // The maintenance path to the database: an SSM port-forwarding session through a host
    // (`AWS-StartPortForwardingSessionToRemoteHost`), for operators who are given this policy.
    const hostInstances = `arn:${this.partition}:ec2:${region.region}:${this.account}:instance/*`;
    const ownSessions = `arn:${this.partition}:ssm:*:*:session/\${aws:userid}-*`;
    this.maintenancePolicy = new iam.ManagedPolicy(this, 'DbMaintenance', {
      managedPolicyName: `${prefix}-${region.region}-db-maintenance`,
      description: 'Port-forward to the database through an enclave host with Session Manager',
      statements: [
        new iam.PolicyStatement({
          actions: ['ssm:StartSession'],
          resources: [hostInstances],
          conditions: { StringEquals: { [`ssm:resourceTag/${HOST_TAG.key}`]: HOST_TAG.value } },
        }),
        new iam.PolicyStatement({
          actions: ['ssm:StartSession'],
          resources: [
            `arn:${this.partition}:ssm:${region.region}::document/AWS-StartPortForwardingSessionToRemoteHost`,
          ],
        }),
        new iam.PolicyStatement({
          actions: ['ssm:TerminateSession', 'ssm:ResumeSession'],
          resources: [ownSessions],
        }),
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [props.data.secret.secretArn],
        }),
      ],
    });
    acknowledgeNag(
      this.maintenancePolicy,
      `AwsSolutions-IAM5[Resource::${hostInstances}]`,
      'Instance ids change with every scaling event; the StartSession statement is limited to instances tagged as enclave hosts.',
    );
    acknowledgeNag(
      this.maintenancePolicy,
      `AwsSolutions-IAM5[Resource::${ownSessions.replace('${aws:userid}', '<aws:userid>')}]`,
      'Session ids are generated per session; the resource is limited to sessions the caller started (its own user id).',
    );
  }
}
