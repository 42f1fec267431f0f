/** Assertion helpers that name the bad parameter (never its value, which may be secret). */
import { CodedError } from './errors.js';

export type AssertCode = 'ERR_INVALID_ARGUMENT';
export class ArgumentError extends CodedError<AssertCode> {}

export function assertBytes(
  value: unknown,
  name: string,
  length?: number,
): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new ArgumentError('ERR_INVALID_ARGUMENT', `${name} must be a Uint8Array`);
  }
  if (length !== undefined && value.length !== length) {
    throw new ArgumentError('ERR_INVALID_ARGUMENT', `${name} must be ${length} bytes`);
  }
}

export function assertString(value: unknown, name: string, max = 1 << 20): asserts value is string {
  if (typeof value !== 'string' || value.length > max) {
    throw new ArgumentError(
      'ERR_INVALID_ARGUMENT',
      `${name} must be a string of at most ${max} chars`,
    );
  }
}
