/**
 * Starts the real, built enclave process (dist/enclave/main.js) on a Unix socket in a temp dir,
 * with a real local key service process (dist/keyservice/main.js) on loopback beside it, whose
 * policy allows this bundle's PCR0 (or `allowedPcr0`). `npm test` builds first (pretest), so tests
 * always exercise the bundle whose hash is PCR0.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readPublicState } from '../../src/keyservice/state.js';
import type { WireAwsCredentials } from '../../src/wire/messages.js';
import { startProcess, type Proc } from './processes.js';

export const ENCLAVE_BUNDLE = resolve(import.meta.dirname, '../../dist/enclave/main.js');
export const KEYSERVICE_BUNDLE = resolve(import.meta.dirname, '../../dist/keyservice/main.js');

/** The dev PCR0 of a bundle file: its SHA-384 (src/enclave/measure.ts). */
export function bundlePcr0(bundle = ENCLAVE_BUNDLE): string {
  return createHash('sha384').update(readFileSync(bundle)).digest('hex');
}

export interface KeyServiceProcess extends Proc {
  url: string;
  keyArn: string;
  credentials: WireAwsCredentials;
}

export async function startKeyServiceProcess(opts: {
  dataDir: string;
  allowedPcr0?: string[];
}): Promise<KeyServiceProcess> {
  const p = await startProcess(
    [KEYSERVICE_BUNDLE],
    {
      DATA_DIR: opts.dataDir,
      KEYSERVICE_ALLOWED_PCR0: (opts.allowedPcr0 ?? [bundlePcr0()]).join(','),
      LOG_LEVEL: 'info',
    },
    /"event":"keyservice_listening","url":"(http:\/\/127\.0\.0\.1:\d+)"/,
    15_000,
  );
  const s = readPublicState(opts.dataDir);
  return {
    ...p,
    url: p.match[1]!,
    keyArn: s.key_arn,
    credentials: {
      access_key_id: s.access_key_id,
      secret_access_key: s.secret_access_key,
      session_token: null,
    },
  };
}

export interface EnclaveProcess {
  proc: ChildProcess;
  socketPath: string;
  dataDir: string;
  logs: string[];
  keyService: KeyServiceProcess;
  /** Stops the enclave, and the key service when this call started it. */
  stop(): Promise<void>;
}

export async function startEnclaveProcess(
  opts: {
    dataDir?: string;
    env?: Record<string, string>;
    socketPath?: string;
    /** Share a running key service (a second enclave instance); default: start one. */
    keyService?: KeyServiceProcess;
    bundle?: string;
  } = {},
): Promise<EnclaveProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'pa-enclave-'));
  const socketPath = opts.socketPath ?? join(mkdtempSync(join(tmpdir(), 'pa-sock-')), 'e.sock');
  const keyService = opts.keyService ?? (await startKeyServiceProcess({ dataDir }));
  const p = await startProcess(
    [opts.bundle ?? ENCLAVE_BUNDLE],
    {
      ENCLAVE_SOCKET: socketPath,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      KMS_KEY_ID: keyService.keyArn,
      KMS_ENDPOINT: keyService.url,
      ...opts.env,
    },
    /"event":"enclave_listening"/,
    15_000,
  ).catch(async (e: unknown) => {
    if (!opts.keyService) await keyService.stop();
    throw e;
  });
  return {
    proc: p.proc,
    socketPath,
    dataDir,
    logs: p.lines,
    keyService,
    async stop() {
      await p.stop();
      if (!opts.keyService) await keyService.stop();
    },
  };
}
