/**
 * Starts the real, built enclave process (dist/enclave/main.js) on a Unix socket in a temp dir.
 * `npm test` builds first (pretest), so tests always exercise the bundle whose hash is PCR0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const ENCLAVE_BUNDLE = resolve(import.meta.dirname, '../../dist/enclave/main.js');

export interface EnclaveProcess {
  proc: ChildProcess;
  socketPath: string;
  dataDir: string;
  logs: string[];
  stop(): Promise<void>;
}

export async function startEnclaveProcess(opts: { dataDir?: string; env?: Record<string, string>; socketPath?: string } = {}): Promise<EnclaveProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'pa-enclave-'));
  const socketPath = opts.socketPath ?? join(mkdtempSync(join(tmpdir(), 'pa-sock-')), 'e.sock');
  const proc = spawn(process.execPath, [ENCLAVE_BUNDLE], {
    env: { ENCLAVE_SOCKET: socketPath, DATA_DIR: dataDir, LOG_LEVEL: 'info', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`enclave did not start: ${logs.join('\n')}`)), 15_000);
    for (const s of [proc.stdout!, proc.stderr!]) {
      createInterface({ input: s }).on('line', (line) => {
        logs.push(line);
        if (line.includes('"event":"enclave_listening"')) {
          clearTimeout(timer);
          ready();
        }
      });
    }
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`enclave exited with ${code}: ${logs.join('\n')}`));
    });
  });
  return {
    proc,
    socketPath,
    dataDir,
    logs,
    stop: () =>
      new Promise<void>((done) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return done();
        proc.once('exit', () => done());
        proc.kill('SIGTERM');
      }),
  };
}
