/** The inbound feature's public module: what other features may use. */
export { backgroundFor } from './background.js';
export { type Background, publishInteraction, unfinishedRecords } from './handle-inbound.js';
export {
  findInteraction,
  type InteractionFlags,
  type InteractionRecord,
  listInteractions,
  listInteractionsUpdatedSince,
  updateInteraction,
} from './interaction-queries.js';
export { type InteractionView, toInteractionView } from './interaction-view.js';
export { flushInteractionRecorder } from './recorder.js';
export { insertWebhookInteractions } from './recorder-queries.js';
export { twilioRoutes } from './routes.js';
export { routingTwiml, type TwimlConfig } from './twiml.js';
