// Transactions: the public surface of engine/transaction.
export { TransactionLayer, type TransactionLayerOptions } from './layer.js';
export { ClientTransaction, buildAckForNon2xx, type ClientTransactionUser } from './client.js';
export { ServerTransaction } from './server.js';
export { Retransmit2xx } from './retransmit-2xx.js';
export { DEFAULT_TIMERS, newTransactionCounters, type TransactionTimers, type TransactionCounters } from './timers.js';
