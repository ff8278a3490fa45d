// Another website, for cross-site tests in the browser: it answers every path with the page last
// given to show(), from its own origin (127.0.0.1 on a port of its own).
import { createServer } from 'node:http';

export interface OtherSite {
  origin: string;
  show(page: string): void;
  close(): void;
}

export async function startOtherSite(): Promise<OtherSite> {
  let page = '';
  const server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    show(next) { page = next; },
    close() { server.close(); },
  };
}
