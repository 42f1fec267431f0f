import { CodedError } from '../../src/common/errors.js';

/** Codes for refusals at synth time; a test asserts each one. */
export type InfraErrorCode =
  | 'ERR_INFRA_STAGE_UNKNOWN'
  | 'ERR_INFRA_ACCOUNT_MISSING'
  | 'ERR_INFRA_ACCOUNT_MISMATCH'
  | 'ERR_INFRA_REGION_UNKNOWN'
  | 'ERR_INFRA_CONFIG_INVALID'
  | 'ERR_INFRA_MANIFEST_INVALID'
  | 'ERR_INFRA_MANIFEST_TARGET'
  | 'ERR_INFRA_PCR0_MISSING'
  | 'ERR_INFRA_PCR0_DEBUG';

export class InfraConfigError extends CodedError<InfraErrorCode> {}
