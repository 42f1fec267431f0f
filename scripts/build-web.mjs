// Builds the web client into dist/web/ (docs/web.md): one esbuild bundle of web/src/main.ts (the
// SDK and the verification core included, no Node builtin, no third-party origin), the stylesheet,
// the HTML pages with a Subresource Integrity hash on their only script, and the release manifest
// `release.json` that gives the page the expected image hash (dev: PCR0 = SHA-384 of the enclave
// bundle as built, so this runs after dist/enclave/main.js is written).
//   node scripts/build-web.mjs      (npm run build calls it last)
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

const OUT = 'dist/web';
const ASSETS = join(OUT, 'assets');
mkdirSync(ASSETS, { recursive: true });

const nodeBuiltins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
await build({
  entryPoints: { app: 'web/src/main.ts' },
  outdir: ASSETS,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
  plugins: [
    {
      name: 'no-node-builtins',
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) =>
          nodeBuiltins.has(args.path)
            ? { errors: [{ text: `Node builtin "${args.path}" imported by ${args.importer}` }] }
            : undefined,
        );
      },
    },
  ],
});

// uPlot's own stylesheet goes into the one same-origin stylesheet (the CSP allows no other).
const css = Buffer.concat([
  readFileSync('node_modules/uplot/dist/uPlot.min.css'),
  Buffer.from('\n'),
  readFileSync('web/src/styles.css'),
]);
writeFileSync(join(ASSETS, 'app.css'), css);
writeFileSync(join(ASSETS, 'icon.svg'), readFileSync('web/src/icon.svg'));

const sri = (buf) => `sha384-${createHash('sha384').update(buf).digest('base64')}`;
const hex = (buf, alg) => createHash(alg).update(buf).digest('hex');
const appJs = readFileSync(join(ASSETS, 'app.js'));

for (const page of readdirSync('web/pages').filter((f) => f.endsWith('.html'))) {
  const html = readFileSync(join('web/pages', page), 'utf8')
    .replaceAll('__APP_JS_SRI__', sri(appJs))
    .replaceAll('__APP_CSS_SRI__', sri(css));
  if (/__[A-Z_]+__/.test(html)) throw new Error(`web/pages/${page}: unreplaced placeholder`);
  writeFileSync(join(OUT, page), html);
}

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const manifest = {
  name: pkg.name,
  version: pkg.version,
  measurement: 'dev: PCR0 = SHA-384 of dist/enclave/main.js',
  // What the page pins PCR0 to. A release publishes this value out of band too: paste it to compare.
  image_hash: hex(readFileSync('dist/enclave/main.js'), 'sha384'),
  web: { 'assets/app.js': hex(appJs, 'sha256'), 'assets/app.css': hex(css, 'sha256') },
};
writeFileSync(join(OUT, 'release.json'), `${JSON.stringify(manifest, null, 2)}\n`);
