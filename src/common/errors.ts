/**
 * Typed errors with stable codes. Each module narrows `C` to its own union of codes, so a caller
 * can switch on `err.code` and a test can assert it. Messages are fixed, human text: they never
 * carry a secret, a key, a ciphertext or a driver's message.
 *
 * @example
 * throw new CodedError('ERR_BYTES_BASE64', 'value is not canonical base64');
 */
export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True when `err` is a CodedError carrying `code`. */
export function hasCode(err: unknown, code: string): boolean {
  return err instanceof CodedError && err.code === code;
}
