/**
 * Starts the real, built enclave process (dist/enclave/main.js) on a Unix socket in a temp dir.
 * `npm test` builds first (pretest), so tests always exercise the bundle whose hash is PCR0.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startProcess } from './processes.js';

export const ENCLAVE_BUNDLE = resolve(import.meta.dirname, '../../dist/enclave/main.js');

export interface EnclaveProcess {
  proc: ChildProcess;
  socketPath: string;
  dataDir: string;
  logs: string[];
  stop(): Promise<void>;
}

export async function startEnclaveProcess(
  opts: { dataDir?: string; env?: Record<string, string>; socketPath?: string } = {},
): Promise<EnclaveProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'pa-enclave-'));
  const socketPath = opts.socketPath ?? join(mkdtempSync(join(tmpdir(), 'pa-sock-')), 'e.sock');
  const p = await startProcess(
    [ENCLAVE_BUNDLE],
    { ENCLAVE_SOCKET: socketPath, DATA_DIR: dataDir, LOG_LEVEL: 'info', ...opts.env },
    /"event":"enclave_listening"/,
    15_000,
  );
  return { proc: p.proc, socketPath, dataDir, logs: p.lines, stop: p.stop };
}
