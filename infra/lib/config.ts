/**
 * Per-stage deployment config: one typed table for dev, staging and prod, and the guard that picks
 * a stage and region for a synth or deploy.
 *
 * The account ids, zones and domains below are this repository's placeholders: an operator puts
 * their own values here (docs/deploy-aws.md, "First-time account setup"). Nothing secret lives in
 * this file: the Slack webhook is read at run time from the Secrets Manager secret named here.
 */
import { InfraConfigError } from './errors.js';

export type StageName = 'dev' | 'staging' | 'prod';
export const STAGES: readonly StageName[] = ['dev', 'staging', 'prod'];

export interface RegionConfig {
  readonly region: string;
  /** Pinned so the VPC needs no availability-zone lookup at synth time. */
  readonly availabilityZones: readonly string[];
  /** The API's public name; the certificate is issued for it. */
  readonly apiDomain: string;
  /** Route 53 public zone that holds `apiDomain` (DNS validation and the alias record). */
  readonly hostedZone: { readonly id: string; readonly name: string };
  /**
   * ARN of the database CMK created with imported material in this region
   * (`npm run kms:import-key-material`). When absent, the Data stack creates a KMS-generated CMK
   * with yearly rotation.
   */
  readonly byokKeyArn?: string;
}

export interface StageConfig {
  readonly stage: StageName;
  /** The only account this stage may be synthesized or deployed to. */
  readonly account: string;
  /** Deployed one at a time (`--context region=`); the first is the default. */
  readonly regions: readonly RegionConfig[];
  /** Prod-grade protection: deletion protection, RETAIN, termination protection on stateful stacks. */
  readonly protect: boolean;
  readonly network: { readonly cidr: string; readonly natGateways: number };
  readonly host: {
    /** Nitro-capable type; with SMT the parent keeps at least 2 vCPUs, so 4 vCPUs or more. */
    readonly instanceType: string;
    readonly minCapacity: number;
    readonly maxCapacity: number;
    readonly rootVolumeGiB: number;
    readonly enclave: { readonly memoryMib: number; readonly cpuCount: number };
  };
  readonly database: {
    readonly instanceType: string;
    readonly allocatedStorageGiB: number;
    readonly maxAllocatedStorageGiB: number;
    readonly multiAz: boolean;
    readonly backupRetentionDays: number;
  };
  readonly release: {
    /** Tag of the host and enclave images in ECR (immutable tags). */
    readonly imageTag: string;
    /**
     * Pins PCR0 values instead of reading the release manifest: two values during a rollout
     * (old and new image), or a stage that deliberately stays on an older release.
     */
    readonly pcr0Override?: readonly string[];
  };
  readonly budget: {
    readonly monthlyLimitUsd: number;
    readonly thresholdsPercent: readonly number[];
    /** Secrets Manager secret holding the Slack incoming-webhook URL (a secret, so not here). */
    readonly slackWebhookSecretName: string;
  };
  /** Role allowed to change the key-ring key policy; defaults to the CDK bootstrap's CloudFormation role. */
  readonly deployRoleArn?: string;
}

const REGION_EU_CENTRAL_1 = ['eu-central-1a', 'eu-central-1b', 'eu-central-1c'];

