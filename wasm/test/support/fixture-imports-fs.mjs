// A negative control for test/nobuiltins.test.mjs: a module that imports a Node.js built-in.
import { readFileSync } from 'node:fs';
export const reads = typeof readFileSync;
