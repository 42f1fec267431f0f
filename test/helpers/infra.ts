/** Synthesizes a stage the way `cdk synth` does (same cdk.json context), for the infra tests. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, Validations, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { addNagChecks, createStageStacks, type StageStacks } from '../../infra/lib/app-stacks.js';
import { STAGE_CONFIGS, resolveTarget, type StageName } from '../../infra/lib/config.js';
import { readEnclaveManifest, resolvePcr0 } from '../../infra/lib/manifest.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const FIXTURE_MANIFEST = resolve(ROOT, 'test/fixtures/infra/enclave-manifest.json');
export const CDK_JSON = JSON.parse(readFileSync(resolve(ROOT, 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
  [k: string]: unknown;
};

export interface SynthOptions {
  /** Manifest to read PCR0 from; `null` = no release built yet. Default: the test fixture. */
  readonly manifest?: string | null;
  readonly region?: string;
  readonly nag?: boolean;
  /** A new app even if this process already synthesized the same stage (for tests that mutate it). */
  readonly fresh?: boolean;
}

export interface Synthesized {
  readonly app: App;
  readonly stacks: StageStacks;
  readonly pcr0: readonly string[];
  template(kind: keyof StageStacks): Template;
}

const synthesized = new Map<string, Synthesized>();

/** Builds (once per process and options) the stage's stacks, as `cdk synth` would. */
export function synthStage(stage: StageName, opts: SynthOptions = {}): Synthesized {
  const key = JSON.stringify([stage, opts.manifest, opts.region, opts.nag]);
  const cached = opts.fresh ? undefined : synthesized.get(key);
  if (cached) return cached;
  const s = buildStage(stage, opts);
  if (!opts.fresh) synthesized.set(key, s);
  return s;
}

function buildStage(stage: StageName, opts: SynthOptions): Synthesized {
  const target = resolveTarget({
    environment: stage,
    account: STAGE_CONFIGS[stage].account,
    region: opts.region,
  });
  const manifestPath = opts.manifest === undefined ? FIXTURE_MANIFEST : opts.manifest;
  const pcr0 = resolvePcr0(
    target.config,
    manifestPath ? readEnclaveManifest(manifestPath) : undefined,
  );
  // The built-in CloudFormation validator costs ~2.5 s a synth; `cdk synth` keeps it on.
  const app = new App({
    context: { ...CDK_JSON.context, 'aws:cdk:version-reporting': false },
    builtinCloudFormationValidation: false,
  });
  const stacks = createStageStacks(app, target, pcr0);
  if (opts.nag) addNagChecks(app);
  const cache = new Map<string, Template>();
  return {
    app,
    stacks,
    pcr0,
    template(kind) {
      let t = cache.get(kind);
      if (!t) {
        t = Template.fromStack(stacks[kind] as Stack);
        cache.set(kind, t);
      }
      return t;
    },
  };
}

/** Every `Validations.of(x).acknowledge()` under `root`: rule id -> reason. */
export function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  const out: { path: string; id: string; reason: string }[] = [];
  for (const c of root.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        out.push({ path: c.node.path, id, reason });
      }
    }
  }
  return out;
}

/** All resources of one type in a template, as [logicalId, resource]. */
export function resourcesOf(
  t: Template,
  type: string,
): [string, { Properties?: Record<string, unknown>; [k: string]: unknown }][] {
  return Object.entries(t.findResources(type)) as never;
}

/** The one resource of `type` (whose logical id starts with `prefix`), failing if there is not exactly one. */
export function single(
  t: Template,
  type: string,
  prefix = '',
): [string, { Properties?: Record<string, unknown>; [k: string]: unknown }] {
  const found = resourcesOf(t, type).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one ${type} ${prefix}, found ${found.length}`);
  return found[0]!;
}
