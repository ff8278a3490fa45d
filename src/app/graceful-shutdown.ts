/**
 * Stops on SIGTERM/SIGINT: stop accepting connections, let in-flight requests finish (fastify's
 * close waits for them), close the database, then resolve so main.ts can exit. A second signal,
 * or a shutdown slower than `timeoutMs`, exits at once.
 */
export function onShutdownSignal(close: () => Promise<void>, log: (message: string) => void, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const handler = (signal: string) => {
      if (closing) process.exit(1);
      closing = true;
      log(`${signal} received; finishing in-flight requests`);
      const timer = setTimeout(() => {
        log('shutdown took too long; exiting');
        process.exit(1);
      }, timeoutMs);
      timer.unref();
      close().then(resolve, (error) => {
        log(`shutdown failed: ${(error as Error).message}`);
        resolve();
      });
    };
    process.once('SIGTERM', handler);
    process.once('SIGINT', handler);
  });
}
