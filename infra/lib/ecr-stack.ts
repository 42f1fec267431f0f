import { RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import type { Construct } from 'constructs';
import { StageStack, type StageStackProps } from './stage-stack.js';

/**
 * Registries for the two release images. Tags are immutable, so a tag named in the stage config
 * always means the same bytes (and the enclave image the same PCR0); every push is scanned.
 */
export class EcrStack extends StageStack {
  readonly hostRepo: ecr.Repository;
  readonly enclaveRepo: ecr.Repository;

  constructor(scope: Construct, props: StageStackProps) {
    super(scope, 'Ecr', props, true);
    const repo = (id: string, name: string, what: string): ecr.Repository =>
      new ecr.Repository(this, id, {
        repositoryName: `perf-aggregator/${name}`,
        imageScanOnPush: true,
        imageTagMutability: ecr.TagMutability.IMMUTABLE,
        encryption: ecr.RepositoryEncryption.KMS,
        // Released images are evidence of what ran; keep them when the stack goes.
        removalPolicy: RemovalPolicy.RETAIN,
        lifecycleRules: [{ description: `keep the last 50 ${what} images`, maxImageCount: 50 }],
      });
    this.hostRepo = repo('HostRepo', 'host', 'host');
    // Holds the enclave image with the built EIF at /enclave.eif (ECR cannot run an EIF directly).
    this.enclaveRepo = repo('EnclaveRepo', 'enclave', 'enclave');
  }
}
