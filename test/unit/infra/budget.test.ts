import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { STAGES, STAGE_CONFIGS } from '../../../infra/lib/config.js';
import { single, synthStage } from '../../helpers/infra.js';

describe('Budget stack', () => {
  for (const stage of STAGES) {
    it(`${stage}: monthly budget from the config, notifying the alerts topic`, () => {
      const cfg = STAGE_CONFIGS[stage];
      const t = synthStage(stage).template('budget');
      const [, budget] = single(t, 'AWS::Budgets::Budget');
      const p = budget!.Properties as {
        Budget: { BudgetLimit: { Amount: number; Unit: string }; TimeUnit: string };
        NotificationsWithSubscribers: {
          Notification: { Threshold: number; NotificationType: string };
          Subscribers: { SubscriptionType: string; Address: unknown }[];
        }[];
      };
      assert.deepEqual(p.Budget.BudgetLimit, { Amount: cfg.budget.monthlyLimitUsd, Unit: 'USD' });
      assert.equal(p.Budget.TimeUnit, 'MONTHLY');
      const actual = p.NotificationsWithSubscribers.filter(
        (n) => n.Notification.NotificationType === 'ACTUAL',
      );
      assert.deepEqual(
        actual.map((n) => n.Notification.Threshold),
        [...cfg.budget.thresholdsPercent],
      );
      const [topicId] = single(t, 'AWS::SNS::Topic');
      for (const n of p.NotificationsWithSubscribers) {
        assert.deepEqual(n.Subscribers, [{ SubscriptionType: 'SNS', Address: { Ref: topicId } }]);
      }
    });
  }

  it('encrypts the topic, lets only Budgets publish from outside, and forwards it to Slack', () => {
    const cfg = STAGE_CONFIGS.prod;
    const t = synthStage('prod').template('budget');
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sns:Publish',
            Principal: { Service: 'budgets.amazonaws.com' },
          }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda' });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { SLACK_WEBHOOK_SECRET_NAME: cfg.budget.slackWebhookSecretName } },
    });
    // The webhook is a secret: only its secret's name is in the template.
    assert.doesNotMatch(JSON.stringify(t.toJSON()), /hooks\.slack\.com\/services\/[A-Z0-9]/);
  });
});
