/**
 * Infra and app agree: the host environment the synthesized user data writes is fed, per stage and
 * region, to the app's real loadApiConfig (src/api/config.ts), and the enclave environment baked
 * into the image (infra/enclave/Dockerfile ENV, with the KMS build arguments) to the real
 * loadEnclaveConfig; the vsock ports and the egress proxy match on both sides; the release manifest
 * that scripts/enclave-image.ts writes is the one infra/lib/manifest.ts reads; and the key policy
 * admits exactly the KMS operations the enclave's key service sends, under the manifest's PCR0.
 *
 * CloudFormation references in the user data are evaluated by a small interpreter below
 * (ImportValue, Ref, Select, Split, Join) with values shaped like what AWS returns, so a new kind
 * of reference fails the test instead of passing unchecked.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { loadApiConfig } from '../../../src/api/config.js';
import { loadEnclaveConfig } from '../../../src/enclave/config.js';
import { STAGE_CONFIGS, STAGES, type StageName } from '../../../infra/lib/config.js';
import {
  EGRESS_PROXY_PORT,
  EGRESS_VSOCK_PORT,
  ENCLAVE_CID,
  ENCLAVE_RPC_VSOCK_PORT,
  EXCHANGE_EGRESS,
} from '../../../infra/lib/egress.js';
import { IMAGE_SHA384 } from '../../../infra/lib/key-policy.js';
import { checkManifestTarget, parseEnclaveManifest } from '../../../infra/lib/manifest.js';
import { manifestFrom } from '../../../scripts/enclave-image.js';
import { ROOT, single, synthStage } from '../../helpers/infra.js';

type Cfn = string | number | { [k: string]: unknown } | Cfn[];

const KEY_UUID = '0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f';

/** Evaluates the intrinsics CDK puts in user data, with AWS-shaped values for the imports. */
function evaluate(v: Cfn, account: string, region: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || Array.isArray(v)) throw new Error(`unexpected ${JSON.stringify(v)}`);
  const [fn, arg] = Object.entries(v)[0] as [string, Cfn];
  const ev = (x: Cfn): string => evaluate(x, account, region);
  switch (fn) {
    case 'Fn::Join': {
      const [sep, parts] = arg as [string, Cfn[]];
      return parts.map(ev).join(sep);
    }
    case 'Fn::Select': {
      const [i, list] = arg as [number, Cfn];
      return splitOf(list, account, region)[i]!;
    }
    case 'Ref':
      if (arg === 'AWS::URLSuffix') return 'amazonaws.com';
      throw new Error(`unknown Ref ${String(arg)}`);
    case 'Fn::ImportValue': {
      const name = String(arg);
      const repo = /Ecr:ExportsOutput(?:Ref|FnGetAtt)(Host|Enclave)Repo/.exec(name);
      if (repo && name.includes('FnGetAtt'))
        return `arn:aws:ecr:${region}:${account}:repository/perf-aggregator/${repo[1]!.toLowerCase()}`;
      if (repo) return `perf-aggregator/${repo[1]!.toLowerCase()}`;
      if (/Keys:ExportsOutputFnGetAttKeyRingKey\w+Arn/.test(name))
        return `arn:aws:kms:${region}:${account}:key/${KEY_UUID}`;
      if (/Data:ExportsOutputRefPostgresSecret/.test(name))
        return `arn:aws:secretsmanager:${region}:${account}:secret:perf-aggregator/database-AbCdEf`;
      throw new Error(`unknown import ${name}`);
    }
    default:
      throw new Error(`unsupported intrinsic ${fn}`);
  }
}

function splitOf(v: Cfn, account: string, region: string): string[] {
  const split = (v as { 'Fn::Split'?: [string, Cfn] })['Fn::Split'];
  if (!split) throw new Error('Fn::Select over something other than Fn::Split');
  return evaluate(split[1], account, region).split(split[0]);
}

