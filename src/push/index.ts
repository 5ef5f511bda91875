/**
 * The push feature's public module: what other features may use. Its Durable Object is Worker-only and has
 * its own public module, ./durable-object.ts, which only the Worker entry imports.
 */
export { createMemoryHub, type MemoryHub } from './memory-hub.js';
export { auditedCursor, type ClientFrame, parseCursor, type ServerFrame } from './protocol.js';
export { replayChangesSince } from './replay.js';
export { type AgentHub, type AgentIdentity, nullHub, type PushMessage } from './types.js';
