import { Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { DeployTarget } from './config.js';

export interface StageStackProps extends StackProps {
  readonly target: DeployTarget;
}

/**
 * Base of every stack: a concrete env from the stage config, the stage's AZs without a lookup,
 * and termination protection on stateful stacks of a protected stage.
 */
export class StageStack extends Stack {
  readonly target: DeployTarget;

  constructor(scope: Construct, kind: string, props: StageStackProps, stateful: boolean) {
    const { config, region } = props.target;
    super(scope, stackName(props.target, kind), {
      ...props,
      env: { account: config.account, region: region.region },
      terminationProtection: stateful && config.protect,
      description: `perf-aggregator ${config.stage} ${region.region}: ${kind}${stateful ? ' (stateful)' : ''}`,
    });
    this.target = props.target;
    Tags.of(this).add('project', 'perf-aggregator');
    Tags.of(this).add('stage', config.stage);
    Tags.of(this).add('stateful', String(stateful));
  }

  /**
   * With a concrete env, a VPC asks for the account's AZs through a context lookup even when it
   * is given explicit zones; answering from config keeps synth offline (research P3).
   */
  override get availabilityZones(): string[] {
    return [...this.target.region.availabilityZones];
  }
}

export function stackName(target: DeployTarget, kind: string): string {
  return `PerfAgg-${target.config.stage}-${target.region.region}-${kind}`;
}

/** Physical-name prefix for resources that need one (roles the key policy names, alarms). */
export function resourcePrefix(target: DeployTarget): string {
  return `perf-aggregator-${target.config.stage}`;
}
