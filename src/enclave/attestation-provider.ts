/**
 * Where attestation documents come from, chosen by TEE_MODE:
 *   dev    the development NSM (./dev-nsm.ts): Nitro format, signed by a root on this machine;
 *          PCRs measured from the bundle (./measure.ts).
 *   nitro  the Nitro Secure Module at /dev/nsm, reached through the `nsm-attest` helper binary
 *          (infra/enclave/nsm-attest.c; docs/adr/0004-nsm-access.md). PCRs are whatever the
 *          hypervisor measured, read back from the module's own document.
 * The service sees only this interface, so nothing above it changes between modes.
 */
import { spawn } from 'node:child_process';
import { decodeCoseSign1 } from '../attestation/cose.js';
import { decodeAttestationDocument } from '../attestation/nitro-document.js';
import {
  decodeAttestationResponse,
  encodeAttestationRequest,
  NSM_RESPONSE_MAX_BYTES,
  NsmError,
} from '../attestation/nsm-codec.js';
import { createDevNsm } from './dev-nsm.js';
import { measureDev } from './measure.js';

export interface AttestRequest {
  publicKey: Uint8Array;
  /** absent for a key-service request, which binds only an ephemeral RSA key in public_key */
  userData?: Uint8Array | null;
  nonce?: Uint8Array | null;
}

export interface AttestationProvider {
  /** Protocol §2 `format`. */
  readonly format: 'dev' | 'aws-nitro';
  /** PCR index → value of the running image; PCR0 is the protocol's `image_hash`. */
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
  /** A document (COSE_Sign1 bytes) binding the X25519 key, the Ed25519 key and the nonce. */
  attest(req: AttestRequest): Promise<Uint8Array>;
}

/**
 * @example
 * const p = await createDevAttestationProvider({ dataDir, bundle: 'dist/enclave/main.js', lockfile: 'package-lock.json' });
 */
export async function createDevAttestationProvider(o: {
  dataDir: string;
  bundle: string;
  lockfile: string;
}): Promise<AttestationProvider> {
  const pcrs = measureDev(o.bundle, o.lockfile);
  const nsm = await createDevNsm({
    dataDir: o.dataDir,
    moduleId: 'perf-aggregator-dev-enclave',
    pcrs,
  });
  return { format: 'dev', pcrs, attest: (req) => nsm.attest(req) };
}

export interface NsmHelperOptions {
  /** Path of the nsm-attest binary. */
  helper: string;
  /** NSM device path handed to the helper (default /dev/nsm). */
  device?: string;
  /** Per-call limit, ms (default 10 000); the NSM answers in milliseconds. */
  timeoutMs?: number;
}

const unavailable = (why: string, cause?: unknown): NsmError =>
  new NsmError(
    'ERR_NSM_UNAVAILABLE',
    `the NSM helper ${why}`,
    undefined,
    cause === undefined ? undefined : { cause },
  );

/**
 * One request → response round trip through the helper: request on stdin, response on stdout.
 * The helper's stderr (an errno name) is kept only as the error's cause, never logged with data.
 */
export function nsmRoundTrip(o: NsmHelperOptions, request: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const child = spawn(o.helper, [o.device ?? '/dev/nsm'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: o.timeoutMs ?? 10_000,
    });
    const out: Buffer[] = [];
    let outLen = 0;
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      outLen += b.length;
      if (outLen > NSM_RESPONSE_MAX_BYTES) child.kill('SIGKILL');
      else out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 512) err += b.toString('utf8');
    });
    child.on('error', (e) => reject(unavailable('could not be started', e)));
    child.on('close', (code, signal) => {
      if (code === 0 && outLen <= NSM_RESPONSE_MAX_BYTES)
        resolve(new Uint8Array(Buffer.concat(out)));
      else
        reject(unavailable(`failed (exit ${code ?? signal})`, new Error(err.trim().slice(0, 200))));
    });
    child.stdin.on('error', () => undefined); // a helper that exits early: reported by 'close'
    child.stdin.end(request);
  });
}

/**
 * The production provider. Reads the image's PCRs once at start from a document it requests for
 * itself (the NSM is local and trusted by construction, so this document is not verified here).
 *
 * @example
 * const p = await createNitroAttestationProvider({ helper: '/usr/local/bin/nsm-attest' });
 * p.pcrs.get(0); // the EIF's PCR0
 */
export async function createNitroAttestationProvider(
  o: NsmHelperOptions,
): Promise<AttestationProvider> {
  const attest = async (req: Partial<AttestRequest>): Promise<Uint8Array> =>
    decodeAttestationResponse(await nsmRoundTrip(o, encodeAttestationRequest(req)));
  const own = decodeAttestationDocument(decodeCoseSign1(await attest({})).payload);
  return { format: 'aws-nitro', pcrs: own.pcrs, attest };
}
