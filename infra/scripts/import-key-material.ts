/**
 * BYOK for the database CMK: the four steps an operator would otherwise type by hand.
 *   1. aws kms create-key --origin EXTERNAL            (skipped with --key-id)
 *   2. aws kms get-parameters-for-import                (RSAES_OAEP_SHA_256, RSA_2048)
 *   3. openssl rand 32 + openssl pkeyutl (RSA-OAEP-SHA-256 wrap of the material)
 *   4. aws kms import-key-material
 *
 *   npm run kms:import-key-material -- --region eu-central-1 --profile prod-admin \
 *     --alias alias/perf-aggregator-prod/database --escrow-to /secure/usb/db-key.bin [--dry-run]
 *
 * Commands run without a shell (execFile, argument vectors), so no value is ever re-parsed.
 * `--dry-run` prints exactly the commands the run would execute.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CodedError } from '../../src/common/errors.js';

export type ByokErrorCode = 'ERR_BYOK_USAGE' | 'ERR_BYOK_STEP';
export class ByokError extends CodedError<ByokErrorCode> {}

export interface ImportOptions {
  readonly region: string;
  readonly profile?: string;
  /** Existing EXTERNAL-origin key (PendingImport); without it step 1 creates one. */
  readonly keyId?: string;
  readonly alias?: string;
  readonly description: string;
  /** ISO time after which KMS deletes the material; absent: the material does not expire. */
  readonly validTo?: string;
  readonly workdir?: string;
  /** Where to keep an escrow copy of the plaintext material; `null` = explicitly none. */
  readonly escrowTo: string | null;
  readonly dryRun: boolean;
}

export const USAGE = `usage: npm run kms:import-key-material -- --region <region> (--escrow-to <file> | --no-escrow)
         [--profile <name>] [--key-id <uuid|arn>] [--alias alias/<name>] [--description <text>]
         [--valid-to <ISO time>] [--workdir <dir>] [--dry-run]`;

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const PROFILE = /^[A-Za-z0-9_.-]{1,64}$/;
const KEY_UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const KEY_ID = new RegExp(`^(${KEY_UUID}|arn:aws:kms:[a-z0-9-]+:\\d{12}:key/${KEY_UUID})$`);
const ALIAS = /^alias\/[A-Za-z0-9/_-]{1,250}$/;

function usage(message: string): never {
  throw new ByokError('ERR_BYOK_USAGE', `${message}\n${USAGE}`);
}

/** Parses and validates the command line; `now` bounds --valid-to. */
export function parseImportArgs(argv: readonly string[], now: Date): ImportOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        region: { type: 'string' },
        profile: { type: 'string' },
        'key-id': { type: 'string' },
        alias: { type: 'string' },
        description: { type: 'string' },
        'valid-to': { type: 'string' },
        workdir: { type: 'string' },
        'escrow-to': { type: 'string' },
        'no-escrow': { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  const { region, profile, alias } = values;
  if (!region || !REGION.test(region)) usage('--region must be an AWS region such as eu-central-1');
  if (profile !== undefined && !PROFILE.test(profile)) usage('--profile is not a profile name');
  const keyId = values['key-id'];
  if (keyId !== undefined) {
    if (!KEY_ID.test(keyId)) usage('--key-id must be a key id (UUID) or key ARN');
    if (keyId.startsWith('arn:') && keyId.split(':')[3] !== region) {
      usage('--key-id is in another region than --region');
    }
  }
  if (alias !== undefined) {
    if (!ALIAS.test(alias) || alias.startsWith('alias/aws/')) {
      usage('--alias must be alias/<name> and not in the reserved alias/aws/ namespace');
    }
    if (keyId !== undefined) usage('--alias applies only to a key this run creates');
  }
  const validTo = values['valid-to'];
  if (validTo !== undefined) {
    const t = Date.parse(validTo);
    if (Number.isNaN(t) || t <= now.getTime())
      usage('--valid-to must be an ISO time in the future');
  }
  // Losing imported material loses the database; the operator decides, explicitly, about escrow.
  const escrow = values['escrow-to'];
  if ((escrow === undefined) === !values['no-escrow']) {
    usage('choose exactly one of --escrow-to <file> and --no-escrow');
  }
  return {
    region,
    ...(profile !== undefined && { profile }),
    ...(keyId !== undefined && { keyId }),
    ...(alias !== undefined && { alias }),
    description: values.description ?? 'perf-aggregator database (BYOK)',
    ...(validTo !== undefined && { validTo: new Date(validTo).toISOString() }),
    ...(values.workdir !== undefined && { workdir: values.workdir }),
    escrowTo: escrow ?? null,
    dryRun: values['dry-run'],
  };
}

