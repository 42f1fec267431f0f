/**
 * The enclave image inputs and build (docs/deploy-nitro.md).
 *
 *   measure [--out DIR]   build the deterministic image context and print its SHA-384 (runs anywhere)
 *   build --kms-key-id ARN [--out DIR]
 *                         measure, then `docker build` + `nitro-cli build-enclave`, and write
 *                         release/enclave-manifest.json with PCR0/1/2 (needs Docker and nitro-cli).
 *                         The key-ring key ARN (the Keys stack output KeyRingKeyArn) and its region
 *                         become the image's KMS_KEY_ID / KMS_REGION, so PCR0 measures them: a
 *                         host cannot point the enclave at a key it controls.
 *
 * Reproducible by construction: the bundle is esbuild output (deterministic for the same sources and
 * lockfile); node_modules files are copied from the lockfile-pinned install; the context tarball is
 * written by GNU tar with sorted names, numeric owner 0, normalised modes and every mtime set to
 * SOURCE_DATE_EPOCH (default: the commit time of HEAD, else 0), following reproducible-builds.org.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
const sha384 = (b: Uint8Array): string => createHash('sha384').update(b).digest('hex');

function sourceDateEpoch(): number {
  const env = process.env['SOURCE_DATE_EPOCH'];
  if (env !== undefined) {
    if (!/^[0-9]{1,12}$/.test(env)) throw new Error('SOURCE_DATE_EPOCH must be whole seconds');
    return Number(env);
  }
  const git = spawnSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, encoding: 'utf8' });
  return git.status === 0 && /^\d+\s*$/.test(git.stdout) ? Number(git.stdout.trim()) : 0;
}

interface LockPackage {
  version?: string;
  dependencies?: Record<string, string>;
}

/** `node_modules/...` paths of `name` and its dependencies, resolved the way Node resolves them. */
export function dependencyClosure(packages: Record<string, LockPackage>, name: string): string[] {
  const out = new Set<string>();
  const visit = (from: string, dep: string): void => {
    // Walk up from the requiring package's directory, as Node's resolver does.
    let dir = from;
    for (;;) {
      const candidate = `${dir ? `${dir}/` : ''}node_modules/${dep}`;
      if (packages[candidate]) {
        if (out.has(candidate)) return;
        out.add(candidate);
        for (const d of Object.keys(packages[candidate]!.dependencies ?? {})) visit(candidate, d);
        return;
      }
      if (!dir)
        throw new Error(`${dep} (needed by ${from || 'the bundle'}) is not in the lockfile`);
      const i = dir.lastIndexOf('/node_modules/');
      dir = i < 0 ? '' : dir.slice(0, i);
    }
  };
  visit('', name);
  return [...out].sort();
}

export interface Measurement {
  source_date_epoch: number;
  bundle: { file: string; sha384: string };
  context: { file: string; sha384: string; packages: string[] };
}

/** Builds release/enclave/context/ and context.tar under `out`; returns their hashes. */
export async function measure(out: string): Promise<Measurement> {
  const epoch = sourceDateEpoch();
  const ctx = join(out, 'context');
  rmSync(ctx, { recursive: true, force: true });
  mkdirSync(join(ctx, 'app'), { recursive: true });
  // Everything bundled except ccxt, which the Binance adapter loads by file path (one exchange,
  // not all of them); its closure is copied below.
  await build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'src/enclave/main.ts' },
    outdir: join(ctx, 'app'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['ccxt'],
    legalComments: 'none',
    sourcemap: false,
    logLevel: 'warning',
    // CommonJS dependencies inside an ESM bundle call require(); give them Node's.
    banner: {
      js: "import { createRequire as __pa_cr } from 'node:module'; const require = __pa_cr(import.meta.url);",
    },
  });
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockPackage>;
  };
  const packages = dependencyClosure(lock.packages, 'ccxt');
  for (const p of packages) {
    const version = JSON.parse(readFileSync(join(ROOT, p, 'package.json'), 'utf8')).version;
    if (version !== lock.packages[p]!.version)
      throw new Error(
        `${p} is ${version}, the lockfile says ${lock.packages[p]!.version}: run npm ci`,
      );
    cpSync(join(ROOT, p), join(ctx, 'app', p), {
      recursive: true,
      // ccxt ships TypeScript sources, a browser bundle and a postinstall script we never run.
      filter: (src) =>
        !/\/node_modules\/ccxt\/(ts|dist|postinstall\.js|README\.md)$/.test(src) &&
        !(src.includes('/node_modules/') && /\.(md|map|d\.ts|d\.cts|d\.mts)$/.test(src)) &&
        !src.slice(join(ROOT, p).length).includes('/node_modules/'),
    });
  }
  cpSync(join(ROOT, 'infra/enclave/Dockerfile'), join(ctx, 'Dockerfile'));
  cpSync(join(ROOT, 'infra/enclave/nsm-attest.c'), join(ctx, 'nsm-attest.c'));

  const tarFile = join(out, 'context.tar');
  execFileSync('tar', [
    '--sort=name',
    `--mtime=@${epoch}`,
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mode=go=rX,u+rw,a-s',
    '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    '-cf',
    tarFile,
    '-C',
    ctx,
    '.',
  ]);
  const bundle = join(ctx, 'app', 'main.js');
  return {
    source_date_epoch: epoch,
    bundle: { file: bundle, sha384: sha384(readFileSync(bundle)) },
    context: { file: tarFile, sha384: sha384(readFileSync(tarFile)), packages },
  };
}