/** The user data script of a stage and region, as the instance receives it. */
function userData(stage: StageName, region: string): string {
  const t = synthStage(stage, { region }).template('enclaveHost');
  const [, lt] = single(t, 'AWS::EC2::LaunchTemplate');
  const data = (lt!.Properties!.LaunchTemplateData as { UserData: { 'Fn::Base64': Cfn } }).UserData;
  return evaluate(data['Fn::Base64'], STAGE_CONFIGS[stage].account, region);
}

/** A heredoc file the script writes, as KEY=VALUE pairs. */
function envFile(script: string, path: string): Record<string, string> {
  const body = script.split(`cat > ${path} <<'PERF_EOF'\n`)[1]?.split('\nPERF_EOF')[0];
  assert.ok(body !== undefined, `${path} is written`);
  const env: Record<string, string> = {};
  for (const line of body.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    assert.ok(m, `not KEY=VALUE: ${line}`);
    assert.equal(env[m[1]!], undefined, `${m[1]} set twice`);
    env[m[1]!] = m[2]!;
  }
  return env;
}

/** The final stage's ENV of the enclave Dockerfile, with the build arguments substituted. */
function enclaveImageEnv(args: Record<string, string>): Record<string, string> {
  const file = readFileSync(resolve(ROOT, 'infra/enclave/Dockerfile'), 'utf8');
  const final = file.slice(file.lastIndexOf('\nFROM '));
  const block = /\nENV ((?:[^\n]*\\\n)*[^\n]*)/.exec(final)![1]!;
  const env: Record<string, string> = {};
  for (const pair of block
    .split(/\\\n/)
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [k, v] = pair.split('=') as [string, string];
    env[k] = v.replace(/^\$\{(\w+)\}$/, (_, a: string) => {
      assert.ok(final.includes(`\nARG ${a}\n`), `${a} is a build argument of the final stage`);
      assert.ok(args[a] !== undefined, `build argument ${a} has a value`);
      return args[a]!;
    });
  }
  return env;
}

const nitroOutput = (pcr0: string): string =>
  JSON.stringify({
    Measurements: {
      HashAlgorithm: 'Sha384 { ... }',
      PCR0: pcr0,
      PCR1: '1'.repeat(96),
      PCR2: '2'.repeat(96),
    },
  });