const PLAINTEXT = 'PlaintextKeyMaterial.bin';

/** Placeholder for the key id created in step 1, substituted before later steps run. */
export const KEY_ID_VAR = '$KEY_ID';

export type Step =
  | { kind: 'exec'; title: string; argv: string[]; captureKeyId?: true; stdoutTo?: string }
  | { kind: 'decode-params'; title: string; from: string; publicKey: string; token: string }
  | { kind: 'escrow'; title: string; from: string; to: string }
  | { kind: 'destroy'; title: string; argv: string[] };

export interface Plan {
  readonly workdir: string;
  readonly steps: Step[];
}

/** The exact commands for `opts`, with the work files under `workdir`. */
export function planImport(opts: ImportOptions, workdir: string): Plan {
  const aws = (...args: string[]): string[] => [
    'aws',
    ...args,
    '--region',
    opts.region,
    ...(opts.profile ? ['--profile', opts.profile] : []),
  ];
  const key = opts.keyId ?? KEY_ID_VAR;
  const f = (name: string): string => join(workdir, name);
  const steps: Step[] = [];
  if (!opts.keyId) {
    steps.push({
      kind: 'exec',
      title: '1. create a KMS key without material (origin EXTERNAL)',
      argv: aws(
        'kms',
        'create-key',
        '--origin',
        'EXTERNAL',
        '--key-spec',
        'SYMMETRIC_DEFAULT',
        '--key-usage',
        'ENCRYPT_DECRYPT',
        '--description',
        opts.description,
        '--query',
        'KeyMetadata.KeyId',
        '--output',
        'text',
      ),
      captureKeyId: true,
    });
    if (opts.alias) {
      steps.push({
        kind: 'exec',
        title: '1b. name it',
        argv: aws('kms', 'create-alias', '--alias-name', opts.alias, '--target-key-id', key),
      });
    }
  }
  steps.push(
    {
      kind: 'exec',
      title: '2. get the wrapping public key and import token (RSAES_OAEP_SHA_256, RSA_2048)',
      argv: aws(
        'kms',
        'get-parameters-for-import',
        '--key-id',
        key,
        '--wrapping-algorithm',
        'RSAES_OAEP_SHA_256',
        '--wrapping-key-spec',
        'RSA_2048',
        '--output',
        'json',
      ),
      stdoutTo: f('import-parameters.json'),
    },
    {
      kind: 'decode-params',
      title: '2b. decode PublicKey and ImportToken (base64) from the one response (in-process)',
      from: f('import-parameters.json'),
      publicKey: f('WrappingPublicKey.der'),
      token: f('ImportToken.bin'),
    },
    {
      kind: 'exec',
      title: '3. generate 256 bits of key material',
      argv: ['openssl', 'rand', '-out', f(PLAINTEXT), '32'],
    },
    {
      kind: 'exec',
      title: '3b. wrap it with RSA-OAEP (SHA-256, MGF1 SHA-256) to the KMS wrapping key',
      argv: [
        'openssl',
        'pkeyutl',
        '-encrypt',
        '-in',
        f(PLAINTEXT),
        '-out',
        f('EncryptedKeyMaterial.bin'),
        '-inkey',
        f('WrappingPublicKey.der'),
        '-keyform',
        'DER',
        '-pubin',
        '-pkeyopt',
        'rsa_padding_mode:oaep',
        '-pkeyopt',
        'rsa_oaep_md:sha256',
        '-pkeyopt',
        'rsa_mgf1_md:sha256',
      ],
    },
    {
      kind: 'exec',
      title: '4. import the wrapped material',
      argv: aws(
        'kms',
        'import-key-material',
        '--key-id',
        key,
        '--encrypted-key-material',
        `fileb://${f('EncryptedKeyMaterial.bin')}`,
        '--import-token',
        `fileb://${f('ImportToken.bin')}`,
        ...(opts.validTo
          ? ['--expiration-model', 'KEY_MATERIAL_EXPIRES', '--valid-to', opts.validTo]
          : ['--expiration-model', 'KEY_MATERIAL_DOES_NOT_EXPIRE']),
      ),
    },
  );
  if (opts.escrowTo) {
    steps.push({
      kind: 'escrow',
      title: '5. keep the escrow copy of the material (mode 0400)',
      from: f(PLAINTEXT),
      to: opts.escrowTo,
    });
  }
  steps.push(
    {
      kind: 'destroy',
      title: '6. destroy the working copy of the plaintext material',
      argv: ['shred', '-u', f(PLAINTEXT)],
    },
    {
      kind: 'exec',
      title: '7. check the key is enabled, and print its ARN for infra/lib/config.ts (byokKeyArn)',
      argv: aws(
        'kms',
        'describe-key',
        '--key-id',
        key,
        '--query',
        '[KeyMetadata.KeyState,KeyMetadata.Arn]',
        '--output',
        'text',
      ),
    },
  );
  return { workdir, steps };
}

