// Rethrowing an error only once other work started beside it has settled: a caller that fails
// early (a refused attach) must not return while that work still changes the host under it.

/** A handler for `.catch` that rethrows its error once `pending` has settled. */
export const after =
  (pending: Promise<unknown>) =>
  async (err: unknown): Promise<never> => {
    await Promise.allSettled([pending]);
    throw err;
  };
