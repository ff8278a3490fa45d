// Headers and Response for the few server-to-server answers latchkey reads (src/core/node-http-fetch.ts),
// without undici. Node's global Headers, Response and Request are undici's: the first touch of any
// of them loads it, 17 MB RSS on Node 24 (a bare process 41.7 MB, after `new Headers()` 59.1 MB:
// Node's binary pages, compiled code and buffers), a quarter of what `latchkey proxy` may use in
// all (docs/benchmarks.md, lever 23). nodeHttpFetch answers with a FetchResponse from source and
// from the bundle; in the bundle, openid-client, oauth4webapi and jose also see these classes
// under the global names (scripts/bundle-plugins.ts, fetchClassesWithoutUndici).
//
// What those callers use, as the Fetch standard defines it: a whole, already received body
// (text, json, arrayBuffer, bytes, clone, bodyUsed, body.cancel()), status, statusText, ok and
// case-insensitive headers. test/unit/fetch-classes.test.ts runs each operation here and on
// Node's own classes and expects the same answers and the same errors.

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Fetch §2.2: a header value loses leading and trailing HTTP whitespace and must not hold NUL, CR or LF.
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const FORBIDDEN_IN_VALUE = /[\0\r\n]/;

type HeaderPairs = Iterable<readonly [string, string]> | Iterable<readonly string[]>;
export type FetchHeadersInit = HeaderPairs | Record<string, string> | FetchHeaders | Headers;

function headerName(name: string): string {
  const text = String(name);
  if (!TOKEN.test(text)) throw new TypeError(`Headers: invalid header name "${text}"`);
  return text.toLowerCase();
}

function headerValue(value: string): string {
  const text = String(value).replace(EDGE_WHITESPACE, '');
  if (FORBIDDEN_IN_VALUE.test(text)) throw new TypeError('Headers: invalid header value');
  return text;
}

export class FetchHeaders {
  // Lower-cased name → values as appended; `get` joins them with ", " (Set-Cookie kept apart by getSetCookie).
  readonly #values = new Map<string, string[]>();

  constructor(init?: FetchHeadersInit) {
    if (init === undefined) return;
    if (init === null || typeof init !== 'object') throw new TypeError('Headers: init must be an object, pairs or Headers');
    if (Symbol.iterator in init) {
      for (const pair of init as Iterable<readonly string[]>) {
        if (pair.length !== 2) throw new TypeError('Headers: each header pair must have a name and a value');
        this.append(pair[0], pair[1]);
      }
    } else {
      for (const [name, value] of Object.entries(init)) this.append(name, value);
    }
  }

  append(name: string, value: string): void {
    const key = headerName(name);
    const text = headerValue(value);
    const values = this.#values.get(key);
    if (values) values.push(text);
    else this.#values.set(key, [text]);
  }

  set(name: string, value: string): void {
    this.#values.set(headerName(name), [headerValue(value)]);
  }

  delete(name: string): void {
    this.#values.delete(headerName(name));
  }

  has(name: string): boolean {
    return this.#values.has(headerName(name));
  }

  get(name: string): string | null {
    return this.#values.get(headerName(name))?.join(', ') ?? null;
  }

