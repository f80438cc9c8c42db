/** Polls `done` every `pollMs` of wall time until it holds or `wallMs` passes; the last look decides. */
export async function until(done: () => Promise<boolean> | boolean, wallMs: number, pollMs = 250): Promise<boolean> {
  const end = Date.now() + wallMs;
  while (Date.now() < end) {
    if (await done()) return true;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return done();
}
