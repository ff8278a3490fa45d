// Fetch Metadata (W3C): a browser says what each request is for. Only a navigation can follow a
// sign-in through the identity provider and come back; an <img>, a script's fetch or a stylesheet
// cannot. Starting a sign-in for those anyway costs a CSRF cookie each (one per request with
// --cookie-csrf-per-request, until the browser's requests grow too large to be answered: 431), or
// overwrites the one a real navigation is waiting for. A client that sends no Sec-Fetch-* header
// at all (an older browser, curl) is treated as a navigation, as before Fetch Metadata.
import type { IncomingHttpHeaders } from 'node:http';

export function isNavigation(headers: IncomingHttpHeaders): boolean {
  const mode = headers['sec-fetch-mode'];
  const dest = headers['sec-fetch-dest'];
  if (mode === undefined && dest === undefined && headers['sec-fetch-site'] === undefined) return true;
  return mode === 'navigate' || dest === 'document';
}
