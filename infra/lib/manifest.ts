/**
 * The enclave release manifest (`release/enclave-manifest.json`), written by `npm run enclave:build`
 * (scripts/enclave-image.ts `manifestFrom`; a test checks both sides agree):
 *   {"version":1,"image":"…","pcr0":"<96 hex>","pcr1":"…","pcr2":"…","built_at":"<ISO 8601>",
 *    "context_sha384":"<96 hex>","kms_key_id":"arn:aws:kms:…:key/…","kms_region":"…"}
 * PCR0 (the SHA-384 of the whole enclave image) is what the key-ring key policy compares with
 * `kms:RecipientAttestation:ImageSha384`, so this file decides which image can unwrap the ring.
 * The key ARN is baked into the image (so it is measured by PCR0): a host cannot point the enclave
 * at a key it controls. One image, and one manifest, per stage and region.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { StageConfig } from './config.js';
import { InfraConfigError } from './errors.js';

export const DEFAULT_MANIFEST_PATH = 'release/enclave-manifest.json';

export interface EnclaveManifest {
  readonly version: 1;
  readonly image: string;
  readonly pcr0: string;
  readonly pcr1: string;
  readonly pcr2: string;
  readonly built_at: string;
  readonly context_sha384: string;
  readonly kms_key_id: string;
  readonly kms_region: string;
}

const PCR = /^[0-9a-f]{96}$/;
/** The pattern the enclave's own config (src/enclave/config.ts) requires of KMS_KEY_ID. */
const KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/[A-Za-z0-9-]{1,64}$/;
const ALL_ZERO = '0'.repeat(96);

function invalid(what: string): never {
  throw new InfraConfigError('ERR_INFRA_MANIFEST_INVALID', `enclave manifest: ${what}`);
}

/** Validates a parsed manifest; unknown fields are refused so a typo cannot pass silently. */
export function parseEnclaveManifest(value: unknown): EnclaveManifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('not an object');
  const m = value as Record<string, unknown>;
  const allowed = [
    'version',
    'image',
    'pcr0',
    'pcr1',
    'pcr2',
    'built_at',
    'context_sha384',
    'kms_key_id',
    'kms_region',
  ];
  const extra = Object.keys(m).filter((k) => !allowed.includes(k));
  if (extra.length > 0) invalid(`unknown field ${extra[0]}`);
  if (m.version !== 1) invalid('version must be 1');
  if (typeof m.image !== 'string' || m.image.length === 0 || m.image.length > 512) {
    invalid('image must be a non-empty string');
  }
  for (const k of ['pcr0', 'pcr1', 'pcr2', 'context_sha384'] as const) {
    if (typeof m[k] !== 'string' || !PCR.test(m[k])) invalid(`${k} must be 96 lowercase hex`);
  }
  if (typeof m.built_at !== 'string' || Number.isNaN(Date.parse(m.built_at))) {
    invalid('built_at must be an ISO 8601 time');
  }
  const arn = typeof m.kms_key_id === 'string' ? KEY_ARN.exec(m.kms_key_id) : null;
  if (!arn) invalid('kms_key_id must be a KMS key ARN');
  if (m.kms_region !== arn[1]) invalid('kms_region must be the region of kms_key_id');
  return m as unknown as EnclaveManifest;
}

/**
 * A manifest is built for one stage account and region (its key ARN is in the image): refuses
 * one made for another, which would start and then be denied by KMS on every call.
 */
export function checkManifestTarget(
  manifest: EnclaveManifest,
  target: { readonly account: string; readonly region: string },
): void {
  const arn = KEY_ARN.exec(manifest.kms_key_id)!;
  if (arn[1] !== target.region || arn[2] !== target.account)
    throw new InfraConfigError(
      'ERR_INFRA_MANIFEST_TARGET',
      `enclave manifest: built for ${arn[2]}/${arn[1]}, not ${target.account}/${target.region}`,
    );
}

/** Reads the manifest, or returns undefined when the file does not exist (no release built yet). */
export function readEnclaveManifest(path: string): EnclaveManifest | undefined {
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    invalid(`${path} is not JSON`);
  }
  return parseEnclaveManifest(parsed);
}

/**
 * The PCR0 values the key policy admits. The stage override wins over the manifest. An empty
 * result (no release yet, dev/staging only) yields a policy with no Allow at all: fail closed.
 * All-zero is what a `--debug-mode` enclave reports, so it is refused in every stage.
 */
export function resolvePcr0(
  config: StageConfig,
  manifest: EnclaveManifest | undefined,
  opts: { readonly firstKeyRing?: boolean } = {},
): readonly string[] {
  const values = config.release.pcr0Override ?? (manifest ? [manifest.pcr0] : []);
  for (const v of values) {
    const lower = v.toLowerCase();
    if (!PCR.test(lower)) invalid(`stage ${config.stage}: PCR0 override must be 96 hex`);
    if (lower === ALL_ZERO) {
      throw new InfraConfigError(
        'ERR_INFRA_PCR0_DEBUG',
        `stage ${config.stage}: an all-zero PCR0 is a debug-mode enclave and is never trusted`,
      );
    }
  }
  if (values.length > 2) invalid(`stage ${config.stage}: at most two PCR0 values (a rollout)`);
  // The first deploy of a protected stage creates the key ring key before any image can exist
  // (the image bakes in the key's ARN): admitted explicitly, and it admits no image (fail closed).
  if (values.length === 0 && config.protect && !opts.firstKeyRing) {
    throw new InfraConfigError(
      'ERR_INFRA_PCR0_MISSING',
      `stage ${config.stage} needs PCR0: build the enclave (npm run enclave:build) or pass --context enclaveManifest=<path> (first deploy of the key ring: --context firstKeyRing=true)`,
    );
  }
  return values.map((v) => v.toLowerCase());
}