export const STAGE_CONFIGS: Readonly<Record<StageName, StageConfig>> = {
  dev: {
    stage: 'dev',
    account: '123456789012',
    regions: [
      {
        region: 'eu-central-1',
        availabilityZones: REGION_EU_CENTRAL_1.slice(0, 2),
        apiDomain: 'api.dev.perf-aggregator.example.com',
        hostedZone: { id: 'Z0DEV00000000000000A', name: 'dev.perf-aggregator.example.com' },
      },
    ],
    protect: false,
    network: { cidr: '10.10.0.0/16', natGateways: 1 },
    host: {
      instanceType: 'm6i.xlarge',
      minCapacity: 1,
      maxCapacity: 1,
      rootVolumeGiB: 30,
      enclave: { memoryMib: 4096, cpuCount: 2 },
    },
    database: {
      instanceType: 't4g.micro',
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 50,
      multiAz: false,
      backupRetentionDays: 1,
    },
    release: { imageTag: 'dev' },
    budget: {
      monthlyLimitUsd: 500,
      thresholdsPercent: [50, 80, 100],
      slackWebhookSecretName: 'perf-aggregator/dev/slack-webhook',
    },
  },
  staging: {
    stage: 'staging',
    account: '234567890123',
    regions: [
      {
        region: 'eu-central-1',
        availabilityZones: REGION_EU_CENTRAL_1.slice(0, 2),
        apiDomain: 'api.staging.perf-aggregator.example.com',
        hostedZone: { id: 'Z0STAGING0000000000A', name: 'staging.perf-aggregator.example.com' },
      },
    ],
    protect: false,
    network: { cidr: '10.20.0.0/16', natGateways: 1 },
    host: {
      instanceType: 'm6i.xlarge',
      minCapacity: 1,
      maxCapacity: 2,
      rootVolumeGiB: 30,
      enclave: { memoryMib: 4096, cpuCount: 2 },
    },
    database: {
      instanceType: 't4g.small',
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 100,
      multiAz: false,
      backupRetentionDays: 7,
    },
    release: { imageTag: 'staging' },
    budget: {
      monthlyLimitUsd: 700,
      thresholdsPercent: [50, 80, 100],
      slackWebhookSecretName: 'perf-aggregator/staging/slack-webhook',
    },
  },
  prod: {
    stage: 'prod',
    account: '345678901234',
    regions: [
      {
        region: 'eu-central-1',
        availabilityZones: REGION_EU_CENTRAL_1,
        apiDomain: 'api.perf-aggregator.example.com',
        hostedZone: { id: 'Z0PROD0000000000000A', name: 'perf-aggregator.example.com' },
        byokKeyArn:
          'arn:aws:kms:eu-central-1:345678901234:key/1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9',
      },
      {
        region: 'us-east-1',
        availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
        apiDomain: 'api.us.perf-aggregator.example.com',
        hostedZone: { id: 'Z0PROD0000000000000A', name: 'perf-aggregator.example.com' },
        byokKeyArn: 'arn:aws:kms:us-east-1:345678901234:key/6a7b8c9d-0e1f-4a2b-9c3d-4e5f60718293',
      },
    ],
    protect: true,
    network: { cidr: '10.30.0.0/16', natGateways: 2 },
    host: {
      instanceType: 'm6i.xlarge',
      minCapacity: 2,
      maxCapacity: 4,
      rootVolumeGiB: 30,
      enclave: { memoryMib: 4096, cpuCount: 2 },
    },
    database: {
      instanceType: 'm7g.large',
      allocatedStorageGiB: 100,
      maxAllocatedStorageGiB: 500,
      multiAz: true,
      backupRetentionDays: 35,
    },
    release: { imageTag: '0.1.0' },
    budget: {
      monthlyLimitUsd: 1500,
      thresholdsPercent: [50, 80, 100],
      slackWebhookSecretName: 'perf-aggregator/prod/slack-webhook',
    },
  },
};

/** What the CLI passes: `--context environment=… --context account=… [--context region=…]`. */
export interface TargetRequest {
  readonly environment: unknown;
  readonly account: unknown;
  readonly region?: unknown;
}

export interface DeployTarget {
  readonly config: StageConfig;
  readonly region: RegionConfig;
}

/**
 * Picks the stage and region, refusing anything that would act on the wrong account.
 * `credentialAccount` is the account of the caller's credentials (the CLI sets
 * CDK_DEFAULT_ACCOUNT from them when there are any); a mismatch is refused too, so
 * `--profile` cannot point a prod synth at another account.
 */