  getSetCookie(): string[] {
    return [...(this.#values.get('set-cookie') ?? [])];
  }

  /** Sorted by name, as the standard's iteration is; each Set-Cookie on its own. */
  *entries(): IterableIterator<[string, string]> {
    for (const name of [...this.#values.keys()].sort()) {
      const values = this.#values.get(name)!;
      if (name === 'set-cookie') for (const value of values) yield [name, value];
      else yield [name, values.join(', ')];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  forEach(callback: (value: string, name: string, headers: FetchHeaders) => void, thisArg?: unknown): void {
    for (const [name, value] of this.entries()) callback.call(thisArg, value, name, this);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'Headers';
  }
}

export interface FetchResponseInit {
  status?: number;
  statusText?: string;
  headers?: FetchHeadersInit;
}

// Fetch §2.2.3: a null body status must not be given a body (101 and 103 are already refused as out of range).
const NULL_BODY_STATUSES = new Set([204, 205, 304]);
// RFC 9110 reason-phrase: tab, space and visible characters (obs-text included).
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** A response whose body has been received whole (nodeHttpFetch caps it at 1 MB). */
export class FetchResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: FetchHeaders;
  readonly type = 'default';
  readonly url = '';
  readonly redirected = false;
  readonly #bytes: Uint8Array | null;
  #used = false;
  #stream: ReadableStream<Uint8Array> | null = null;

  constructor(body?: string | ArrayBuffer | ArrayBufferView | null, init: FetchResponseInit = {}) {
    const status = init.status ?? 200;
    if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError(`Response: status ${status} is outside 200-599`);
    const statusText = init.statusText ?? '';
    if (!REASON_PHRASE.test(statusText)) throw new TypeError('Response: invalid statusText');
    this.status = status;
    this.statusText = statusText;
    this.headers = new FetchHeaders(init.headers);
    if (body === undefined || body === null) {
      this.#bytes = null;
      return;
    }
    if (NULL_BODY_STATUSES.has(status)) throw new TypeError(`Response: a ${status} response cannot have a body`);
    if (typeof body === 'string') {
      this.#bytes = new TextEncoder().encode(body);
      if (!this.headers.has('content-type')) this.headers.set('content-type', 'text/plain;charset=UTF-8');
    } else if (body instanceof ArrayBuffer) {
      this.#bytes = new Uint8Array(body.slice(0));
    } else if (ArrayBuffer.isView(body)) {
      this.#bytes = new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
    } else {
      throw new TypeError('Response: this build takes a string or bytes as a body');
    }
  }

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  /** The standard's ReadableStream, made (and Node's web streams loaded) only when asked for. */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.#bytes === null) return null;
    if (!this.#stream) {
      const bytes = this.#bytes;
      this.#stream = new ReadableStream<Uint8Array>({
        pull: (controller) => {
          this.#used = true;
          if (bytes.byteLength > 0) controller.enqueue(bytes.slice());
          controller.close();
        },
        cancel: () => {
          this.#used = true;
        },
      });
    }
    return this.#stream;
  }

  #consume(): Uint8Array {
    if (this.#used || this.#stream?.locked) throw new TypeError('Response: body has already been read');
    this.#used = this.#bytes !== null;
    return this.#bytes?.slice() ?? new Uint8Array(0);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return this.#consume().buffer as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return this.#consume();
  }

  async text(): Promise<string> {
    // UTF-8 decode as the standard does it: a leading byte order mark is dropped, bad bytes become U+FFFD.
    return new TextDecoder().decode(this.#consume());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  clone(): FetchResponse {
    if (this.#used || this.#stream?.locked) throw new TypeError('Response: cannot clone a response whose body has been read');
    return new FetchResponse(this.#bytes, { status: this.status, statusText: this.statusText, headers: this.headers });
  }

  get [Symbol.toStringTag](): string {
    return 'Response';
  }
}

/**
 * Stands in for the global Request in the bundled OIDC libraries, which only ask whether a value
 * is one (oauth4webapi's `looseInstanceOf`, which also accepts a real Request by its tag) on the
 * paths latchkey uses. Making one here is a mistake that must show, not fall back to undici quietly.
 */
export class FetchRequest {
  constructor() {
    throw new TypeError('Request is not available in the latchkey bundle (src/core/fetch-classes.ts)');
  }

  get [Symbol.toStringTag](): string {
    return 'Request';
  }
}

/** `value instanceof ByTag('Response')` is true for a standard Response (or a FetchResponse) without loading undici to get the class. */
function byTag(tag: string): { [Symbol.hasInstance](value: unknown): boolean } {
  const full = `[object ${tag}]`;
  return { [Symbol.hasInstance]: (value) => typeof value === 'object' && value !== null && Object.prototype.toString.call(value) === full };
}

/**
 * For koa (under oidc-provider), which asks of every body it sends whether it is a Response or a
 * ReadableStream, by `instanceof` against the globals: the first JSON answer would load undici and
 * Node's web streams (~4 MB of `latchkey serve`). Asked by tag instead, as fastify does; a real
 * Response or stream still answers yes.
 */
export const ResponseByTag = byTag('Response');
export const ReadableStreamByTag = byTag('ReadableStream');
