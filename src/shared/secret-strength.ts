/**
 * Guessable secrets, as production refuses them: a character repeated, a short pattern repeated, a key of
 * zero bytes, or too little entropy for its length. A secret made the way the docs say (`openssl rand`) passes
 * every check by a wide margin; these catch `aaaa…`, `000…`, `changemechangeme…` and a key left all zeros.
 */

/** Bits an attacker would have to guess, estimated from the characters' frequencies (Shannon). */
export function estimatedBits(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let perChar = 0;
  const length = [...value].length;
  for (const n of counts.values()) {
    const p = n / length;
    perChar -= p * Math.log2(p);
  }
  return perChar * length;
}

/** The shortest unit the whole string repeats, when it is one (`abcabcabc` → 3), else the length. */
function period(value: string): number {
  for (let unit = 1; unit <= value.length / 2; unit++) {
    if (value.length % unit !== 0) continue;
    if (value.slice(0, unit).repeat(value.length / unit) === value) return unit;
  }
  return value.length;
}

/** Why a text secret is weak, or null. */
export function secretWeakness(value: string): string | null {
  if (new Set(value).size <= 2) return 'it is one or two characters repeated';
  if (period(value) <= 8) return 'it repeats a short pattern';
  if (estimatedBits(value) < 80) return 'it has too little entropy (generate it with `openssl rand -hex 32`)';
  return null;
}

/** Why a binary key (a whsec_ secret's bytes, as a binary string) is weak, or null. */
export function keyWeakness(bytes: string): string | null {
  if ([...bytes].every((b) => b === '\0')) return 'its key is all zero bytes';
  if (new Set(bytes).size <= 2) return 'its key is one or two byte values repeated';
  if (period(bytes) <= 8) return 'its key repeats a short pattern';
  if (new Set(bytes).size < bytes.length / 4) return 'its key has too few distinct bytes to be random';
  return null;
}
