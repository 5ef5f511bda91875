/** The inbound feature's public module: what other features may use. */
export { publishInteraction } from './handle-inbound.js';
export {
  findInteraction,
  type InteractionFlags,
  type InteractionRecord,
  listInteractions,
  listInteractionsUpdatedSince,
  updateInteraction,
} from './interaction-queries.js';
export { type InteractionView, toInteractionView } from './interaction-view.js';
export { createInteractionRecorder, type InteractionRecorder } from './recorder.js';
export { insertWebhookInteractions } from './recorder-queries.js';
export { twilioRoutes } from './routes.js';
export { routingTwiml, type TwimlConfig } from './twiml.js';
