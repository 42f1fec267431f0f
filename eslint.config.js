// Lint rules that keep the architecture's dependency directions (docs/architecture.md).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const core = [
  'src/common',
  'src/crypto',
  'src/attestation',
  'src/tlog',
  'src/aggregates',
  'src/wire',
  'src/client',
];
const browserSafe = 'The core is browser-safe: no Node builtins.';
const bareBuiltins = ['fs', 'path', 'crypto', 'net', 'os', 'child_process', 'buffer'].map(
  (name) => ({ name, message: browserSafe }),
);

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.data/**',
      '.cache/**',
      'test/vectors/**',
      'coverage/**',
      'cdk.out/**',
      'release/enclave/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Lambda handlers inlined into templates run as CommonJS on the Lambda Node runtime.
    files: ['infra/lambda/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Infrastructure code never reaches the service bundles or the browser core. A separate rule
    // name, so the per-layer no-restricted-imports below still apply.
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'cdk-nag', '**/infra/**'],
              message: 'Infrastructure as code stays under infra/; src/ never imports it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: core.map((d) => `${d}/**/*.ts`),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: bareBuiltins,
          patterns: [
            { group: ['node:*'], message: browserSafe },
            {
              group: ['**/api/*', '**/enclave/*', '**/store/*', '**/exchanges/*', '**/runtime/*'],
              message: 'The core depends on nothing outside it.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'Buffer', message: 'Use Uint8Array in the core.' },
        { name: 'process', message: 'The core takes config and time as parameters.' },
      ],
    },
  },
  {
    files: ['src/enclave/**/*.ts', 'src/exchanges/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/api/*', '**/store/*', 'pg', '@electric-sql/*', 'fastify', '@fastify/*'],
              message:
                'The enclave has no database driver, no HTTP server and never imports the host.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/api/**/*.ts', 'src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/enclave/*', '**/exchanges/*'],
              message:
                'The untrusted host never imports the trusted side; they share only src/wire.',
            },
          ],
        },
      ],
    },
  },
);
