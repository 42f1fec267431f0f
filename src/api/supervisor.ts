/**
 * Starts the enclave (or the local key service) as its own OS process and restarts it when it dies
 * (exponential backoff, capped). The child gets an explicit, minimal environment: never the
 * database URL or any host secret.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LIFELINE_FLAG } from '../runtime/lifeline.js';

export interface SupervisorOptions {
  bundle: string;
  env: Record<string, string>;
  /** Called with each line the enclave logs (JSON, non-sensitive by construction). */
  onLog: (line: string) => void;
  /** Called when a (re)started child is listening, with the line that said so. */
  onReady: (line: string) => void;
  /** The log line fragment that means "listening"; default the enclave's. */
  readyMarker?: string;
  onExit: (code: number | null, signal: string | null) => void;
}

export interface Supervisor {
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export function superviseEnclave(opts: SupervisorOptions): Supervisor {
  let child: ChildProcess | null = null;
  let stopping = false;
  let backoff = 100;
  let restartTimer: NodeJS.Timeout | null = null;

  const start = (): void => {
    // stdin is the child's lifeline: it exits when this process dies, however (src/runtime/lifeline.ts)
    const c = spawn(process.execPath, [opts.bundle, LIFELINE_FLAG], {
      env: opts.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child = c;
    const startedAt = Date.now();
    for (const stream of [c.stdout!, c.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        opts.onLog(line);
        if (line.includes(opts.readyMarker ?? '"event":"enclave_listening"')) opts.onReady(line);
      });
    }
    c.on('exit', (code, signal) => {
      child = null;
      opts.onExit(code, signal);
      if (stopping) return;
      // A child that lived a while resets the backoff; a crash loop backs off up to 5 s.
      backoff = Date.now() - startedAt > 10_000 ? 100 : Math.min(backoff * 2, 5000);
      restartTimer = setTimeout(start, backoff);
    });
  };
  start();

  return {
    get pid() {
      return child?.pid;
    },
    stop() {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const c = child;
      if (!c) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const kill = setTimeout(() => c.kill('SIGKILL'), 3000);
        c.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        c.kill('SIGTERM');
      });
    },
  };
}
