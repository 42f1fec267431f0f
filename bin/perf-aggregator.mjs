#!/usr/bin/env node
// The CLI runs from source through tsx, so `npx perf-aggregator` works without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
