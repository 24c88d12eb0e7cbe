// Digest authentication: the public surface of engine/auth.
export * from './digest.js';
export { NonceStore, type NonceVerdict } from './nonce-store.js';