/** Read by infra/lib/manifest.ts (parseEnclaveManifest); a test keeps the two in step. */
export interface EnclaveManifest {
  version: 1;
  image: string;
  pcr0: string;
  pcr1: string;
  pcr2: string;
  built_at: string;
  context_sha384: string;
  kms_key_id: string;
  kms_region: string;
}

/** The same pattern the enclave's config requires of KMS_KEY_ID; group 1 is the region. */
const KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/[A-Za-z0-9-]{1,64}$/;

/** The key ARN and its region, or an error naming what is wrong. */
export function kmsKeyArgs(arn: string | undefined): { kmsKeyId: string; kmsRegion: string } {
  const m = arn === undefined ? null : KEY_ARN.exec(arn);
  if (!m)
    throw new Error('--kms-key-id must be the key-ring key ARN (Keys stack output KeyRingKeyArn)');
  return { kmsKeyId: arn!, kmsRegion: m[1]! };
}

/**
 * The release manifest from `nitro-cli build-enclave`'s JSON output
 * (`{"Measurements": {"HashAlgorithm": "Sha384 { ... }", "PCR0": …, "PCR1": …, "PCR2": …}}`).
 * Refuses anything but three 96-hex-digit SHA-384 values, and all-zero PCRs (a debug measurement).
 */
export function manifestFrom(
  nitroCliOutput: string,
  o: { image: string; builtAt: Date; contextSha384: string; kmsKeyId: string; kmsRegion: string },
): EnclaveManifest {
  const m = (JSON.parse(nitroCliOutput) as { Measurements?: Record<string, unknown> }).Measurements;
  const pcr = (k: string): string => {
    const v = m?.[k];
    if (typeof v !== 'string' || !/^[0-9a-f]{96}$/.test(v) || /^0+$/.test(v))
      throw new Error(`nitro-cli output has no valid ${k}`);
    return v;
  };
  if (typeof m?.['HashAlgorithm'] !== 'string' || !m['HashAlgorithm'].startsWith('Sha384'))
    throw new Error('nitro-cli output is not SHA-384 measurements');
  return {
    version: 1,
    image: o.image,
    pcr0: pcr('PCR0'),
    pcr1: pcr('PCR1'),
    pcr2: pcr('PCR2'),
    built_at: o.builtAt.toISOString(),
    context_sha384: o.contextSha384,
    kms_key_id: o.kmsKeyId,
    kms_region: o.kmsRegion,
  };
}

function have(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { out: { type: 'string' }, 'kms-key-id': { type: 'string' } },
  });
  const out = resolve(values.out ?? join(ROOT, 'release/enclave'));
  const cmd = positionals[0];
  if (cmd !== 'measure' && cmd !== 'build') {
    process.stderr.write('usage: enclave-image.ts measure|build [--kms-key-id ARN] [--out DIR]\n');
    return 2;
  }
  const kms = cmd === 'build' ? kmsKeyArgs(values['kms-key-id']) : null;
  const m = await measure(out);
  if (cmd === 'measure') {
    process.stdout.write(`${JSON.stringify(m, null, 2)}\n`);
    return 0;
  }
  const missing = [
    ...(have('docker', ['info']) ? [] : ['a running Docker daemon (docker info failed)']),
    ...(have('nitro-cli', ['--version']) ? [] : ['nitro-cli (aws-nitro-enclaves-cli)']),
  ];
  if (missing.length > 0) {
    process.stderr.write(
      `enclave:build cannot run here: missing ${missing.join(' and ')}.\n` +
        'Run it on a Nitro-enabled build host (docs/deploy-nitro.md, "Build the enclave image").\n' +
        `The image context is ready: ${m.context.file} (SHA-384 ${m.context.sha384}).\n`,
    );
    return 1;
  }
  // the tag names the context and the key: one image per stage and region
  const keyTag = createHash('sha256').update(kms!.kmsKeyId).digest('hex').slice(0, 8);
  const image = `perf-aggregator-enclave:${m.context.sha384.slice(0, 16)}-${keyTag}`;
  execFileSync(
    'docker',
    [
      'build',
      '--build-arg',
      `SOURCE_DATE_EPOCH=${m.source_date_epoch}`,
      '--build-arg',
      `KMS_KEY_ID=${kms!.kmsKeyId}`,
      '--build-arg',
      `KMS_REGION=${kms!.kmsRegion}`,
      '-t',
      image,
      '-',
    ],
    { input: readFileSync(m.context.file), stdio: ['pipe', 'inherit', 'inherit'] },
  );
  const eif = join(ROOT, 'release/enclave.eif');
  const measured = execFileSync(
    'nitro-cli',
    ['build-enclave', '--docker-uri', image, '--output-file', eif],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const manifest = manifestFrom(measured, {
    image,
    builtAt: new Date(),
    contextSha384: m.context.sha384,
    kmsKeyId: kms!.kmsKeyId,
    kmsRegion: kms!.kmsRegion,
  });
  const file = join(ROOT, 'release/enclave-manifest.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
