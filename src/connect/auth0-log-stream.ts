import type { Management } from 'auth0';
import { type Auth0Pass, read, write } from './auth0-context.js';
import { fingerprint, matchesFingerprint } from './state.js';

/**
 * The custom webhook log stream (OAS post_log-streams / patch_log-streams_by_id; main/docs/customize/
 * log-streams/custom-log-streams.mdx): type `http`, `sink.httpEndpoint` {PUBLIC_BASE_URL}/auth0/log-stream,
 * `httpAuthorization` AUTH0_LOG_STREAM_TOKEN ("the value in the Authorization header"), JSON lines as
 * application/json (docs/auth0.md, "Install the log stream"), and `phone` never among the PII-obfuscated
 * fields (a masked or hashed number is never read as one). No filter: callerpop ignores what it does not
 * need, and an operator's filters are left alone.
 *
 * Found by its name `callerpop` (connect's marker), else by its endpoint (one made by hand from the docs,
 * then renamed `callerpop`). Whether GET returns `httpAuthorization` is not documented: when it does, it is
 * compared; when not, the fingerprint of what connect last set decides (state.ts).
 */

export const STREAM_NAME = 'callerpop';

type Stream = Management.LogStreamHttpResponseSchema;

export async function findStream(pass: Auth0Pass): Promise<Stream | undefined> {
  const streams = (await read('read the log streams', ['read:log_streams'], () =>
    pass.tenant.logStreams.list(),
  )) as Stream[];
  const endpoint = endpointOf(pass);
  return (
    streams.find((s) => s.type === 'http' && s.name === STREAM_NAME) ??
    streams.find((s) => s.type === 'http' && s.sink?.httpEndpoint === endpoint)
  );
}

const endpointOf = (pass: Auth0Pass) => `${pass.config.PUBLIC_BASE_URL}/auth0/log-stream`;

export async function ensureLogStream(pass: Auth0Pass): Promise<void> {
  const token = pass.config.AUTH0_LOG_STREAM_TOKEN;
  const sink = {
    httpEndpoint: endpointOf(pass),
    httpAuthorization: token,
    httpContentFormat: 'JSONLINES' as const,
    httpContentType: 'application/json',
  };
  const current = await findStream(pass);
  if (!current?.id) {
    await write(
      pass,
      {
        name: 'create the log stream',
        mark: '+',
        text: `create log stream "${STREAM_NAME}" → ${sink.httpEndpoint} (JSON lines, Authorization: AUTH0_LOG_STREAM_TOKEN)`,
        scopes: ['create:log_streams'],
      },
      async () => {
        const created = await pass.tenant.logStreams.create({ name: STREAM_NAME, type: 'http', sink });
        rememberToken(pass, token);
        return created;
      },
    );
    return;
  }
  const changes: string[] = [];
  const patch: Management.UpdateLogStreamRequestContent = {};
  if (current.name !== STREAM_NAME) {
    patch.name = STREAM_NAME;
    changes.push(`name "${current.name ?? ''}" → "${STREAM_NAME}"`);
  }
  const now = current.sink;
  if (now?.httpEndpoint !== sink.httpEndpoint) changes.push(`endpoint → ${sink.httpEndpoint}`);
  if (now?.httpContentFormat !== sink.httpContentFormat) changes.push('format → JSON lines');
  if (now?.httpContentType !== sink.httpContentType) changes.push('content type → application/json');
  if (typeof now?.httpAuthorization === 'string') {
    if (now.httpAuthorization !== token) changes.push('Authorization → AUTH0_LOG_STREAM_TOKEN');
  } else if (!matchesFingerprint(token, pass.state.logStreamAuthorization)) {
    changes.push('Authorization (Auth0 does not return it, and connect has no record of setting this one)');
  }
  if (changes.length > 0) patch.sink = sink;
  if (current.status && current.status !== 'active') {
    patch.status = 'active';
    changes.push(`status ${current.status} → active (Auth0 pauses a stream after days of failed deliveries)`);
  }
  const masked = current.pii_config?.log_fields ?? [];
  if (current.pii_config && masked.includes('phone')) {
    patch.pii_config = { ...current.pii_config, log_fields: masked.filter((f) => f !== 'phone') };
    changes.push('PII obfuscation no longer masks `phone` (a masked number indexes nothing)');
  }
  if (changes.length === 0) {
    pass.report.keep(`log stream "${STREAM_NAME}" → ${sink.httpEndpoint}: as callerpop needs it`);
    return;
  }
  const id = current.id;
  await write(
    pass,
    {
      name: 'update the log stream',
      mark: '~',
      text: `update log stream: ${changes.join('; ')}`,
      scopes: ['update:log_streams'],
    },
    async () => {
      const updated = await pass.tenant.logStreams.update(id, patch);
      if (patch.sink) rememberToken(pass, token);
      return updated;
    },
  );
}

function rememberToken(pass: Auth0Pass, token: string): void {
  pass.state.logStreamAuthorization = fingerprint(token);
  pass.saveState();
}
