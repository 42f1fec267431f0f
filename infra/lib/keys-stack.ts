import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { deployRoleArn } from './config.js';
import { keyRingPolicy } from './key-policy.js';
import { acknowledgeNag } from './nag.js';
import { StageStack, resourcePrefix, type StageStackProps } from './stage-stack.js';

export interface KeysStackProps extends StageStackProps {
  /** PCR0 values the key admits (from the release manifest or the stage override). */
  readonly pcr0: readonly string[];
  readonly alerts: sns.ITopic;
}

export const METRIC_NAMESPACE = 'PerfAggregator/Keys';

/** CloudWatch Logs filter for successful calls of `events` on one key. */
function kmsEventFilter(keyArn: string, events: readonly string[], extra: string[]): string {
  const names = events.map((e) => `($.eventName = "${e}")`).join(' || ');
  return [
    '{ ($.eventSource = "kms.amazonaws.com")',
    `(${names})`,
    '($.errorCode NOT EXISTS)',
    ...extra,
    `($.resources[0].ARN = "${keyArn}") }`,
  ].join(' && ');
}

/**
 * The key-ring key (wraps the enclave's long-lived keys) and who may use it: the host role, and
 * only from inside an enclave whose PCR0 the stage admits. The role lives here because the key
 * policy names it and KMS refuses a policy whose principal does not exist yet.
 *
 * A CloudTrail trail feeds two alarms: any PutKeyPolicy on the key, and the canary, any
 * successful Decrypt/GenerateDataKey/ReEncrypt on it without an enclave attestation (which the
 * policy should make impossible, so one event means the policy was changed or bypassed).
 */
export class KeysStack extends StageStack {
  readonly hostRole: iam.Role;
  readonly keyRing: kms.Key;

  constructor(scope: Construct, props: KeysStackProps) {
    super(scope, 'Keys', props, true);
    const { config, region } = this.target;
    const prefix = resourcePrefix(this.target);

    this.hostRole = new iam.Role(this, 'HostRole', {
      roleName: `${prefix}-${region.region}-enclave-host`,
      description: 'Enclave host instances: SSM Session Manager; key-ring use only when attested',
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    acknowledgeNag(
      this.hostRole,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      'Session Manager replaces SSH; AWS maintains this policy for exactly that agent.',
    );

    const deployer = deployRoleArn(config, region.region);
    this.keyRing = new kms.Key(this, 'KeyRingKey', {
      alias: `alias/${prefix}/keyring`,
      description: 'perf-aggregator enclave key ring: usable only by an attested enclave image',
      enableKeyRotation: true,
      // Losing this key loses every sealed enclave key: never deleted with the stack.
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
      policy: keyRingPolicy({
        accountRootArn: `arn:${this.partition}:iam::${this.account}:root`,
        hostRoleArn: this.hostRole.roleArn,
        deployRoleArn: deployer,
        pcr0: props.pcr0,
      }),
    });
    // The policy names the role, so the role must exist before the key.
    this.keyRing.node.addDependency(this.hostRole);
    // The enclave image bakes this ARN in (npm run enclave:build -- --kms-key-id <arn>).
    new CfnOutput(this, 'KeyRingKeyArn', { value: this.keyRing.keyArn });

    const trailBucket = new s3.Bucket(this, 'TrailBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(config.protect ? 400 : 90) }],
    });
    acknowledgeNag(
      trailBucket,
      'AwsSolutions-S1',
      'This bucket only receives CloudTrail files; the trail itself is the access record.',
    );
    const trailLogs = new logs.LogGroup(this, 'TrailLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: config.protect ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    new cloudtrail.Trail(this, 'KeyTrail', {
      bucket: trailBucket,
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: trailLogs,
      isMultiRegionTrail: false,
      includeGlobalServiceEvents: false,
      enableFileValidation: true,
      managementEvents: cloudtrail.ReadWriteType.ALL,
    });

    const alarm = (id: string, metricName: string, pattern: string, description: string) => {
      new logs.MetricFilter(this, `${id}Filter`, {
        logGroup: trailLogs,
        metricNamespace: METRIC_NAMESPACE,
        metricName,
        metricValue: '1',
        defaultValue: 0,
        filterPattern: logs.FilterPattern.literal(pattern),
      });
      const a = new cloudwatch.Alarm(this, id, {
        alarmName: `${prefix}-${region.region}-${metricName}`,
        alarmDescription: description,
        metric: new cloudwatch.Metric({
          namespace: METRIC_NAMESPACE,
          metricName,
          statistic: 'Sum',
          period: Duration.minutes(1),
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(new cwActions.SnsAction(props.alerts));
    };
    alarm(
      'KeyPolicyChanged',
      'KeyRingPolicyChanged',
      kmsEventFilter(this.keyRing.keyArn, ['PutKeyPolicy'], []),
      'The key-ring key policy was changed. Expected only during a release (new PCR0); anything else is an incident.',
    );
    alarm(
      'UnattestedUseCanary',
      'KeyRingUnattestedUse',
      kmsEventFilter(
        this.keyRing.keyArn,
        ['Decrypt', 'GenerateDataKey', 'ReEncrypt'],
        ['($.additionalEventData.recipient.attestationDocumentEnclaveImageDigest NOT EXISTS)'],
      ),
      'A Decrypt/GenerateDataKey/ReEncrypt on the key-ring key succeeded without an enclave attestation. The key policy must make this impossible: treat as a breach.',
    );
  }
}
