// Builds the processes with esbuild (deterministic output: the dev PCR0 is the hash of
// dist/enclave/main.js), and a browser bundle of the client SDK that must contain no Node builtin.
import { build } from 'esbuild';
import { cpSync } from 'node:fs';
import { builtinModules } from 'node:module';

const node = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
};

await Promise.all([
  build({
    ...node,
    entryPoints: {
      'enclave/main': 'src/enclave/main.ts',
      'api/main': 'src/api/main.ts',
      'cli/main': 'src/cli/main.ts',
      // the exchange simulator the host starts in development mode (EXCHANGE_SIM)
      'sim/main': 'src/sim/main.ts',
      // the tree pool's worker thread, loaded from beside cli/main.js
      'cli/tree-worker': 'src/cli/tree-worker.ts',
      'keyservice/main': 'src/keyservice/main.ts',
    },
    outdir: 'dist',
  }),
  // Fails the build if the browser-safe client pulls in any Node builtin.
  build({
    entryPoints: { 'web/crypto-helper': 'src/client/crypto-helper.ts' },
    outdir: 'dist',
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    logLevel: 'warning',
    external: [],
    plugins: [
      {
        name: 'no-node-builtins',
        setup(b) {
          const names = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
          b.onResolve({ filter: /.*/ }, (args) =>
            names.has(args.path)
              ? { errors: [{ text: `Node builtin "${args.path}" imported by ${args.importer}` }] }
              : undefined,
          );
        },
      },
    ],
  }),
]);

// The migration runner reads its SQL next to itself (import.meta.url); in the bundle that is dist/api/.
cpSync('src/store/migrations', 'dist/api/migrations', { recursive: true });
await import('./build-web.mjs'); // the web client (docs/web.md), after the enclave bundle it pins
