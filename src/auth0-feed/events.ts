import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * The JSON body of `POST /auth0/events`: what the Action scripts in `actions/` send, one discriminated union
 * on `type`. Field names follow Auth0's event objects (snake_case) so the scripts stay thin copies.
 *
 *   user.registered          post-user-registration: the new user and its phone number, if any
 *   user.login               post-login: account refresh + phone MFA reconciliation
 *   phone.enrollment_check   the one-number-per-user decision alone → EnrollmentAnswer
 *   phone.deliver            send-phone-message / custom-phone-provider: policy (on MFA enrollment),
 *                            delivery, indexing → DeliveryAnswer
 *   phone.verified           verify-phone, once Auth0's /continue ran: the result the page made came back
 *                            in the user's own login, so the number is indexed → ConfirmationAnswer
 *
 * `occurred_at` is the Action's clock (ms) when it ran: the event time every index write is ordered by.
 */

// describeIssues' messages go back to the Action's logs: English, as classic zod has by default.
z.config(en());

const text = (max: number) => z.string().check(z.maxLength(max));
const nullableText = (max: number) => z.nullish(text(max));

const identity = z.looseObject({
  provider: text(100),
  // Some social providers report numeric ids.
  user_id: z.pipe(z.union([text(300), z.number()]), z.transform(String)),
  connection: z.optional(text(200)),
});

export const eventUser = z.object({
  user_id: text(300).check(z.minLength(1)),
  email: nullableText(320),
  name: nullableText(500),
  /** The connection's name (event.connection.name); `sms` for passwordless SMS users. */
  connection: nullableText(200),
  /** The connection's strategy, when the Action knows it (`sms`, `auth0`, `google-oauth2`…). */
  strategy: nullableText(100),
  /**
   * No trigger's event.user has `blocked` or `last_login` (the Actions reference pages), so the scripts send
   * neither; kept for other senders. A user.login's time is its occurred_at.
   */
  blocked: z.nullish(z.boolean()),
  /** ISO date of the last login, when a sender knows it (see `blocked`). */
  last_login: nullableText(40),
  phone_number: nullableText(64),
  phone_verified: z.nullish(z.boolean()),
  /** event.user.identities: more than one means accounts linked into this (primary) user. */
  identities: z.optional(z.array(identity).check(z.maxLength(100))),
});
export type EventUser = z.output<typeof eventUser>;

const occurredAt = z.number().check(z.int(), z.positive());

const factor = z.looseObject({
  type: text(100),
  options: z.optional(z.record(z.string(), z.unknown())),
});
const method = z.looseObject({
  name: text(200),
  type: z.optional(text(100)),
  timestamp: z.optional(text(40)),
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
/**
 * The sign-in flow a phone message belongs to, as the Action could tell from documented fields. Under the
 * Unified Phone Experience one provider serves MFA, passwordless and phone-as-identifier, and Auth0 does not
 * map message types to flows (actions/custom-phone-provider.js, callerpopFlow): `unclassified` is what the
 * fields could not settle. send-phone-message only ever runs for MFA.
 */
export const DELIVERY_FLOWS = ['mfa', 'passwordless', 'phone_identifier', 'unclassified'] as const;
export type DeliveryFlow = (typeof DELIVERY_FLOWS)[number];

export const userRegisteredEvent = z.object({
  type: z.literal('user.registered'),
  occurred_at: occurredAt,
  user: eventUser,
});

export const userLoginEvent = z.object({
  type: z.literal('user.login'),
  occurred_at: occurredAt,
  user: eventUser,
  mfa: z._default(
    z.object({
      /** event.user.multifactor: provider names (`guardian`…); empty when the user has none. */
      multifactor: z.optional(z.array(text(100)).check(z.maxLength(50))),
      /** event.user.enrolledFactors. Absent: unknown, nothing is removed. */
      enrolled_factors: z.optional(z.array(factor).check(z.maxLength(50))),
      /** event.authentication.methods. */
      methods: z.optional(z.array(method).check(z.maxLength(50))),
    }),
    {},
  ),
});

export const enrollmentCheckEvent = z.object({
  type: z.literal('phone.enrollment_check'),
  occurred_at: occurredAt,
  user: eventUser,
  phone_number: text(64),
  channel: z.optional(z.enum(PHONE_CHANNELS)),
  trigger: z._default(text(100), 'check'),
});

export const phoneDeliverEvent = z.object({
  type: z.literal('phone.deliver'),
  occurred_at: occurredAt,
  trigger: z.enum(DELIVERY_TRIGGERS),
  /** Null when Auth0 sent no user: custom-phone-provider's event.user is `{}` before the user exists. */
  user: z.nullish(eventUser),
  message: z.object({
    purpose: z.enum(DELIVERY_PURPOSES),
    /** Absent from older scripts: MFA for send-phone-message, `unclassified` for custom-phone-provider. */
    flow: z.optional(z.enum(DELIVERY_FLOWS)),
    channel: z.enum(PHONE_CHANNELS),
    recipient: text(64),
    /** The one-time code; hashed on arrival, never stored or logged. */
    code: z.optional(text(20).check(z.regex(/^[0-9A-Za-z]+$/, 'must be letters and digits'))),
    /** The rendered SMS text (message_options.text / notification.as_text). */
    text: z.optional(text(1600)),
    /** The rendered voice text (notification.as_voice). */
    voice_text: z.optional(text(4000)),
    /** BCP-47 or Auth0's `en_US` style. */
    locale: z.optional(text(35)),
  }),
});

export const phoneVerifiedEvent = z.object({
  type: z.literal('phone.verified'),
  occurred_at: occurredAt,
  user: eventUser,
  /** The number the result token carried (E.164). */
  phone: text(16).check(z.regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number')),
  /** The result token's `callerpop_result_id`: names the page session that verified the number. */
  result_id: text(100).check(z.minLength(1)),
});

export const auth0Event = z.discriminatedUnion('type', [
  userRegisteredEvent,
  userLoginEvent,
  enrollmentCheckEvent,
  phoneDeliverEvent,
  phoneVerifiedEvent,
]);
export type Auth0Event = z.output<typeof auth0Event>;
export type UserRegisteredEvent = z.output<typeof userRegisteredEvent>;
export type UserLoginEvent = z.output<typeof userLoginEvent>;
export type EnrollmentCheckEvent = z.output<typeof enrollmentCheckEvent>;
export type PhoneDeliverEvent = z.output<typeof phoneDeliverEvent>;
export type PhoneVerifiedEvent = z.output<typeof phoneVerifiedEvent>;
export const AUTH0_EVENT_TYPES = auth0Event.def.options.flatMap((o) => o.shape.type.def.values);

/** The answer to an enrollment check (alone, or inside a delivery on enrollment). */
export interface EnrollmentAnswer {
  allowed: boolean;
  decision: 'allow' | 'warn' | 'block';
  /**
   * For `block`: ENROLLMENT_BLOCK_MESSAGE. send-phone-message throws it (the one way to fail there);
   * custom-phone-provider puts it in api.notification.drop()'s reason, which only Auth0's logs show.
   */
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

/**
 * The answer to phone.verified. `confirmed: false` is final (the Action stops asking): a result callerpop
 * never made or has forgotten, or one made for another user or number.
 */
export interface ConfirmationAnswer {
  ok: true;
  confirmed: boolean;
  reason?: 'unknown_result' | 'other_user' | 'other_phone';
}

/** Turns zod issues into one line a person can act on. */
export function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
    .join('; ');
}
