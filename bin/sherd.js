#!/usr/bin/env node
// Sherd ships TypeScript sources and runs them through tsx, so there is no build output to keep in sync.
// `sherd node ...` belongs to the storage node; everything else to the client.
import { register } from 'tsx/esm/api';

register();
await import(process.argv[2] === 'node' ? '../storage-node/cli.ts' : '../client/cli.ts');
