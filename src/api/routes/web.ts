/**
 * The web client's pages (docs/web.md): `/` (connect), `/r/<leaf_index>` (a shared result, verified
 * in the visitor's browser), `/a/<account>` (account history), their static assets, the release
 * manifest, and `/r/<leaf_index>/badge.svg` (headline numbers rendered here from the stored entry).
 *
 * Everything here lives in one encapsulated plugin so helmet's strict Content-Security-Policy and
 * its other headers apply to these routes only: the JSON API keeps its own headers. Pages and
 * assets are read once from dist/web (built by scripts/build-web.mjs) and served from memory, from
 * a fixed list of names: no path from the request ever reaches the file system.
 */
import helmet from '@fastify/helmet';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fromBase64 } from '../../common/bytes.js';
import { verifySignedJson } from '../../crypto/signed-json.js';
import { nodePlatform } from '../../platform/node.js';
import type { AppDeps } from '../app.js';

/** The strict policy of every page: own-origin script, style, images and fetches; nothing inline. */
export const WEB_CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    connectSrc: ["'self'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    objectSrc: ["'none'"],
    requireTrustedTypesFor: ["'script'"],
    trustedTypes: ["'none'"],
  },
};

/** The badge is an image other sites embed: no script or style at all, loadable cross-origin. */
const BADGE_HELMET = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  crossOriginResourcePolicy: { policy: 'cross-origin' as const },
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'shared.html': 'text/html; charset=utf-8',
  'account.html': 'text/html; charset=utf-8',
  'release.json': 'application/json; charset=utf-8',
  'assets/app.js': 'text/javascript; charset=utf-8',
  'assets/app.css': 'text/css; charset=utf-8',
  'assets/icon.svg': 'image/svg+xml',
};

