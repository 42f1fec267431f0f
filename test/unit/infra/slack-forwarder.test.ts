/**
 * The Budget stack's SNS -> Slack forwarder (infra/lambda/slack-forwarder.cjs), run in-process
 * against a local Secrets Manager endpoint (a real HTTP server speaking the JSON 1.1 protocol and
 * checking what the service checks first: target, content type, a SigV4 credential scope) and a
 * local Slack webhook receiver.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';

const require = createRequire(import.meta.url);
const HANDLER = require.resolve('../../../infra/lambda/slack-forwarder.cjs');
const SECRET_NAME = 'perf-aggregator/dev/slack-webhook';
const SLACK_PATH = '/services/T0000/B0000/abcdefABCDEF1234';

let secretValue = `https://hooks.slack.com${SLACK_PATH}`;
const slackPosts: { path: string; body: unknown }[] = [];
let smCalls = 0;

const readBody = (req: IncomingMessage) =>
  new Promise<string>((ok) => {
    let s = '';
    req.on('data', (c) => (s += c));
    req.on('end', () => ok(s));
  });

const secretsManager = createServer(async (req, res) => {
  const body = await readBody(req);
  smCalls += 1;
  const auth = String(req.headers.authorization ?? '');
  const bad = (code: number, type: string) => {
    res.writeHead(code, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({ __type: type, message: type }));
  };
  if (
    !/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-central-1\/secretsmanager\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.test(
      auth,
    )
  ) {
    return bad(403, 'UnrecognizedClientException');
  }
  if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue')
    return bad(400, 'UnknownOperationException');
  if (req.headers['content-type'] !== 'application/x-amz-json-1.1')
    return bad(400, 'SerializationException');
  const { SecretId } = JSON.parse(body) as { SecretId: string };
  if (SecretId !== SECRET_NAME) return bad(400, 'ResourceNotFoundException');
  res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify({ Name: SecretId, SecretString: secretValue, VersionId: 'v1' }));
});

const slack = createServer(async (req, res) => {
  const body = await readBody(req);
  if (req.method !== 'POST' || req.headers['content-type'] !== 'application/json') {
    res.writeHead(400).end('invalid_payload');
    return;
  }
  slackPosts.push({ path: req.url ?? '', body: JSON.parse(body) });
  res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
});

const listen = (s: Server) =>
  new Promise<number>((ok) =>
    s.listen(0, '127.0.0.1', () => ok((s.address() as AddressInfo).port)),
  );
const realFetch = globalThis.fetch;

type Handler = (event: unknown) => Promise<void>;
function freshHandler(): Handler {
  delete require.cache[HANDLER];
  return (require(HANDLER) as { handler: Handler }).handler;
}
const event = (subject: string, message: string) => ({
  Records: [{ Sns: { Subject: subject, Message: message } }],
});

describe('Slack forwarder', () => {
  before(async () => {
    const smPort = await listen(secretsManager);
    const slackPort = await listen(slack);
    Object.assign(process.env, {
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'test-secret-access-key',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${smPort}`,
      SLACK_WEBHOOK_SECRET_NAME: SECRET_NAME,
    });
    // hooks.slack.com is answered by the local receiver (this box has no internet).
    globalThis.fetch = (input, init) => {
      const url = new URL(String(input));
      assert.equal(url.origin, 'https://hooks.slack.com');
      return realFetch(`http://127.0.0.1:${slackPort}${url.pathname}`, init);
    };
  });
  after(() => {
    globalThis.fetch = realFetch;
    secretsManager.close();
    slack.close();
  });

  it('posts each SNS record to the webhook read from Secrets Manager, reading the secret once', async () => {
    const handler = freshHandler();
    await handler(event('ALARM: KeyRingPolicyChanged', 'policy changed'));
    await handler(event('AWS Budgets: 80%', 'actual cost above 80 %'));
    assert.equal(smCalls, 1);
    assert.deepEqual(slackPosts, [
      { path: SLACK_PATH, body: { text: '*ALARM: KeyRingPolicyChanged*\npolicy changed' } },
      { path: SLACK_PATH, body: { text: '*AWS Budgets: 80%*\nactual cost above 80 %' } },
    ]);
  });

  it('refuses a secret that is not a Slack webhook URL, and sends nothing', async () => {
    secretValue = 'https://attacker.example/collect';
    const before = slackPosts.length;
    await assert.rejects(freshHandler()(event('x', 'y')), /not hold a Slack incoming-webhook URL/);
    assert.equal(slackPosts.length, before);
  });
});
