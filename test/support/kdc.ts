// The tests' MIT KDC is the one `sipstorm run` starts for Kerberos scenarios (engine/server/mit-kdc.ts).
export { kdcAvailable, startKdc, type KdcInstance } from '../../engine/server/mit-kdc.js';
