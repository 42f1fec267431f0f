/**
 * CDK app entry: one stage, one region per synth/deploy.
 *   npm run cdk:synth -- --context environment=dev --context account=123456789012 [--context region=…]
 *     [--context enclaveManifest=release/enclave-manifest.json|none] [--context firstKeyRing=true]
 */
import { App } from 'aws-cdk-lib';
import { addNagChecks, createStageStacks } from '../lib/app-stacks.js';
import { resolveTarget } from '../lib/config.js';
import {
  DEFAULT_MANIFEST_PATH,
  checkManifestTarget,
  readEnclaveManifest,
  resolvePcr0,
} from '../lib/manifest.js';

const app = new App();
const ctx = (key: string): unknown => app.node.tryGetContext(key);
// CDK_DEFAULT_ACCOUNT is set by the CLI from the caller's credentials, when there are any.
const target = resolveTarget(
  { environment: ctx('environment'), account: ctx('account'), region: ctx('region') },
  process.env.CDK_DEFAULT_ACCOUNT,
);
// `none`: synthesize with no release manifest (the key ring's first deploy, with firstKeyRing).
const manifestPath = String(ctx('enclaveManifest') ?? DEFAULT_MANIFEST_PATH);
const manifest = manifestPath === 'none' ? undefined : readEnclaveManifest(manifestPath);
// The image bakes in its stage's key ARN: a manifest from another account or region is refused.
if (manifest)
  checkManifestTarget(manifest, { account: target.config.account, region: target.region.region });
const pcr0 = resolvePcr0(target.config, manifest, {
  firstKeyRing: String(ctx('firstKeyRing')) === 'true',
});
createStageStacks(app, target, pcr0);
addNagChecks(app);
app.synth();
