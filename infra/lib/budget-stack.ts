import { readFileSync } from 'node:fs';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { StageStack, resourcePrefix, type StageStackProps } from './stage-stack.js';

const FORWARDER_SOURCE = readFileSync(
  new URL('../lambda/slack-forwarder.cjs', import.meta.url),
  'utf8',
);

/**
 * The monthly budget and the stage's one alert channel: an encrypted SNS topic that the budget,
 * the key alarms and the host alarms publish to, forwarded to Slack. Nitro-capable instances
 * cost money even when idle, so the budget also forecasts.
 */
export class BudgetStack extends StageStack {
  readonly alerts: sns.ITopic;

  constructor(scope: Construct, props: StageStackProps) {
    super(scope, 'Budget', props, false);
    const { config } = this.target;
    const prefix = resourcePrefix(this.target);

    // Budgets and CloudWatch publish to an encrypted topic only if the key lets them.
    const topicKey = new kms.Key(this, 'AlertsKey', {
      description: `${prefix} alerts topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    for (const service of ['budgets.amazonaws.com', 'cloudwatch.amazonaws.com']) {
      topicKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `Publish-${service.split('.')[0]}`,
          principals: [new iam.ServicePrincipal(service)],
          actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': config.account } },
        }),
      );
    }

    const topic = new sns.Topic(this, 'Alerts', {
      topicName: `${prefix}-alerts`,
      masterKey: topicKey,
      enforceSSL: true,
    });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'BudgetsPublish',
        principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': config.account } },
      }),
    );
    this.alerts = topic;

    new budgets.CfnBudget(this, 'MonthlyBudget', {
      budget: {
        budgetName: `${prefix}-${this.region}-monthly`,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: config.budget.monthlyLimitUsd, unit: 'USD' },
        costFilters: { Region: [this.region] },
      },
      notificationsWithSubscribers: [
        ...config.budget.thresholdsPercent.map((threshold) => ({
          notification: {
            notificationType: 'ACTUAL',
            comparisonOperator: 'GREATER_THAN',
            threshold,
            thresholdType: 'PERCENTAGE',
          },
          subscribers: [{ subscriptionType: 'SNS', address: topic.topicArn }],
        })),
        {
          notification: {
            notificationType: 'FORECASTED',
            comparisonOperator: 'GREATER_THAN',
            threshold: 100,
            thresholdType: 'PERCENTAGE',
          },
          subscribers: [{ subscriptionType: 'SNS', address: topic.topicArn }],
        },
      ],
    });

    const secretArn = `arn:${this.partition}:secretsmanager:${this.region}:${this.account}:secret:${config.budget.slackWebhookSecretName}-??????`;
    const logGroup = new logs.LogGroup(this, 'SlackForwarderLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'SlackForwarderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Reads the Slack webhook secret and writes its own logs',
      inlinePolicies: {
        forwarder: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ['secretsmanager:GetSecretValue'],
              resources: [secretArn],
            }),
            new iam.PolicyStatement({
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              // The log group's Arn attribute already ends in `:*` (all its streams).
              resources: [logGroup.logGroupArn],
            }),
          ],
        }),
      },
    });
    const forwarder = new lambda.Function(this, 'SlackForwarder', {
      description: 'Forwards the stage alerts topic to the Slack webhook named in the stage config',
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline(FORWARDER_SOURCE),
      role,
      logGroup,
      timeout: Duration.seconds(15),
      memorySize: 128,
      environment: { SLACK_WEBHOOK_SECRET_NAME: config.budget.slackWebhookSecretName },
    });
    topic.addSubscription(new subs.LambdaSubscription(forwarder));
  }
}
