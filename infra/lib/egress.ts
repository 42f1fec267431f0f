/**
 * The enclave's way out, and the vsock contract between host and enclave.
 *
 * One design, shared with the app (docs/adr/0005-vsock-transport.md, docs/deploy-nitro.md): the
 * host API runs ONE HTTP CONNECT proxy (src/api/egress-proxy.ts) that admits only the `host:port`
 * pairs in EGRESS_ALLOW_HOSTS and only TLS; socat carries it over ONE vsock port. Inside, every
 * HTTPS client (exchanges and KMS) sets EGRESS_PROXY_URL and starts TLS to the real host name.
 * Not AWS's vsock-proxy, one per destination: that would need a vsock port per host, a name-to-
 * port map inside the enclave and rewritten endpoint URLs (breaking SNI and certificate names),
 * and it relays any bytes, where the app's proxy refuses anything that does not open with a TLS
 * handshake and logs each tunnel's target.
 *
 * The ports below are also baked into the enclave image (infra/enclave/Dockerfile ENV); a test
 * (test/unit/infra/app-config.test.ts) checks that both sides agree.
 */

/** CID the enclave runs at (`nitro-cli run-enclave --enclave-cid`). */
export const ENCLAVE_CID = 16;
/** The enclave's RPC server, reached by the host over vsock (Dockerfile ENCLAVE_VSOCK_PORT). */
export const ENCLAVE_RPC_VSOCK_PORT = 5005;
/** Where the enclave's egress arrives on the parent (Dockerfile EGRESS_VSOCK_PORT). */
export const EGRESS_VSOCK_PORT = 8001;
/** The host's CONNECT proxy, on 127.0.0.1 only. */
export const EGRESS_PROXY_PORT = 3128;

export interface EgressTarget {
  readonly host: string;
  readonly port: 443;
}

/** Exchange API hosts the enclave downloads trade history from (the adapters' default origins). */
export const EXCHANGE_EGRESS: readonly EgressTarget[] = [
  { host: 'api.binance.com', port: 443 },
  { host: 'fapi.binance.com', port: 443 },
  { host: 'api.bybit.com', port: 443 },
  { host: 'www.okx.com', port: 443 },
  // OKX fills-archive files (`fileHref`); assumed host, see src/enclave/exchanges.ts ARCHIVE_HOSTS
  { host: 'static.okx.com', port: 443 },
  { host: 'api.coinbase.com', port: 443 },
  { host: 'api.kraken.com', port: 443 },
];

/**
 * Regional AWS endpoints the enclave itself talks to: KMS only (GenerateDataKey / Decrypt with
 * Recipient, TLS ending inside). Secrets Manager is read by the host, never by the enclave, so it
 * is not on the enclave's list; the host reaches it directly through the VPC endpoint.
 */
export function awsEgress(region: string): EgressTarget[] {
  return [{ host: `kms.${region}.amazonaws.com`, port: 443 }];
}

export function enclaveEgress(region: string): EgressTarget[] {
  return [...EXCHANGE_EGRESS, ...awsEgress(region)];
}

/** The host's EGRESS_ALLOW_HOSTS value. */
export function egressAllowHosts(targets: readonly EgressTarget[]): string {
  return targets.map((t) => `${t.host}:${t.port}`).join(',');
}
