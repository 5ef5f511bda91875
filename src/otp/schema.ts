import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const OTP_STATUSES = ['pending', 'sent', 'refused', 'failed'] as const;
export type OtpStatus = (typeof OTP_STATUSES)[number];
export const OTP_CHANNELS = ['sms', 'voice'] as const;
export type OtpChannel = (typeof OTP_CHANNELS)[number];

/**
 * Every OTP callerpop was asked to deliver, sent or not: rate limits count these, agents see them as risk
 * context, refusals stay visible. The code itself is never stored, only a keyed hash.
 */
export const otpDeliveries = sqliteTable(
  'otp_deliveries',
  {
    id: text('id').primaryKey(),
    /** E.164 when the recipient could be read; otherwise the recipient as given (truncated). */
    recipient: text('recipient').notNull(),
    userId: text('user_id'),
    channel: text('channel', { enum: OTP_CHANNELS }).notNull(),
    /** enrollment, authentication, blocked_account, change_password, password_breach. */
    purpose: text('purpose').notNull(),
    trigger: text('trigger').notNull(),
    status: text('status', { enum: OTP_STATUSES }).notNull(),
    /** Why it was refused or failed (rate_limited_number, country_not_allowed, twilio_21211…). */
    reason: text('reason'),
    /** HMAC-SHA256 of the code; null when the message carried none. */
    codeHash: text('code_hash'),
    twilioSid: text('twilio_sid'),
    country: text('country'),
    /** The destination range: the E.164 number less its last 3 digits (SMS pumping walks a range). */
    range: text('range'),
    numberType: text('number_type'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('otp_deliveries_recipient').on(t.recipient, t.createdAt),
    index('otp_deliveries_user').on(t.userId, t.createdAt),
    index('otp_deliveries_range').on(t.range, t.createdAt),
    index('otp_deliveries_country').on(t.country, t.createdAt),
    index('otp_deliveries_created').on(t.createdAt),
  ],
);
