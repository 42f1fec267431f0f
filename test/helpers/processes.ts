/** Real OS processes for end-to-end tests: the host (dist/api/main.js) and the simulator. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { LIFELINE_FLAG } from '../../src/runtime/lifeline.js';

const ROOT = resolve(import.meta.dirname, '../..');

export interface Proc {
  proc: ChildProcess;
  lines: string[];
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/** Spawns `args` and resolves once a stdout/stderr line matches `ready`. */
export async function startProcess(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 30_000,
): Promise<Proc & { match: RegExpMatchArray }> {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    // stdin is a lifeline for children that take LIFELINE_FLAG: they exit when this runner dies
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const match = await new Promise<RegExpMatchArray>((ok, fail) => {
    const timer = setTimeout(() => {
      // Do not leave it running: a host would keep its enclave (and the test run) alive.
      proc.kill('SIGTERM');
      fail(new Error(`not ready: ${args.join(' ')}\n${lines.join('\n')}`));
    }, timeoutMs);
    for (const s of [proc.stdout!, proc.stderr!]) {
      createInterface({ input: s }).on('line', (l) => {
        lines.push(l);
        const m = l.match(ready);
        if (m) {
          clearTimeout(timer);
          ok(m);
        }
      });
    }
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`exited ${code}: ${args.join(' ')}\n${lines.join('\n')}`));
    });
  });
  return {
    proc,
    lines,
    match,
    stop: () =>
      new Promise<void>((done) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return done();
        proc.once('exit', () => done());
        proc.kill('SIGTERM');
      }),
  };
}

export function startSimProcess(): Promise<Proc & { url: string }> {
  return startProcess(
    [
      resolve(ROOT, 'node_modules/tsx/dist/cli.mjs'),
      'src/sim/main.ts',
      '--port',
      '0',
      LIFELINE_FLAG,
    ],
    {},
    /"url":"(http:\/\/127\.0\.0\.1:\d+)"/,
  ).then((p) => ({ ...p, url: p.match[1]! }));
}

/**
 * Every readable, writable mapping of a process's memory (heap, stacks, anonymous maps), read through
 * /proc/<pid>/mem. Needs ptrace rights over the child (we are its parent's user; root in CI).
 */
export async function readProcessMemory(pid: number): Promise<Buffer[]> {
  const { readFileSync, openSync, readSync, closeSync } = await import('node:fs');
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n');
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  const out: Buffer[] = [];
  try {
    for (const line of maps) {
      const m = line.match(/^([0-9a-f]+)-([0-9a-f]+) (r)w/);
      if (!m) continue;
      const start = Number.parseInt(m[1]!, 16);
      const len = Number.parseInt(m[2]!, 16) - start;
      if (len > 1 << 30) continue;
      const buf = Buffer.alloc(len);
      try {
        readSync(fd, buf, 0, len, start);
        out.push(buf);
      } catch {
        /* guard pages and unreadable maps */
      }
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** True when `needle` occurs in any chunk as Latin-1/UTF-8 or as UTF-16LE (V8's two string forms). */
export function memoryContains(chunks: Buffer[], needle: string): boolean {
  const forms = [Buffer.from(needle, 'latin1'), Buffer.from(needle, 'utf16le')];
  return chunks.some((c) => forms.some((f) => c.includes(f)));
}
