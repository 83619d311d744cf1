#!/usr/bin/env node
// Sherd ships TypeScript sources and runs them through tsx, so there is no build output to keep in sync.
import { register } from 'tsx/esm/api';

register();
await import('../cli/sherd.ts');
