/** The phone-index feature's public module: what other features may use. */
export { findLinksByE164, type LinkRow, policyWarningSql } from './lookup-queries.js';
export { type Match, matchNumber, rankLinks } from './matching.js';
export {
  type AccountInput,
  type LinkInput,
  linkRow,
  removeLinks,
  replaceLinks,
  upsertAccounts,
  upsertLinks,
  upsertLinksSql,
  WATERMARK_CONFLICT,
} from './write-queries.js';
