/**
 * Structured JSON logs (pino). Redaction is a second line of defence: code never passes secrets to
 * the logger, and these paths are censored anyway in case a request object slips through.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-mbx-apikey"]',
  '*.apiKey',
  '*.apiSecret',
  '*.passphrase',
  '*.ciphertext',
  '*.tag',
  '*.nonce',
  '*.ephemeral_pub',
  '*.sealed_ring',
  '*.password',
  '*.connectionString',
  'body',
];

export function createLogger(name: string, level: string, destination?: DestinationStream): Logger {
  return pino(
    { name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { svc: name } },
    destination,
  );
}
