// SNS -> Slack incoming webhook. Inlined into the Budget stack (no asset, so templates are stable).
// The webhook URL is a secret: it is read from Secrets Manager at run time, never from config.
'use strict';
const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager');

const sm = new SecretsManagerClient({});
let webhook;

async function webhookUrl() {
  if (webhook) return webhook;
  const out = await sm.send(
    new GetSecretValueCommand({ SecretId: process.env.SLACK_WEBHOOK_SECRET_NAME }),
  );
  const url = String(out.SecretString || '').trim();
  // Refuse anything but a Slack webhook, so a wrong secret cannot send alerts elsewhere.
  if (!/^https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]+$/.test(url)) {
    throw new Error('the webhook secret does not hold a Slack incoming-webhook URL');
  }
  webhook = url;
  return url;
}

exports.handler = async (event) => {
  const url = await webhookUrl();
  for (const record of event.Records || []) {
    const sns = record.Sns || {};
    const text = `*${sns.Subject || 'perf-aggregator alert'}*\n${String(sns.Message || '').slice(0, 3500)}`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
      signal: AbortSignal.timeout(5000),
    });
    // Throwing makes SNS retry the delivery.
    if (!res.ok) throw new Error(`Slack answered HTTP ${res.status}`);
  }
};
