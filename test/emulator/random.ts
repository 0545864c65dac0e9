/**
 * Seeded pseudo-random numbers for the emulator's fault injection.
 *
 * Fault tests must be reproducible: the same seed and the same sequence of requests must fault the
 * same requests. Math.random cannot be seeded, so the emulator draws from a small 32-bit generator
 * (the "mulberry32" construction: a Weyl sequence passed through an integer mixing function).
 */

/** A generator of floats in [0, 1). */
export type Random = () => number;

/** A generator seeded with a 32-bit integer (other numbers are truncated to 32 bits). */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 0x100000000;
  };
}

/** A 32-bit seed derived from a string (FNV-1a), to derive stable per-name seeds. */
export function seedFromString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
