/** Builds protocol requests the way an independent client would, from the SDK. */
import { CryptoHelper, type SealedCredentials } from '../../src/client/crypto-helper.js';
import type { FastifyInstance } from 'fastify';

export async function quote(app: FastifyInstance, nonce?: string) {
  const res = await app.inject({
    method: 'GET',
    url: `/attestation/quote${nonce ? `?nonce=${encodeURIComponent(nonce)}` : ''}`,
  });
  if (res.statusCode !== 200) throw new Error(`quote failed: ${res.body}`);
  return res.json() as {
    quote: string;
    enclave_pubkey: string;
    signing_pubkey: string;
    image_hash: string;
    format: 'dev';
  };
}

export async function seal(
  app: FastifyInstance,
  creds: { exchange: string; apiKey: string; apiSecret: string },
): Promise<SealedCredentials> {
  const q = await quote(app);
  return CryptoHelper.encryptCredentials(creds, q.enclave_pubkey);
}

export function submit(app: FastifyInstance, body: unknown) {
  return app.inject({ method: 'POST', url: '/enclave/submit_key', payload: body as object });
}

export const META = { exchange: 'binance', label: 'main', ttl: 3600 };
