import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ApiStack } from './api-stack.js';
import { BudgetStack } from './budget-stack.js';
import { CertificateStack } from './certificate-stack.js';
import type { DeployTarget } from './config.js';
import { DataStack } from './data-stack.js';
import { EcrStack } from './ecr-stack.js';
import { EnclaveHostStack } from './enclave-host-stack.js';
import { KeysStack } from './keys-stack.js';
import { NetworkStack } from './network-stack.js';

export interface StageStacks {
  readonly budget: BudgetStack;
  readonly network: NetworkStack;
  readonly ecr: EcrStack;
  readonly certificate: CertificateStack;
  readonly keys: KeysStack;
  readonly data: DataStack;
  readonly api: ApiStack;
  readonly enclaveHost: EnclaveHostStack;
}

/**
 * One stage in one region. Stateful stacks (Ecr, Keys, Data) are separate from the stateless
 * ones and carry termination protection in protected stages; the dependency order is
 * Budget, Network, Ecr, Certificate → Keys → Data → Api → EnclaveHost.
 */
export function createStageStacks(
  app: App,
  target: DeployTarget,
  pcr0: readonly string[],
): StageStacks {
  const props = { target };
  const budget = new BudgetStack(app, props);
  const network = new NetworkStack(app, props);
  const ecr = new EcrStack(app, props);
  const certificate = new CertificateStack(app, props);
  const keys = new KeysStack(app, { ...props, pcr0, alerts: budget.alerts });
  const data = new DataStack(app, { ...props, network });
  const api = new ApiStack(app, {
    ...props,
    network,
    certificate: certificate.certificate,
    zone: certificate.zone,
    alerts: budget.alerts,
  });
  const enclaveHost = new EnclaveHostStack(app, {
    ...props,
    network,
    ecr,
    keys,
    data,
    targetGroup: api.targetGroup,
    alerts: budget.alerts,
    pcr0,
  });
  return { budget, network, ecr, certificate, keys, data, api, enclaveHost };
}

/** cdk-nag's AwsSolutions pack runs at every synth; an unacknowledged finding fails it. */
export function addNagChecks(app: App): AwsSolutionsChecks {
  const pack = new AwsSolutionsChecks(app, { verbose: true });
  Validations.of(app).addPlugins(pack);
  return pack;
}
