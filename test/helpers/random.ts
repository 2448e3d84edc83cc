// Seeded randomness for property tests: the same seed gives the same cases, and each test prints
// its seed (SEED=… replays it).

/** mulberry32: a small, fast, seeded PRNG giving numbers in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from SEED, or a fresh one, printed so a failure can be replayed. */
export function seedFor(what: string): number {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  console.log(`${what}: seed ${seed} (SEED=${seed} replays it)`);
  return seed;
}

/** Helpers over one PRNG. */
export function randomTools(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  return {
    int,
    chance: (p: number) => random() < p,
    pick: <T>(xs: readonly T[]): T => xs[int(xs.length)] as T,
    char: (s: string) => s[int(s.length)] as string,
  };
}
