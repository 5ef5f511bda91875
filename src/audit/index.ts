/** The audit feature's public module: what other features may use. */
export { audit, auditRefusal } from './audit.js';
export { queryAudit } from './queries.js';
