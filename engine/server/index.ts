// The embedded reference server: public surface of engine/server.
export { startServer, type SipServer, type ServerOptions, type ServerSnapshot, type LoginOptions } from './server.js';
export type { ServerFaults } from './faults.js';
export { createUserDirectory, type UserSource } from './users.js';
export { buildPidf, readBasicStatus } from './pidf.js';
