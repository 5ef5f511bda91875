/** The retention feature's public module: what other features may use. */
export { runRetention } from './retention.js';