export function resolveTarget(req: TargetRequest, credentialAccount?: string): DeployTarget {
  const name = req.environment;
  if (typeof name !== 'string' || !(STAGES as readonly string[]).includes(name)) {
    throw new InfraConfigError(
      'ERR_INFRA_STAGE_UNKNOWN',
      `--context environment must be one of ${STAGES.join(', ')}`,
    );
  }
  const config = STAGE_CONFIGS[name as StageName];
  validateStageConfig(config);
  if (typeof req.account !== 'string' || req.account === '') {
    throw new InfraConfigError(
      'ERR_INFRA_ACCOUNT_MISSING',
      `--context account=<12 digits> is required (stage ${config.stage})`,
    );
  }
  if (req.account !== config.account) {
    throw new InfraConfigError(
      'ERR_INFRA_ACCOUNT_MISMATCH',
      `stage ${config.stage} is pinned to account ${config.account}, not ${req.account}`,
    );
  }
  if (credentialAccount && credentialAccount !== config.account) {
    throw new InfraConfigError(
      'ERR_INFRA_ACCOUNT_MISMATCH',
      `the credentials belong to account ${credentialAccount}; stage ${config.stage} is pinned to ${config.account}`,
    );
  }
  const region =
    req.region === undefined
      ? config.regions[0]
      : config.regions.find((r) => r.region === req.region);
  if (!region) {
    throw new InfraConfigError(
      'ERR_INFRA_REGION_UNKNOWN',
      `stage ${config.stage} deploys to ${config.regions.map((r) => r.region).join(', ')} only`,
    );
  }
  return { config, region };
}

/** Checks the table's invariants; a test runs it over every stage. */
export function validateStageConfig(c: StageConfig): void {
  const bad = (what: string): never => {
    throw new InfraConfigError('ERR_INFRA_CONFIG_INVALID', `stage ${c.stage}: ${what}`);
  };
  if (!/^\d{12}$/.test(c.account)) bad('account must be 12 digits');
  if (c.regions.length === 0) bad('at least one region');
  for (const r of c.regions) {
    if (r.availabilityZones.length < 2) bad(`${r.region}: at least two availability zones`);
    if (!r.availabilityZones.every((az) => az.startsWith(r.region))) {
      bad(`${r.region}: availability zones must be in the region`);
    }
    if (!(r.apiDomain === r.hostedZone.name || r.apiDomain.endsWith(`.${r.hostedZone.name}`))) {
      bad(`${r.region}: apiDomain must be inside the hosted zone`);
    }
  }
  const { enclave } = c.host;
  if (enclave.cpuCount < 2 || enclave.cpuCount % 2 !== 0) {
    bad('enclave cpuCount must be an even number >= 2 (whole cores with SMT)');
  }
  if (enclave.memoryMib < 1024) bad('enclave memoryMib must be at least 1024');
  if (c.host.minCapacity < 1 || c.host.maxCapacity < c.host.minCapacity) bad('host capacity');
  if (c.protect && !c.database.multiAz) bad('a protected stage runs Multi-AZ');
  if (c.protect && c.network.natGateways < 2)
    bad('a protected stage runs at least two NAT gateways');
  if (c.budget.monthlyLimitUsd <= 0) bad('budget must be positive');
  if (!c.budget.thresholdsPercent.every((p) => p > 0 && p <= 200)) bad('budget thresholds');
  for (const r of c.regions) {
    if (r.byokKeyArn === undefined) continue;
    const m = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):key\/[0-9a-f-]{36}$/.exec(r.byokKeyArn);
    if (!m || m[1] !== r.region || m[2] !== c.account) {
      bad(`${r.region}: byokKeyArn must be a KMS key ARN in the stage account and region`);
    }
  }
}

/** The role that may call kms:PutKeyPolicy: CloudFormation's execution role from `cdk bootstrap`. */
export function deployRoleArn(c: StageConfig, region: string): string {
  return (
    c.deployRoleArn ??
    `arn:aws:iam::${c.account}:role/cdk-hnb659fds-cfn-exec-role-${c.account}-${region}`
  );
}
