import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/**
 * Users export jobs behind the stand-in, as main/docs/manage-users/user-migration/bulk-user-exports.mdx
 * describes them:
 * - "1. Submit export users job": `POST /api/v2/jobs/users-exports` `{ connection_id?, format: json|csv, fields:
 *   [{ name, export_as? }] }`; the job starts `pending`; each exported object is keyed by `export_as ?? name`;
 * - "2. Check job status and download the export": `GET /api/v2/jobs/{id}` until `completed` with a `location`,
 *   which downloads the file (gzipped NDJSON for format json, "Supported file formats") without a bearer token.
 */

type Answer = { status: number; body: unknown } | { status: number; error: string };

export function createExportJobs(options: {
  users: () => Iterable<{ profile: Record<string, unknown> }>;
  connections: readonly { id: string; name: string }[];
  now: () => number;
  /** Polls of GET /jobs/{id} before the export completes. */
  polls: number;
}) {
  const jobs = new Map<string, { job: Record<string, unknown>; polls: number; file: Buffer }>();
  return {
    create(
      input:
        | { connection_id?: string; format?: string; fields?: { name: string; export_as?: string }[] }
        | undefined,
    ): Answer {
      if (!input || (input.format !== undefined && !['json', 'csv'].includes(input.format)))
        return { status: 400, error: 'Payload validation error: format must be json or csv' };
      const connection = input.connection_id
        ? options.connections.find((c) => c.id === input.connection_id)
        : undefined;
      if (input.connection_id && !connection) return { status: 404, error: 'The connection does not exist' };
      const id = `job_${randomBytes(8).toString('hex')}`;
      const job = {
        type: 'users_export',
        status: 'pending',
        id,
        created_at: new Date(options.now()).toISOString(),
        format: input.format ?? 'csv',
        fields: input.fields,
        ...(connection ? { connection_id: connection.id, connection: connection.name } : {}),
      };
      const lines = [...options.users()]
        .filter(
          (u) =>
            !connection ||
            (u.profile.identities as { connection?: string }[] | undefined)?.[0]?.connection ===
              connection.name,
        )
        .map((u) =>
          JSON.stringify(
            Object.fromEntries(
              (input.fields ?? [])
                .map((f) => [f.export_as ?? f.name, pick(u.profile, f.name)])
                .filter(([, v]) => v !== undefined),
            ),
          ),
        );
      jobs.set(id, { job, polls: 0, file: gzipSync(lines.map((l) => `${l}\n`).join('')) });
      return { status: 201, body: job };
    },
    poll(id: string, baseUrl: string): Answer {
      const record = jobs.get(id);
      if (!record) return { status: 404, error: 'The job does not exist' };
      record.polls += 1;
      const status = record.polls < options.polls ? 'processing' : 'completed';
      const extra =
        status === 'completed'
          ? { location: `${baseUrl}/exports/${id}.json.gz`, percentage_done: 100 }
          : { percentage_done: 50, time_left_seconds: 1 };
      return { status: 200, body: { ...record.job, status, ...extra } };
    },
    file: (id: string): Buffer | undefined => jobs.get(id)?.file,
  };
}

/** Resolves an export field name: `email`, `user_metadata.plan`, `identities[0].connection`. */
function pick(obj: Record<string, unknown>, name: string): unknown {
  let value: unknown = obj;
  for (const part of name.split('.')) {
    const m = /^([^[]+)(?:\[(\d+)\])?$/.exec(part);
    if (!m || typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[m[1] as string];
    if (m[2] !== undefined) value = Array.isArray(value) ? value[Number(m[2])] : undefined;
  }
  return value;
}
