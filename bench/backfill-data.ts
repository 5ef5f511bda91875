import { once } from 'node:events';
import { createWriteStream, existsSync, renameSync } from 'node:fs';
import { createGzip } from 'node:zlib';

/**
 * A synthetic Auth0 users export (format "json": one user per line, gzipped) with the mix a real tenant
 * has: database users, ~10% passwordless SMS users, ~25% profile phones, 30% Guardian MFA, shared numbers
 * (families, desk phones), a few national-format and invalid numbers, and a handful of malformed lines.
 * Deterministic (seeded), so figures from different runs compare.
 */

const US_AREAS = [201, 206, 212, 213, 305, 312, 404, 415, 503, 512, 602, 617, 646, 702, 713, 718, 801, 917];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratedExport {
  users: number;
  path: string;
}

export async function generateExport(path: string, users: number, seed = 42): Promise<GeneratedExport> {
  if (existsSync(path)) return { users, path };
  const random = rng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const digits = (n: number) => {
    let out = '';
    for (let i = 0; i < n; i++) out += Math.floor(random() * 10);
    return out;
  };
  const usNumber = () => `+1${pick(US_AREAS)}${2 + Math.floor(random() * 7)}${digits(6)}`;
  const anyNumber = () => {
    const r = random();
    if (r < 0.7) return usNumber();
    if (r < 0.85) return `+447${700 + Math.floor(random() * 300)}${digits(6)}`;
    if (r < 0.95) return `+4915${digits(9)}`;
    return `+33${6 + Math.floor(random() * 2)}${digits(8)}`;
  };
  const shared = Array.from({ length: 5000 }, usNumber);
  const phone = () => (random() < 0.05 ? pick(shared) : anyNumber());

  const partial = `${path}.part`;
  const gzip = createGzip({ level: 6 });
  const file = createWriteStream(partial);
  gzip.pipe(file);
  const base = Date.parse('2024-01-01T00:00:00Z');
  let buffer = '';
  for (let i = 1; i <= users; i++) {
    const r = random();
    const created = new Date(base + Math.floor(random() * 5e10)).toISOString();
    const updated = new Date(Date.parse(created) + Math.floor(random() * 1e9)).toISOString();
    let user: Record<string, unknown>;
    if (r < 0.1) {
      const id = `sms|${(1e15 + i).toString(16)}`;
      user = {
        user_id: id,
        phone_number: phone(),
        phone_verified: true,
        identities: [{ connection: 'sms', provider: 'sms', user_id: id.slice(4), isSocial: false }],
      };
    } else {
      const id = `auth0|${(1e15 + i).toString(16)}`;
      user = {
        user_id: id,
        email: `user${i}@example.com`,
        name: `User ${i}`,
        identities: [
          {
            connection: 'Username-Password-Authentication',
            provider: 'auth0',
            user_id: id.slice(6),
            isSocial: false,
          },
        ],
      };
      if (r < 0.35) {
        const q = random();
        user.phone_number =
          q < 0.02 ? 'n/a' : q < 0.1 ? `(${pick(US_AREAS)}) 5${digits(2)}-${digits(4)}` : phone();
        user.phone_verified = random() < 0.5;
      }
    }
    if (random() < 0.3) user.multifactor = ['guardian'];
    user.blocked = random() < 0.01;
    user.created_at = created;
    user.updated_at = updated;
    if (random() < 0.9) user.last_login = updated;
    buffer += i % 100_000 === 0 ? '{"user_id": broken\n' : `${JSON.stringify(user)}\n`;
    if (buffer.length > 1 << 20) {
      if (!gzip.write(buffer)) await once(gzip, 'drain');
      buffer = '';
    }
  }
  gzip.end(buffer);
  await once(file, 'close');
  renameSync(partial, path);
  return { users, path };
}
