// The store's durability primitive lives with the atomic write it serves (lib/write-atomic.ts).
export { fsyncDir } from '../lib/write-atomic.js';