/** Quotes one word for a POSIX shell, for printing only. */
export function shellQuote(word: string): string {
  if (word === KEY_ID_VAR) return '"$KEY_ID"';
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The plan as a shell transcript: what --dry-run prints. */
export function renderPlan(plan: Plan): string {
  const lines = [`# work directory (mode 0700): ${plan.workdir}`];
  for (const step of plan.steps) {
    lines.push(`# ${step.title}`);
    switch (step.kind) {
      case 'exec': {
        const cmd = step.argv.map(shellQuote).join(' ');
        if (step.captureKeyId) lines.push(`KEY_ID=$(${cmd})`);
        else if (step.stdoutTo) lines.push(`${cmd} > ${shellQuote(step.stdoutTo)}`);
        else lines.push(cmd);
        break;
      }
      case 'decode-params':
        lines.push(
          `#    ${step.from}: .PublicKey -> ${step.publicKey}, .ImportToken -> ${step.token}`,
        );
        break;
      case 'escrow':
        lines.push(`#    ${step.from} -> ${step.to}`);
        break;
      case 'destroy':
        lines.push(step.argv.map(shellQuote).join(' '));
        break;
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Runs the plan step by step; a failing step stops the run and names itself. */
export function runPlan(plan: Plan, log: (line: string) => void): { keyState: string } {
  let keyId: string | undefined;
  let last = '';
  const resolve = (argv: string[]): string[] =>
    argv.map((a) => {
      if (a !== KEY_ID_VAR) return a;
      if (!keyId) throw new ByokError('ERR_BYOK_STEP', 'no key id captured from step 1');
      return keyId;
    });
  for (const step of plan.steps) {
    log(step.title);
    try {
      switch (step.kind) {
        case 'exec':
        case 'destroy': {
          const [file, ...args] = resolve(step.argv);
          const out = execFileSync(file!, args, {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          if (step.kind === 'exec' && step.captureKeyId) keyId = out.trim();
          if (step.kind === 'exec' && step.stdoutTo)
            writeFileSync(step.stdoutTo, out, { mode: 0o600 });
          last = out.trim();
          break;
        }
        case 'decode-params': {
          const p = JSON.parse(readFileSync(step.from, 'utf8')) as Record<string, unknown>;
          if (typeof p.PublicKey !== 'string' || typeof p.ImportToken !== 'string') {
            throw new Error('response lacks PublicKey or ImportToken');
          }
          writeFileSync(step.publicKey, Buffer.from(p.PublicKey, 'base64'), { mode: 0o600 });
          writeFileSync(step.token, Buffer.from(p.ImportToken, 'base64'), { mode: 0o600 });
          break;
        }
        case 'escrow':
          copyFileSync(step.from, step.to);
          chmodSync(step.to, 0o400);
          break;
      }
    } catch (err) {
      // Never leave plaintext material behind a failed run.
      const plaintext = join(plan.workdir, PLAINTEXT);
      if (existsSync(plaintext)) execFileSync('shred', ['-u', plaintext]);
      if (err instanceof ByokError) throw err;
      throw new ByokError('ERR_BYOK_STEP', `step failed: ${step.title}`, { cause: err });
    }
  }
  const [keyState = ''] = last.split(/\s+/);
  if (keyState !== 'Enabled') {
    throw new ByokError(
      'ERR_BYOK_STEP',
      `the key is ${keyState || 'in an unknown state'}, not Enabled`,
    );
  }
  log(`done: ${last}`);
  return { keyState };
}

function main(): void {
  try {
    const opts = parseImportArgs(process.argv.slice(2), new Date());
    if (opts.dryRun) {
      process.stdout.write(renderPlan(planImport(opts, opts.workdir ?? '<temporary directory>')));
      return;
    }
    const workdir = opts.workdir ?? mkdtempSync(join(tmpdir(), 'byok-'));
    chmodSync(workdir, 0o700);
    try {
      runPlan(planImport(opts, workdir), (line) => process.stderr.write(`${line}\n`));
    } finally {
      // The wrapped material and token are useless without KMS, but leave nothing behind.
      if (!opts.workdir) rmSync(workdir, { recursive: true, force: true });
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = err instanceof ByokError && err.code === 'ERR_BYOK_USAGE' ? 64 : 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
