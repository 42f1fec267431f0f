/**
 * CI check: `cdk synth --no-lookups` for every stage and region, as an operator would run it,
 * with the built-in CloudFormation validator and cdk-nag on. Prints the wall time of each synth.
 *   tsx infra/scripts/synth-all.ts [--manifest <path>]
 * A manifest is built for one stage account and region (its key ARN is baked into the image), so
 * it is used for the target it names; every other target is synthesized as the key ring's first
 * deploy (`enclaveManifest=none`, `firstKeyRing=true`: a key policy that admits no image yet).
 * CI passes the test fixture, built for prod in eu-central-1.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { STAGE_CONFIGS } from '../lib/config.js';
import { DEFAULT_MANIFEST_PATH, readEnclaveManifest } from '../lib/manifest.js';

const { values } = parseArgs({ options: { manifest: { type: 'string' } } });
const manifest = values.manifest ?? DEFAULT_MANIFEST_PATH;
if (!existsSync(manifest)) {
  console.error(`no enclave manifest at ${manifest}`);
  process.exit(2);
}
// the target the manifest was built for: arn:aws:kms:<region>:<account>:key/…
const [, , , builtRegion, builtAccount] = readEnclaveManifest(manifest)!.kms_key_id.split(':');
let failed = 0;
for (const c of Object.values(STAGE_CONFIGS)) {
  for (const r of c.regions) {
    const started = process.hrtime.bigint();
    const res = spawnSync(
      'npx',
      [
        'cdk',
        'synth',
        '--no-lookups',
        '--quiet',
        '--output',
        `cdk.out/${c.stage}-${r.region}`,
        '--context',
        `environment=${c.stage}`,
        '--context',
        `account=${c.account}`,
        '--context',
        `region=${r.region}`,
        ...(c.account === builtAccount && r.region === builtRegion
          ? ['--context', `enclaveManifest=${manifest}`]
          : ['--context', 'enclaveManifest=none', '--context', 'firstKeyRing=true']),
      ],
      // Keep the CLI off the network even if cdk.json were changed (research P4, P5).
      { stdio: 'inherit', env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' } },
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(
      `synth ${c.stage} ${r.region}: ${res.status === 0 ? 'ok' : 'FAILED'} in ${seconds.toFixed(1)} s`,
    );
    if (res.status !== 0) failed += 1;
  }
}
process.exit(failed === 0 ? 0 : 1);
