// The simulated user agent: public surface of engine/ua.
export { WorkerRuntime, type RuntimeConfig, type RoleRuntime, type Credentials } from './runtime.js';
export type { InstanceOutcome, UaHost, HostedInstance } from './ua-host.js';
export { csvIdentities, patternIdentities, expandPattern, CsvError, type Identity, type IdentitySource } from './identity.js';
export { redact } from './redact.js';
