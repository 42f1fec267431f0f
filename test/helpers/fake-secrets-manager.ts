/**
 * A local fake of the AWS Secrets Manager HTTP API (JSON 1.1), enough for GetSecretValue as the
 * SDK sends it: it checks the content type, `X-Amz-Target: secretsmanager.GetSecretValue` and the
 * SigV4 signature (service `secretsmanager`) against its configured access key, and serves
 * versions with the AWSCURRENT / AWSPREVIOUS / AWSPENDING stages like the real service.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySigV4, type SigV4Credentials } from '../../src/keyservice/sigv4.js';

export interface FakeSecretsManager {
  url: string;
  arn: string;
  credentials: SigV4Credentials;
  region: string;
  /** GetSecretValue calls answered successfully, and every refused call's error type. */
  calls: { ok: number; refused: string[] };
  /** A new version becomes AWSCURRENT (the previous one AWSPREVIOUS). Returns its VersionId. */
  put(secretString: string): string;
  close(): Promise<void>;
}

interface Version {
  id: string;
  value: string;
  stages: Set<string>;
  created: number;
}

export async function startFakeSecretsManager(opts: {
  region: string;
  name: string;
}): Promise<FakeSecretsManager> {
  const arn = `arn:aws:secretsmanager:${opts.region}:000000000000:secret:${opts.name}-AbCdEf`;
  const credentials = { accessKeyId: 'AKIAFAKESECRETSMGR01', secretAccessKey: randomUUID() };
  const versions: Version[] = [];
  const calls = { ok: 0, refused: [] as string[] };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const fail = (type: string, message: string): void => {
        calls.refused.push(type);
        const json = JSON.stringify({ __type: type, message });
        res.writeHead(400, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-errortype': type,
        });
        res.end(json);
      };
      const sig = verifySigV4(
        { method: req.method ?? '', url: req.url ?? '/', headers: req.headers, body },
        {
          service: 'secretsmanager',
          region: opts.region,
          credentials: [credentials],
          now: Date.now(),
        },
      );
      if (!sig.ok) return fail(sig.type, sig.message);
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue')
        return fail('UnknownOperationException', 'unknown operation');
      if (!String(req.headers['content-type']).startsWith('application/x-amz-json-1.1'))
        return fail('SerializationException', 'wrong content type');
      let input: { SecretId?: unknown; VersionId?: unknown; VersionStage?: unknown };
      try {
        input = JSON.parse(body.toString('utf8')) as typeof input;
      } catch {
        return fail('SerializationException', 'not JSON');
      }
      if (input.SecretId !== arn && input.SecretId !== opts.name)
        return fail(
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret.",
        );
      const stage = typeof input.VersionStage === 'string' ? input.VersionStage : 'AWSCURRENT';
      const v =
        typeof input.VersionId === 'string'
          ? versions.find((x) => x.id === input.VersionId)
          : versions.find((x) => x.stages.has(stage));
      if (!v)
        return fail(
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret value.",
        );
      calls.ok++;
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({
          ARN: arn,
          Name: opts.name,
          VersionId: v.id,
          SecretString: v.value,
          VersionStages: [...v.stages],
          CreatedDate: v.created / 1000,
        }),
      );
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arn,
    credentials,
    region: opts.region,
    calls,
    put(value) {
      for (const v of versions) {
        v.stages.delete('AWSPREVIOUS');
        if (v.stages.delete('AWSCURRENT')) v.stages.add('AWSPREVIOUS');
      }
      const id = randomUUID();
      versions.push({ id, value, stages: new Set(['AWSCURRENT']), created: Date.now() });
      return id;
    },
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}