for (const stage of STAGES) {
  for (const { region } of STAGE_CONFIGS[stage].regions) {
    describe(`${stage} / ${region}: the host environment the user data writes`, () => {
      const account = STAGE_CONFIGS[stage].account;
      const script = userData(stage, region);
      const env = envFile(script, '/etc/perf-aggregator/host.env');
      const keyArn = `arn:aws:kms:${region}:${account}:key/${KEY_UUID}`;

      it('is valid for the app (loadApiConfig), in nitro mode with AWS KMS', () => {
        const c = loadApiConfig(env);
        assert.equal(c.TEE_MODE, 'nitro');
        assert.equal(c.ENCLAVE_SPAWN, false);
        assert.equal(c.EXCHANGE_SIM, false);
        assert.equal(c.KEY_SERVICE, 'aws-kms');
        assert.equal(c.KMS_KEY_ID, keyArn, 'the Keys stack key-ring key');
        assert.equal(c.KMS_REGION, region);
        assert.equal(c.AWS_REGION, region);
        assert.match(c.DATABASE_SECRET_ARN!, /^arn:aws:secretsmanager:/);
        assert.equal(c.DATABASE_URL, undefined, 'no credentials in the environment');
        assert.equal(c.TRUST_PROXY, true, 'behind the load balancer');
        assert.equal(c.ENCLAVE_PORT, 3000);
      });

      it('names no variable the app does not read', () => {
        const read = new Set([...Object.keys(loadApiConfig(env)), 'NODE_ENV']);
        assert.deepEqual(
          Object.keys(env).filter((k) => !read.has(k)),
          [],
        );
      });

      it("allow-lists the exchanges and this region's KMS (not Secrets Manager) for the egress proxy", () => {
        const c = loadApiConfig(env);
        assert.deepEqual(c.EGRESS_ALLOW_HOSTS, [
          ...EXCHANGE_EGRESS.map((e) => `${e.host}:443`),
          `kms.${region}.amazonaws.com:443`,
        ]);
        assert.ok(!c.EGRESS_ALLOW_HOSTS.some((h) => h.startsWith('secretsmanager.')));
        assert.equal(c.EGRESS_PROXY_PORT, EGRESS_PROXY_PORT);
      });

      it('bridges the enclave over vsock (RPC and one egress port), no vsock-proxy', () => {
        const c = loadApiConfig(env);
        assert.equal(c.ENCLAVE_VSOCK_CID, ENCLAVE_CID);
        assert.equal(c.ENCLAVE_VSOCK_PORT, ENCLAVE_RPC_VSOCK_PORT);
        assert.equal(c.EGRESS_VSOCK_PORT, EGRESS_VSOCK_PORT);
        assert.match(script, new RegExp(`--enclave-cid ${ENCLAVE_CID} `));
        assert.doesNotMatch(script, /vsock-proxy/);
      });

      it('gives the database CA bundle a file the script fetches from the RDS trust store', () => {
        const c = loadApiConfig(env);
        assert.ok(c.DATABASE_CA_FILE);
        assert.ok(
          script.includes(
            `-o ${c.DATABASE_CA_FILE}.new https://truststore.pki.rds.amazonaws.com/${region}/${region}-bundle.pem`,
          ),
        );
        assert.ok(script.includes(`mv ${c.DATABASE_CA_FILE}.new ${c.DATABASE_CA_FILE}`));
      });

      it('runs the host API with that environment, DATA_DIR and socket in its own directories', () => {
        const c = loadApiConfig(env);
        const unit = script
          .split("cat > /etc/systemd/system/perf-aggregator-host.service <<'PERF_EOF'\n")[1]!
          .split('\nPERF_EOF')[0]!;
        assert.match(unit, /^EnvironmentFile=\/etc\/perf-aggregator\/host\.env$/m);
        assert.match(
          unit,
          /^ExecStart=\/usr\/bin\/node-20 \/opt\/perf-aggregator\/app\/dist\/api\/main\.js$/m,
        );
        const state = /^StateDirectory=(.+)$/m.exec(unit)![1]!;
        const runtime = /^RuntimeDirectory=(.+)$/m.exec(unit)![1]!;
        assert.equal(c.DATA_DIR, `/var/lib/${state}`);
        assert.ok(c.ENCLAVE_SOCKET!.startsWith(`/run/${runtime}/`));
        assert.match(unit, /^RestrictAddressFamilies=.*\bAF_VSOCK\b/m);
      });

      it('the enclave image built for this key is valid for the enclave (loadEnclaveConfig) and meets the host', () => {
        const manifest = parseEnclaveManifest(
          JSON.parse(
            JSON.stringify(
              manifestFrom(nitroOutput('a'.repeat(96)), {
                image: 'perf-aggregator-enclave:x',
                builtAt: new Date(0),
                contextSha384: 'c'.repeat(96),
                kmsKeyId: keyArn,
                kmsRegion: region,
              }),
            ),
          ),
        );
        checkManifestTarget(manifest, { account, region });
        const host = loadApiConfig(env);
        const e = loadEnclaveConfig(
          enclaveImageEnv({ KMS_KEY_ID: manifest.kms_key_id, KMS_REGION: manifest.kms_region }),
        );
        assert.equal(e.TEE_MODE, 'nitro');
        assert.equal(e.KMS_KEY_ID, host.KMS_KEY_ID, 'the image asks KMS for the host key');
        assert.equal(e.KMS_REGION, host.KMS_REGION);
        assert.equal(e.KMS_ENDPOINT, undefined, 'the regional https endpoint, on the allow-list');
        assert.ok(e.EGRESS_PROXY_URL, 'KMS and exchanges go through the egress proxy');
        assert.equal(e.ENCLAVE_VSOCK_PORT, host.ENCLAVE_VSOCK_PORT);
        assert.equal(e.EGRESS_VSOCK_PORT, host.EGRESS_VSOCK_PORT);
      });
    });
  }
}

