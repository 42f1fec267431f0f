import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { HOST_API_PORT, type NetworkStack } from './network-stack.js';
import { acknowledgeNag } from './nag.js';
import { StageStack, type StageStackProps } from './stage-stack.js';

export interface ApiStackProps extends StageStackProps {
  readonly network: NetworkStack;
  readonly certificate: acm.ICertificate;
  readonly zone: route53.IHostedZone;
  readonly alerts: sns.ITopic;
}

/** Path of the host's liveness route (src/api/routes/ops.ts). */
export const HEALTH_CHECK_PATH = '/healthz';

/**
 * The public entry: an internet-facing ALB that terminates TLS with the Certificate stack's
 * certificate and forwards to the hosts' API port. Terminating here is safe for this protocol:
 * exchange keys arrive sealed to the enclave's attested key, so the load balancer only ever sees
 * ciphertext and public data (docs/threat-model.md). The hosts register themselves through their
 * Auto Scaling group (EnclaveHost stack).
 */
export class ApiStack extends StageStack {
  readonly targetGroup: elbv2.ApplicationTargetGroup;

  constructor(scope: Construct, props: ApiStackProps) {
    super(scope, 'Api', props, false);
    const { config, region } = this.target;

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: config.protect ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      lifecycleRules: [{ expiration: Duration.days(config.protect ? 90 : 14) }],
    });
    acknowledgeNag(
      accessLogs,
      'AwsSolutions-S1',
      'This bucket only receives the load balancer access logs; logging its own access would recurse.',
    );

    const alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: props.network.vpc,
      internetFacing: true,
      vpcSubnets: { subnetGroupName: 'public' },
      securityGroup: props.network.albSg,
      dropInvalidHeaderFields: true,
      deletionProtection: config.protect,
    });
    alb.logAccessLogs(accessLogs, 'alb');

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'Hosts', {
      vpc: props.network.vpc,
      port: HOST_API_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.INSTANCE,
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: HEALTH_CHECK_PATH,
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
    alb.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [props.certificate],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      open: false,
      defaultTargetGroups: [this.targetGroup],
    });

    new cloudwatch.Alarm(this, 'NoHealthyHost', {
      alarmDescription: 'No host passes /healthz: the API is down.',
      metric: this.targetGroup.metrics.healthyHostCount({
        period: Duration.minutes(1),
        statistic: 'Minimum',
      }),
      threshold: 1,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    }).addAlarmAction(new cwActions.SnsAction(props.alerts));

    new route53.ARecord(this, 'ApiAlias', {
      zone: props.zone,
      recordName: region.apiDomain,
      target: route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(alb)),
    });
    new CfnOutput(this, 'ApiUrl', { value: `https://${region.apiDomain}` });
  }
}
