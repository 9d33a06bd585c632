// Messages as a French reader gets them (LC_ALL=fr_FR.UTF-8: the catalogue reads the locale at each
// message), for the tests that check the French side; LC_ALL is put back as it was.

function withFrench<T>(read: () => T, settled: (result: T, restore: () => void) => T): T {
  const saved = process.env.LC_ALL;
  process.env.LC_ALL = 'fr_FR.UTF-8';
  const restore = () => {
    if (saved === undefined) delete process.env.LC_ALL;
    else process.env.LC_ALL = saved;
  };
  let result: T;
  try {
    result = read();
  } catch (error) {
    restore();
    throw error;
  }
  return settled(result, restore);
}

/** What `read` says in French. */
export function inFrench<T>(read: () => T): T {
  return withFrench(read, (result, restore) => {
    restore();
    return result;
  });
}

/** What `work` says in French, the locale kept until its promise settles. */
export function inFrenchAsync<T>(work: () => T | Promise<T>): Promise<T> {
  return withFrench(
    async () => work(),
    (promise, restore) => promise.finally(restore),
  );
}