describe('release manifest: what enclave:build writes is what infra reads', () => {
  const opts = {
    image: 'perf-aggregator-enclave:0123456789abcdef-01234567',
    builtAt: new Date('2026-11-01T00:00:00Z'),
    contextSha384: 'c'.repeat(96),
    kmsKeyId: `arn:aws:kms:eu-central-1:345678901234:key/${KEY_UUID}`,
    kmsRegion: 'eu-central-1',
  };

  it('round-trips through JSON unchanged', () => {
    const written = manifestFrom(nitroOutput('ab'.repeat(48)), opts);
    const read = parseEnclaveManifest(JSON.parse(`${JSON.stringify(written, null, 2)}\n`));
    assert.deepEqual(read, written);
  });

  it('is refused for another account or region (the key ARN is in the image)', () => {
    const m = parseEnclaveManifest(manifestFrom(nitroOutput('ab'.repeat(48)), opts));
    assert.throws(() => checkManifestTarget(m, { account: '345678901234', region: 'us-east-1' }), {
      code: 'ERR_INFRA_MANIFEST_TARGET',
    });
    assert.throws(
      () => checkManifestTarget(m, { account: '123456789012', region: 'eu-central-1' }),
      {
        code: 'ERR_INFRA_MANIFEST_TARGET',
      },
    );
  });

  it("refuses a manifest whose kms_region is not the key ARN's region", () => {
    const m = { ...manifestFrom(nitroOutput('ab'.repeat(48)), opts), kms_region: 'us-east-1' };
    assert.throws(() => parseEnclaveManifest(m), { code: 'ERR_INFRA_MANIFEST_INVALID' });
  });

  it('its PCR0 is what the key policy compares with the Recipient attestation', () => {
    const stage = synthStage('prod');
    const fixture = parseEnclaveManifest(
      JSON.parse(readFileSync(resolve(ROOT, 'test/fixtures/infra/enclave-manifest.json'), 'utf8')),
    );
    assert.deepEqual(stage.pcr0, [fixture.pcr0]);
    const policy = JSON.stringify(stage.template('keys').toJSON());
    assert.ok(policy.includes(`"${IMAGE_SHA384}":["${fixture.pcr0}"]`));
  });

  it('the key policy admits exactly the KMS operations the enclave sends, each with Recipient', () => {
    const src = readFileSync(resolve(ROOT, 'src/enclave/kms-key-service.ts'), 'utf8');
    const sent = [...src.matchAll(/new (\w+)Command\(\{([^}]*)/g)];
    assert.deepEqual(sent.map((m) => `kms:${m[1]}`).sort(), ['kms:Decrypt', 'kms:GenerateDataKey']);
    for (const m of sent) assert.match(m[2]!, /Recipient: r\.info/, `${m[1]} carries Recipient`);
    const json = synthStage('prod').template('keys').toJSON() as {
      Resources: Record<
        string,
        {
          Type: string;
          Properties: {
            KeyPolicy?: {
              Statement: {
                Effect: string;
                Action: string | string[];
                Condition?: Record<string, Record<string, unknown>>;
              }[];
            };
          };
        }
      >;
    };
    const key = Object.values(json.Resources).find(
      (r) => r.Type === 'AWS::KMS::Key' && JSON.stringify(r.Properties).includes(IMAGE_SHA384),
    )!;
    const allows = key.Properties.KeyPolicy!.Statement.filter(
      (s) => s.Effect === 'Allow' && s.Condition?.['StringEqualsIgnoreCase']?.[IMAGE_SHA384],
    );
    assert.equal(allows.length, 1);
    assert.deepEqual([allows[0]!.Action].flat().sort(), ['kms:Decrypt', 'kms:GenerateDataKey']);
  });
});
