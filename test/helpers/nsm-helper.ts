/**
 * Compiles infra/enclave/nsm-attest.c (the production NSM helper) and test/fixtures/fake-nsm.c (an
 * LD_PRELOAD stand-in for the nsm driver's ioctl) with the system gcc, into a temp directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

export interface NsmBinaries {
  helper: string;
  fakeDriver: string;
}

export function buildNsmBinaries(): NsmBinaries {
  const dir = mkdtempSync(join(tmpdir(), 'pa-nsm-'));
  const helper = join(dir, 'nsm-attest');
  const fakeDriver = join(dir, 'fake-nsm.so');
  const warn = ['-O2', '-Wall', '-Wextra', '-Werror'];
  execFileSync('gcc', [
    ...warn,
    '-std=c11',
    '-D_GNU_SOURCE',
    '-o',
    helper,
    join(ROOT, 'infra/enclave/nsm-attest.c'),
  ]);
  execFileSync('gcc', [
    ...warn,
    '-shared',
    '-fPIC',
    '-o',
    fakeDriver,
    join(ROOT, 'test/fixtures/fake-nsm.c'),
  ]);
  return { helper, fakeDriver };
}
