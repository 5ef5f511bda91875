const encoder = new TextEncoder();

/**
 * Compares two secrets (tokens, CSRF values, code hashes) in time that depends on their lengths only, never
 * on where they first differ. One implementation for every such check in callerpop.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
