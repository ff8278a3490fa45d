// The headers Chromium sends with a page view (besides Host and Cookie): about 1 KB that every hop
// which parses headers pays for. wrk sends only what it is given, so a figure measured with the
// cookie alone leaves this out; the "a browser's request" variants of bench/run.ts add it.
export const BROWSER_REQUEST_HEADERS: Readonly<Record<string, string>> = {
  'sec-ch-ua': '"Chromium";v="156", "Not.A/Brand";v="24", "Google Chrome";v="156"',
  'sec-ch-ua-mobile': '?0',
  'sec-ch-ua-platform': '"Linux"',
  'upgrade-insecure-requests': '1',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7',
  'sec-fetch-site': 'same-origin',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-user': '?1',
  'sec-fetch-dest': 'document',
  referer: 'https://agents.example.com/private/notes/',
  'accept-encoding': 'gzip, deflate, br, zstd',
  'accept-language': 'en-GB,en;q=0.9,de;q=0.8',
  priority: 'u=0, i',
};
