// src/core/fetch-classes.ts stands in for Node's Headers and Response where latchkey reads a
// provider's answer: each case runs on both and must give the same answer, or the same kind of error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FetchHeaders, FetchRequest, FetchResponse, ReadableStreamByTag, ResponseByTag } from '../../src/core/fetch-classes.ts';

type Outcome = { value: unknown } | { error: string };

async function outcome(run: () => unknown): Promise<Outcome> {
  try {
    return { value: await run() };
  } catch (error) {
    return { error: (error as Error).constructor.name };
  }
}

/** Runs `scenario` with the standard classes and with ours; both must end alike. */
async function sameAsStandard(scenario: (H: typeof Headers, R: typeof Response) => unknown) {
  const standard = await outcome(() => scenario(Headers, Response));
  const ours = await outcome(() => scenario(FetchHeaders as unknown as typeof Headers, FetchResponse as unknown as typeof Response));
  assert.deepEqual(ours, standard);
}

const listed = (headers: Headers) => [...headers];
const tagOf = (prototype: object) => (prototype as Record<symbol, unknown>)[Symbol.toStringTag];

describe('FetchHeaders, against the standard Headers', () => {
  const cases: Record<string, (H: typeof Headers) => unknown> = {
    'from a record, names case-insensitive': (H) => { const h = new H({ 'Content-Type': 'a/b', Accept: 'x' }); return [h.get('content-type'), h.get('ACCEPT'), h.has('Accept'), h.get('missing')]; },
    'from pairs, repeated names joined with ", "': (H) => listed(new H([['X-Two', 'a'], ['x-two', 'b'], ['A', '1']])),
    'from another Headers': (H) => listed(new H(new H({ b: '2', a: '1' }))),
    'from a standard Headers': (H) => listed(new H(new Headers({ b: '2', a: '1' }) as unknown as HeadersInit)),
    'iteration sorted by lower-cased name': (H) => [listed(new H({ Zed: '1', alpha: '2', Mid: '3' })), [...new H({ B: '1', a: '2' }).keys()], [...new H({ B: '1', a: '2' }).values()]],
    'append, set, delete': (H) => { const h = new H(); h.append('A', '1'); h.append('a', '2'); const joined = h.get('a'); h.set('A', '3'); const set = h.get('a'); h.delete('A'); return [joined, set, h.has('a'), listed(h)]; },
    'values lose leading and trailing whitespace': (H) => new H({ a: ' \t x y \r\n' }).get('a'),
    'Set-Cookie kept apart': (H) => { const h = new H([['set-cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['x', 'y']]); return [h.get('set-cookie'), h.getSetCookie(), listed(h)]; },
    'forEach (value, name, headers)': (H) => { const seen: unknown[] = []; const h = new H({ B: '2', a: '1' }); h.forEach((value, name, self) => seen.push([value, name, self === h])); return seen; },
    'tagged as Headers': (H) => Object.prototype.toString.call(new H()),
    'an invalid name throws': (H) => new H({ 'bad name': 'x' }),
    'a name with a colon throws': (H) => new H().append('a:b', 'x'),
    'an empty name throws': (H) => new H().set('', 'x'),
    'a value with CR or LF inside throws': (H) => new H({ a: 'x\r\ny: z' }),
    'a value with NUL throws': (H) => new H().set('a', 'x\0y'),
    'a pair without a value throws': (H) => new H([['a']] as unknown as [string, string][]),
    'get of an invalid name throws': (H) => new H().get('a b'),
  };
  for (const [name, scenario] of Object.entries(cases)) it(name, async () => { await sameAsStandard((H) => scenario(H)); });
});

describe('FetchResponse, against the standard Response', () => {
  const bytes = new TextEncoder().encode('{"a":1}');
  const cases: Record<string, (H: typeof Headers, R: typeof Response) => unknown> = {
    'status, statusText, ok, headers': (H, R) => { const r = new R('x', { status: 404, statusText: 'Not Found', headers: new H({ A: '1' }) }); return [r.status, r.statusText, r.ok, r.headers.get('a'), r.type, r.url, r.redirected]; },
    'defaults': (_H, R) => { const r = new R(); return [r.status, r.statusText, r.ok, r.body, r.bodyUsed, listed(r.headers)]; },
    'a string body is text/plain;charset=UTF-8 unless said otherwise': (_H, R) => [new R('x').headers.get('content-type'), new R('x', { headers: { 'content-type': 'a/b' } }).headers.get('content-type'), new R(bytes).headers.get('content-type')],
    'text, then bodyUsed': async (_H, R) => { const r = new R(bytes); const text = await r.text(); return [text, r.bodyUsed]; },
    'json': async (_H, R) => new R(bytes).json(),
    'arrayBuffer and bytes': async (_H, R) => [[...new Uint8Array(await new R(bytes).arrayBuffer())], [...await new R(bytes.buffer as ArrayBuffer).bytes()]],
    'a view of part of a buffer': async (_H, R) => new R(new Uint8Array(bytes.buffer, 1, 3)).text(),
    'UTF-8: the byte order mark is dropped, bad bytes replaced': async (_H, R) => new R(new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0xff, 0x69])).text(),
    'json of something else rejects': async (_H, R) => new R('not json').json(),
    'reading twice rejects': async (_H, R) => { const r = new R('x'); await r.text(); return r.text(); },
    'a null body reads as empty, and stays unused': async (_H, R) => { const r = new R(null, { status: 204 }); return [await r.text(), r.bodyUsed, r.body]; },
    'clone reads apart from the original': async (_H, R) => { const r = new R('x', { status: 201, headers: { a: '1' } }); const c = r.clone(); return [await r.text(), await c.text(), c.status, c.headers.get('a'), c.bodyUsed]; },
    'clone after reading throws': async (_H, R) => { const r = new R('x'); await r.text(); return r.clone(); },
    'body.cancel() uses the body': async (_H, R) => { const r = new R('x'); await r.body?.cancel(); return [r.bodyUsed, await outcome(() => r.text())]; },
    'reading the body stream': async (_H, R) => { const r = new R('hello'); const chunks: number[] = []; for await (const chunk of r.body!) chunks.push(...chunk); return [new TextDecoder().decode(new Uint8Array(chunks)), r.bodyUsed, await outcome(() => r.text())]; },
    'a locked body cannot be read': async (_H, R) => { const r = new R('x'); r.body!.getReader(); return r.text(); },
    'tagged as Response': (_H, R) => Object.prototype.toString.call(new R()),
    'a status out of range throws': (_H, R) => new R(null, { status: 99 }),
    'a status of 600 throws': (_H, R) => new R(null, { status: 600 }),
    'a body on a 204 throws': (_H, R) => new R('x', { status: 204 }),
    'a statusText with CR LF throws': (_H, R) => new R(null, { statusText: 'OK\r\nX: y' }),
  };
  for (const [name, scenario] of Object.entries(cases)) it(name, async () => { await sameAsStandard(scenario); });

  it('passes the checks openid-client and oauth4webapi make of an answer', () => {
    // oauth4webapi's looseInstanceOf and openid-client's webInstanceOf compare the prototype's tag.
    const response = new FetchResponse('x');
    assert.equal(tagOf(Object.getPrototypeOf(response)), tagOf(Response.prototype));
    assert.equal(tagOf(Object.getPrototypeOf(new FetchHeaders())), tagOf(Headers.prototype));
  });
});

describe('ResponseByTag and ReadableStreamByTag (koa in the bundle)', () => {
  it('answer instanceof as the standard classes do for what koa is given', () => {
    const values = [new Response('x'), new FetchResponse('x'), new ReadableStream(), new Response('x').body, {}, null, 'x', Buffer.from('x'), new Headers(), Object.create(null)];
    for (const [index, value] of values.entries()) {
      assert.equal(value instanceof ResponseByTag, value instanceof Response || value instanceof FetchResponse, `value ${index}`);
      assert.equal(value instanceof ReadableStreamByTag, value instanceof ReadableStream, `value ${index}`);
    }
  });
});

describe('FetchRequest', () => {
  it('shares the standard tag, so a real Request still passes a tag check, and cannot be made', () => {
    assert.equal(tagOf(FetchRequest.prototype), tagOf(Request.prototype));
    assert.throws(() => new FetchRequest(), TypeError);
  });
});
