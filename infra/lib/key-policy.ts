import * as iam from 'aws-cdk-lib/aws-iam';

/** The only condition key that binds a KMS call to an enclave image (its PCR0). */
export const IMAGE_SHA384 = 'kms:RecipientAttestation:ImageSha384';

/**
 * What administrators may do to the key-ring key, spelled out: no wildcards, so nothing that
 * `kms:Create*` would bring along (CreateGrant), no ReEncrypt*, no cryptographic use at all, and
 * no PutKeyPolicy (that belongs to the deploy role alone).
 */
export const KEY_ADMIN_ACTIONS: readonly string[] = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListKeyPolicies',
  'kms:ListKeyRotations',
  'kms:ListGrants',
  'kms:ListResourceTags',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:EnableKeyRotation',
  'kms:DisableKeyRotation',
  'kms:RotateKeyOnDemand',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateKeyDescription',
  'kms:RevokeGrant',
  'kms:RetireGrant',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

/** What the deploy role (CloudFormation) needs beyond the admin list to manage key and alias. */
export const DEPLOY_ROLE_ACTIONS: readonly string[] = [
  'kms:PutKeyPolicy',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
];

/** Operations that release key material; each must carry a matching enclave attestation. */
export const ATTESTED_ACTIONS: readonly string[] = ['kms:Decrypt', 'kms:GenerateDataKey'];
export const DENIED_UNATTESTED: readonly string[] = [
  'kms:Decrypt',
  'kms:GenerateDataKey*',
  'kms:ReEncrypt*',
];

export interface KeyRingPolicyInput {
  readonly accountRootArn: string;
  readonly hostRoleArn: string;
  readonly deployRoleArn: string;
  /** Admitted PCR0 values; empty means no image is admitted yet (the Allow is left out). */
  readonly pcr0: readonly string[];
}

/**
 * The key-ring key policy. KMS grants nothing that is not allowed and never denied, so the
 * explicit Denies close the two ways around a conditioned Allow (grants and ReEncrypt) and any
 * future Allow that forgets the attestation condition. `StringNotEqualsIgnoreCase` is true when
 * the key is absent, so a request without `Recipient` is denied too.
 */
export function keyRingPolicy(input: KeyRingPolicyInput): iam.PolicyDocument {
  const everyone = new iam.AnyPrincipal();
  const statements = [
    new iam.PolicyStatement({
      sid: 'KeyAdministrationWithoutUse',
      principals: [new iam.ArnPrincipal(input.accountRootArn)],
      actions: [...KEY_ADMIN_ACTIONS],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'DeployRoleManagesPolicyAndAlias',
      principals: [new iam.ArnPrincipal(input.deployRoleArn)],
      actions: [...DEPLOY_ROLE_ACTIONS],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'DenyPolicyChangesExceptDeployRole',
      effect: iam.Effect.DENY,
      principals: [everyone],
      actions: ['kms:PutKeyPolicy'],
      resources: ['*'],
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': input.deployRoleArn } },
    }),
    new iam.PolicyStatement({
      sid: 'DenyGrantsToEveryone',
      effect: iam.Effect.DENY,
      principals: [everyone],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
    }),
  ];
  if (input.pcr0.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'AttestedEnclaveOnly',
        principals: [new iam.ArnPrincipal(input.hostRoleArn)],
        actions: [...ATTESTED_ACTIONS],
        resources: ['*'],
        conditions: { StringEqualsIgnoreCase: { [IMAGE_SHA384]: [...input.pcr0] } },
      }),
      new iam.PolicyStatement({
        sid: 'DenyUnattestedUse',
        effect: iam.Effect.DENY,
        principals: [everyone],
        actions: [...DENIED_UNATTESTED],
        resources: ['*'],
        conditions: { StringNotEqualsIgnoreCase: { [IMAGE_SHA384]: [...input.pcr0] } },
      }),
    );
  } else {
    // No release measured yet: nobody may use the key, attested or not.
    statements.push(
      new iam.PolicyStatement({
        sid: 'DenyUnattestedUse',
        effect: iam.Effect.DENY,
        principals: [everyone],
        actions: [...DENIED_UNATTESTED],
        resources: ['*'],
      }),
    );
  }
  return new iam.PolicyDocument({ statements });
}
