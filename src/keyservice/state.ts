/**
 * The local key service's durable state in `<DATA_DIR>/keyservice/` (directory 0700, files 0600):
 * `master.key` (32 random bytes: the stand-in for KMS key material, which never leaves this process
 * in production either) and `state.json` (the key ARN and the dev access key pair the host hands to
 * the enclave so it can sign its KMS requests). Created once, atomically, on first start.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  mkdtempSync,
} from 'node:fs';
import { join } from 'node:path';

export interface KeyServiceState {
  masterKey: Uint8Array;
  keyArn: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface PublicKeyServiceState {
  key_arn: string;
  access_key_id: string;
  secret_access_key: string;
}

const DIR = 'keyservice';
const KEY_ARN_RE = /^arn:aws:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/;

export function stateDir(dataDir: string): string {
  return join(dataDir, DIR);
}

function read(dir: string): KeyServiceState {
  const masterKey = new Uint8Array(readFileSync(join(dir, 'master.key')));
  const s = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as PublicKeyServiceState;
  if (
    masterKey.length !== 32 ||
    typeof s.key_arn !== 'string' ||
    !KEY_ARN_RE.test(s.key_arn) ||
    typeof s.access_key_id !== 'string' ||
    typeof s.secret_access_key !== 'string'
  )
    throw new Error('key service state is unusable');
  return {
    masterKey,
    keyArn: s.key_arn,
    accessKeyId: s.access_key_id,
    secretAccessKey: s.secret_access_key,
  };
}

/** Reads the credentials and key ARN only (what the host passes to the enclave). */
export function readPublicState(dataDir: string): PublicKeyServiceState {
  return JSON.parse(
    readFileSync(join(stateDir(dataDir), 'state.json'), 'utf8'),
  ) as PublicKeyServiceState;
}

export function loadOrCreateState(dataDir: string, region: string): KeyServiceState {
  const dir = stateDir(dataDir);
  try {
    return read(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tmp = mkdtempSync(join(dataDir, '.keyservice-'));
  try {
    writeFileSync(join(tmp, 'master.key'), randomBytes(32), { mode: 0o600, flag: 'wx' });
    const state: PublicKeyServiceState = {
      key_arn: `arn:aws:kms:${region}:000000000000:key/${randomUUID()}`,
      access_key_id: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secret_access_key: randomBytes(30).toString('base64'),
    };
    writeFileSync(join(tmp, 'state.json'), JSON.stringify(state), { mode: 0o600, flag: 'wx' });
    chmodSync(tmp, 0o700);
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e; // otherwise another process won the race
  }
  return read(dir);
}
