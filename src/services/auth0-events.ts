import * as z from 'zod';

/**
 * The JSON body of `POST /auth0/events`: what the Action scripts in `actions/` send, one discriminated union
 * on `type`. Field names follow Auth0's event objects (snake_case) so the scripts stay thin copies.
 *
 *   user.registered          post-user-registration: the new user and its phone number, if any
 *   user.login               post-login: account refresh + phone MFA reconciliation
 *   phone.enrollment_check   the one-number-per-user decision alone → EnrollmentAnswer
 *   phone.deliver            send-phone-message / custom-phone-provider: policy (on enrollment), delivery,
 *                            indexing → DeliveryAnswer
 *
 * `occurred_at` is the Action's clock (ms) when it ran: the event time every index write is ordered by.
 */

const text = (max: number) => z.string().max(max);
const nullableText = (max: number) => text(max).nullish();

const identity = z.looseObject({
  provider: text(100),
  // Some social providers report numeric ids.
  user_id: z.union([text(300), z.number()]).transform(String),
  connection: text(200).optional(),
});

export const eventUser = z.object({
  user_id: text(300).min(1),
  email: nullableText(320),
  name: nullableText(500),
  /** The connection's name (event.connection.name); `sms` for passwordless SMS users. */
  connection: nullableText(200),
  /** The connection's strategy, when the Action knows it (`sms`, `auth0`, `google-oauth2`…). */
  strategy: nullableText(100),
  blocked: z.boolean().nullish(),
  /** ISO date of the last login as Auth0 reports it. */
  last_login: nullableText(40),
  phone_number: nullableText(64),
  phone_verified: z.boolean().nullish(),
  /** event.user.identities: more than one means accounts linked into this (primary) user. */
  identities: z.array(identity).max(100).optional(),
});
export type EventUser = z.output<typeof eventUser>;

const occurredAt = z.number().int().positive();

const factor = z.looseObject({
  type: text(100),
  options: z.record(z.string(), z.unknown()).optional(),
});
const method = z.looseObject({
  name: text(200),
  type: text(100).optional(),
  timestamp: text(40).optional(),
});

export const PHONE_CHANNELS = ['sms', 'voice'] as const;
export const DELIVERY_PURPOSES = [
  'enrollment',
  'authentication',
  'blocked_account',
  'change_password',
  'password_breach',
] as const;
export type DeliveryPurpose = (typeof DELIVERY_PURPOSES)[number];
export const DELIVERY_TRIGGERS = ['send-phone-message', 'custom-phone-provider'] as const;

export const userRegisteredEvent = z.object({
  type: z.literal('user.registered'),
  occurred_at: occurredAt,
  user: eventUser,
});

export const userLoginEvent = z.object({
  type: z.literal('user.login'),
  occurred_at: occurredAt,
  user: eventUser,
  mfa: z
    .object({
      /** event.user.multifactor: provider names (`guardian`…); empty when the user has none. */
      multifactor: z.array(text(100)).max(50).optional(),
      /** event.user.enrolledFactors. Absent: unknown, nothing is removed. */
      enrolled_factors: z.array(factor).max(50).optional(),
      /** event.authentication.methods. */
      methods: z.array(method).max(50).optional(),
    })
    .default({}),
});

export const enrollmentCheckEvent = z.object({
  type: z.literal('phone.enrollment_check'),
  occurred_at: occurredAt,
  user: eventUser,
  phone_number: text(64),
  channel: z.enum(PHONE_CHANNELS).optional(),
  trigger: text(100).default('check'),
});

export const phoneDeliverEvent = z.object({
  type: z.literal('phone.deliver'),
  occurred_at: occurredAt,
  trigger: z.enum(DELIVERY_TRIGGERS),
  user: eventUser,
  message: z.object({
    purpose: z.enum(DELIVERY_PURPOSES),
    channel: z.enum(PHONE_CHANNELS),
    recipient: text(64),
    /** The one-time code; hashed on arrival, never stored or logged. */
    code: text(20)
      .regex(/^[0-9A-Za-z]+$/, 'must be letters and digits')
      .optional(),
    /** The rendered SMS text (message_options.text / notification.as_text). */
    text: text(1600).optional(),
    /** The rendered voice text (notification.as_voice). */
    voice_text: text(4000).optional(),
    /** BCP-47 or Auth0's `en_US` style. */
    locale: text(35).optional(),
  }),
});

export const auth0Event = z.discriminatedUnion('type', [
  userRegisteredEvent,
  userLoginEvent,
  enrollmentCheckEvent,
  phoneDeliverEvent,
]);
export type Auth0Event = z.output<typeof auth0Event>;
export type UserRegisteredEvent = z.output<typeof userRegisteredEvent>;
export type UserLoginEvent = z.output<typeof userLoginEvent>;
export type EnrollmentCheckEvent = z.output<typeof enrollmentCheckEvent>;
export type PhoneDeliverEvent = z.output<typeof phoneDeliverEvent>;
export const AUTH0_EVENT_TYPES = auth0Event.options.map((o) => o.shape.type.value);

/** The answer to an enrollment check (alone, or inside a delivery on enrollment). */
export interface EnrollmentAnswer {
  allowed: boolean;
  decision: 'allow' | 'warn' | 'block';
  /** For `block`: ENROLLMENT_BLOCK_MESSAGE, which the Action throws as is. */
  message?: string;
}

export type DeliveryAnswer = (
  | { delivered: true; sid: string }
  | { delivered: false; retryable: boolean; reason: string; message?: string }
) & { enrollment?: EnrollmentAnswer };

/** Account and lifecycle events answer with what was applied (for the Action's logs). */
export interface AppliedAnswer {
  ok: true;
  applied: string[];
}

/** Turns zod issues into one line a person can act on. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
    .join('; ');
}
