import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag AwsSolutions finding on `scope`, with the reason it is acceptable.
 * `rule` is the finding as nag prints it, e.g. `AwsSolutions-IAM5[Resource::*]`, without the
 * `AwsSolutions::` prefix the CLI suggests: cdk-nag 3.0.2's own check does not strip that prefix.
 */
export function acknowledgeNag(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: rule, reason });
}