/** dist/web next to the bundle (dist/api/main.js), or from the sources (tests run src/ with tsx). */
function webDir(): string | null {
  for (const rel of ['../web/', '../../../dist/web/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return null;
}

function loadAssets(dir: string | null): Map<string, Asset> {
  const out = new Map<string, Asset>();
  if (dir === null) return out;
  for (const [name, type] of Object.entries(FILES)) {
    const p = join(dir, name);
    if (!existsSync(p)) continue;
    const body = readFileSync(p);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    out.set(name, { body, type, etag });
  }
  return out;
}

const xmlEscape = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function signed2(x: number): string {
  const s = Math.abs(x)
    .toFixed(2)
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${x < 0 ? '−' : '+'}${s}`;
}

export interface BadgeEntry {
  status: 'live' | 'revoked' | 'missing' | 'unverified';
  payload?: Record<string, unknown>;
}

/**
 * The badge's SVG. Every piece of text is XML-escaped (payload fields come from the database and
 * are treated as untrusted); widths come from a per-character estimate and `textLength`.
 */
export function renderBadge(entry: BadgeEntry, leafIndex: number | null): string {
  const left = 'perf-aggregator';
  let right: string;
  let colour: string;
  if (entry.status === 'live' && entry.payload) {
    const p = entry.payload;
    const cur = typeof p['currency'] === 'string' ? p['currency'].slice(0, 12) : '';
    const parts = [
      [p['exchange'], p['label']]
        .filter((x): x is string => typeof x === 'string')
        .map((x) => x.slice(0, 64))
        .join(' '),
      finite(p['pnl']) ? `PnL ${signed2(p['pnl'])} ${cur}`.trim() : 'PnL n/a',
      finite(p['sharpe']) ? `Sharpe ${p['sharpe'].toFixed(2)}` : 'Sharpe n/a',
      finite(p['trades']) ? `${Math.trunc(p['trades'])} trades` : '',
    ].filter(Boolean);
    right = parts.join(' · ');
    colour = finite(p['pnl']) && p['pnl'] < 0 ? '#a4281b' : '#1f6f43';
  } else if (entry.status === 'revoked') {
    right = 'revoked by the owner';
    colour = '#555555';
  } else if (entry.status === 'unverified') {
    right = 'signature does not verify';
    colour = '#a4281b';
  } else {
    right = 'no such result';
    colour = '#555555';
  }
  const w = (s: string): number => Math.ceil([...s].length * 6.6) + 12;
  const lw = w(left);
  const rw = w(right);
  const title =
    leafIndex === null
      ? `${left}: ${right}`
      : `${left}: ${right} (result #${leafIndex}; verify it at /r/${leafIndex})`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${lw + rw}" height="20" role="img" aria-label="${xmlEscape(title)}">`,
    `<title>${xmlEscape(title)}</title>`,
    `<rect width="${lw}" height="20" fill="#333333"/>`,
    `<rect x="${lw}" width="${rw}" height="20" fill="${colour}"/>`,
    `<g fill="#ffffff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">`,
    `<text x="6" y="14" textLength="${lw - 12}" lengthAdjust="spacingAndGlyphs">${xmlEscape(left)}</text>`,
    `<text x="${lw + 6}" y="14" textLength="${rw - 12}" lengthAdjust="spacingAndGlyphs">${xmlEscape(right)}</text>`,
    `</g></svg>`,
  ].join('');
}

const LEAF_INDEX = /^(0|[1-9][0-9]{0,14})$/;

/** The web plugin; `app.register(webRoutes(deps))`. */
export function webRoutes(deps: Pick<AppDeps, 'logStore' | 'enclave'>) {
  return async function web(app: FastifyInstance): Promise<void> {
    const assets = loadAssets(webDir());
    await app.register(helmet, {
      contentSecurityPolicy: WEB_CSP,
      crossOriginEmbedderPolicy: { policy: 'require-corp' },
    });
    app.addHook('onSend', async (_req, reply) => {
      reply.header(
        'permissions-policy',
        'camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()',
      );
    });

    const send = (name: string) => async (req: FastifyRequest, reply: FastifyReply) => {
      const a = assets.get(name);
      if (!a)
        return reply
          .code(503)
          .type('text/plain; charset=utf-8')
          .send('The web client is not built: run `npm run build`.');
      reply.header('etag', a.etag).header('cache-control', 'no-cache');
      if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
      return reply.type(a.type).send(a.body);
    };
    // Pages and assets are in memory and cheap: they do not use up a visitor's API rate limit.
    const cheap = { config: { rateLimit: false } } as const;
    app.get('/', cheap, send('index.html'));
    app.get('/r/:leaf_index', cheap, send('shared.html'));
    app.get('/a/:account', cheap, send('account.html'));
    app.get('/release.json', cheap, send('release.json'));
    for (const name of ['app.js', 'app.css', 'icon.svg'])
      app.get(`/assets/${name}`, cheap, send(`assets/${name}`));
    app.get('/favicon.ico', cheap, (_req, reply) => reply.redirect('/assets/icon.svg', 301));

    app.get<{ Params: { leaf_index: string } }>(
      '/r/:leaf_index/badge.svg',
      { helmet: BADGE_HELMET },
      async (req, reply) => {
        const raw = req.params.leaf_index;
        const index = LEAF_INDEX.test(raw) ? Number(raw) : -1;
        const leaf = index >= 0 ? await deps.logStore.leafAt(index) : null;
        let entry: BadgeEntry = { status: 'missing' };
        if (leaf && (leaf.payloadJson === null || leaf.signature === null))
          entry = { status: 'revoked' };
        else if (leaf) {
          let payload: Record<string, unknown> | undefined;
          try {
            const p: unknown = JSON.parse(leaf.payloadJson!);
            if (p && typeof p === 'object' && !Array.isArray(p))
              payload = p as Record<string, unknown>;
          } catch {
            payload = undefined;
          }
          // The host checks the signature with the attested key before drawing numbers, so a
          // tampered row is not shown as a result. The proof is the page at /r/<n>, not the badge.
          const { signing_pubkey } = await deps.enclave.identity();
          const ok =
            payload !== undefined &&
            verifySignedJson(nodePlatform, fromBase64(signing_pubkey), {
              payload,
              signature: leaf.signature!,
            });
          entry = ok ? { status: 'live', payload } : { status: 'unverified' };
        }
        return reply
          .code(entry.status === 'missing' ? 404 : 200)
          .type('image/svg+xml; charset=utf-8')
          .header('cache-control', 'public, max-age=60')
          .send(renderBadge(entry, index >= 0 ? index : null));
      },
    );
  };
}
