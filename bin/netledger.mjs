#!/usr/bin/env node
// Runs the TypeScript sources directly: one less build step between a clone and a running system.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
