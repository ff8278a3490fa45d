// Issue #8, target 6: "cost does not grow with data". Two identical stacks side by side — each a
// `latchkey id` and two `latchkey proxy` (cookie sessions; Redis sessions) — one holding 10 people,
// the other 100,000: users with passkeys, the provider's sessions, grants and tokens, the id's own
// sessions and audit entries (copies of a real enrolment and sign-in: bench/lib/account-seed.ts)
// and, for the Redis-mode proxy, one proxy session each (bench/lib/proxy-session-seed.ts). The same
// figures are taken on both, interleaved round by round (the machine is shared), medians reported:
// /oauth2/auth per second with wrk (a real seeded user's session cookie), full passkey sign-ins
// per second through each proxy, and the server time of one sign-in at a time; for each, the CPU
// the servers spent per operation (/proc), which other work on the machine moves far less.
// Every round restarts both stacks' processes. `--small 10 --count 10` runs two identical stacks:
// the spread of its ratios is the noise floor.
//   node bench/data-growth.ts [--backend sqlite --backend postgres] [--seconds 3] [--rounds 9]
//                             [--count 100000] [--small 10] [--concurrency 8] [--timed 20] [--source]
import { benchArgs, wholeNumber } from './lib/args.ts';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { type Database, openDatabase } from '../src/storage/database.ts';
import { createTestPostgres, deleteRedisKeys, REDIS_URL, type TestPostgres } from '../test/helpers/backends.ts';
import { cloneAccounts, credentialOf, type SeededAccount } from './lib/account-seed.ts';
import { bundleEntry, PRODUCTION_NODE_ARGS, PROXY_FLAGS_TEXT, PROXY_NODE_ARGS } from './lib/bundle.ts';
import { cpuSnapshot, cpuUsedMs } from './lib/cpu-time.ts';
import { rssMb } from './lib/processes.ts';
import { authenticatorWith, enrolPasskeyUser, type EnrolledUser } from './lib/enrol.ts';
import { type LatchkeyEntry, type LatchkeyStack, sourceEntry, startLatchkeyStack } from './lib/latchkey-stack.ts';
import { type SignInTarget, type SignInTimings, signInWithPasskey } from './lib/passkey-sign-in.ts';
import { cloneProxySessions } from './lib/proxy-session-seed.ts';
import { median, wrk } from './lib/wrk.ts';

const values = benchArgs(import.meta.url, {
  backend: { type: 'string', multiple: true, default: ['sqlite', 'postgres'] },
  seconds: { type: 'string', default: '3' }, rounds: { type: 'string', default: '9' },
  count: { type: 'string', default: '100000' }, small: { type: 'string', default: '10' },
  concurrency: { type: 'string', default: '8' }, timed: { type: 'string', default: '20' },
  source: { type: 'boolean' },
});
const seconds = wholeNumber(import.meta.url, 'seconds', values.seconds);
const rounds = wholeNumber(import.meta.url, 'rounds', values.rounds);
const concurrency = wholeNumber(import.meta.url, 'concurrency', values.concurrency);
const timedPerRound = wholeNumber(import.meta.url, 'timed', values.timed);
const sizes = [wholeNumber(import.meta.url, 'small', values.small), wholeNumber(import.meta.url, 'count', values.count)] as const;
const backends = values.backend as ('sqlite' | 'postgres')[];
for (const backend of backends) if (!['sqlite', 'postgres'].includes(backend)) throw new Error(`unknown backend ${backend} (sqlite or postgres)`);
try { execFileSync('which', ['wrk']); } catch { throw new Error('wrk is missing: run scripts/system-deps.sh'); }

const run: LatchkeyEntry = values.source ? sourceEntry() : { entry: bundleEntry(), nodeArgs: PRODUCTION_NODE_ARGS, proxyNodeArgs: PROXY_NODE_ARGS };
const load = () => loadavg().map((n) => n.toFixed(1)).join(' ');
const PROXY_MODES = ['cookie', 'redis'] as const;
type ProxyMode = (typeof PROXY_MODES)[number];
const MODE_NAME: Record<ProxyMode, string> = { cookie: 'cookie sessions', redis: 'Redis sessions' };

/** One stack and the people in it. */
interface Side {
  size: number;
  stack: LatchkeyStack;
  accounts: SeededAccount[];
  template: EnrolledUser;
  /** A seeded user's session cookie on each proxy, for wrk. */
  wrkCookie: Record<ProxyMode, string>;
  seedSeconds: number;
  /** PostgreSQL only: a connection of our own, for its statistics and its backends' process ids. */
  monitor: Database | null;
}

const target = (stack: LatchkeyStack, mode: ProxyMode): SignInTarget => ({
  siteOrigin: stack.proxies[mode].origin, idOrigin: stack.idOrigin, startPath: '/oauth2/start?rd=/', check: { path: '/oauth2/auth', status: 202 },
});

/** A full sign-in through `mode`'s proxy as a person picked at random from the side's set. */
function signInRandom(side: Side, mode: ProxyMode) {
  const account = side.accounts[Math.floor(Math.random() * side.accounts.length)];
  return signInWithPasskey(target(side.stack, mode), authenticatorWith(side.stack.idOrigin, credentialOf(side.template.credential, account)));
}

/** Redis database numbers nobody uses right now, one per stack (the proxy has no key-prefix flag). */
async function emptyRedisDatabases(count: number): Promise<number[]> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const free: number[] = [];
    for (let db = 15; db > 0 && free.length < count; db--) {
      await redis.select(db);
      if ((await redis.dbsize()) === 0) free.push(db);
    }
    if (free.length < count) throw new Error('not enough empty Redis databases');
    return free;
  } finally {
    redis.disconnect();
  }
}

const redisUrlOf = (db: number) => { const url = new URL(REDIS_URL); url.pathname = `/${db}`; return url.toString(); };

async function withDatabase<T>(database: string, work: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const opened = await openDatabase(database);
  try { return await work(opened); } finally { await opened.close(); }
}

/** Rows per table and proxy sessions in Redis: what "stored" means here. */
async function storedCounts(stack: LatchkeyStack): Promise<Record<string, number>> {
  const counts = await withDatabase(stack.database, async ({ db }) => {
    const out: Record<string, number> = {};
    for (const table of ['users', 'passkeys', 'oidc_payloads', 'web_sessions', 'audit_log'] as const) {
      const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      out[table] = Number(row.n);
    }
    return out;
  });
  const redis = new Redis(stack.redisUrl);
  try {
    let cursor = '0';
    let sessions = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'latchkey:proxy:session:*', 'COUNT', 5000);
      sessions += keys.length;
      cursor = next;
    } while (cursor !== '0');
    counts['Redis proxy sessions'] = sessions;
  } finally {
    redis.disconnect();
  }
  return counts;
}

/** Enrols and signs in a template person over HTTP, then copies them up to `size` people. */
async function seedSide(stack: LatchkeyStack, size: number, kind: 'sqlite' | 'postgres'): Promise<Side> {
  const started = performance.now();
  const template = await enrolPasskeyUser(stack.database, stack.idOrigin);
  const signedIn = await signInWithPasskey(target(stack, 'redis'), template.authenticator);
  const { accounts: copies } = await withDatabase(stack.database, async ({ db }) => {
    const cloned = await cloneAccounts(db, template.userId, size - 1);
    // PostgreSQL's autovacuum vacuums and analyses a table this size within a minute of such an
    // insert; do it now, so the planner sees the real sizes from the first measured request and
    // autovacuum does not start in the middle of a measurement.
    if (kind === 'postgres') await sql`vacuum analyze`.execute(db);
    return cloned;
  });
  await cloneProxySessions({ redisUrl: stack.redisUrl, cookieSecret: stack.cookieSecret, templateCookie: signedIn.cookie, accounts: copies });
  const accounts = [{ userId: template.userId, username: template.username, email: template.email, credentialId: template.credential.id }, ...copies];
  const monitor = kind === 'postgres' ? await openDatabase(stack.database) : null;
  const side: Side = { size, stack, accounts, template, wrkCookie: { cookie: '', redis: '' }, seedSeconds: (performance.now() - started) / 1000, monitor };
  for (const mode of PROXY_MODES) side.wrkCookie[mode] = (await signInRandom(side, mode)).cookie;
  return side;
}

/** The processes that serve `mode` on a side: its proxy, and for sign-ins the id and PostgreSQL's backends for its database. */
async function serverPids(side: Side, mode: ProxyMode, withId: boolean): Promise<number[]> {
  const pids = [side.stack.proxies[mode].child.pid!];
  if (!withId) return pids;
  pids.push(side.stack.id.pid!);
  if (side.monitor) {
    const result = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`.execute(side.monitor.db);
    pids.push(...result.rows.map((r) => Number(r.pid)));
  }
  return pids;
}

/** One measurement of one side: the figure itself, and the CPU its servers spent per operation. */
interface Sample { value: number; cpuMsPerOp: number }

async function authRun(side: Side, mode: ProxyMode, runSeconds = seconds): Promise<Sample> {
  const pids = await serverPids(side, mode, false);
  const before = cpuSnapshot(pids);
  const result = wrk(`${side.stack.proxies[mode].origin}/oauth2/auth`, { seconds: runSeconds, headers: { cookie: side.wrkCookie[mode] } });
  const used = cpuUsedMs(before, cpuSnapshot(pids));
  if (result.non2xx || result.errors) throw new Error(`/oauth2/auth (${mode}, ${side.size}): ${result.non2xx} refusals and ${result.errors} socket errors in ${result.requests} requests`);
  return { value: result.requestsPerSecond, cpuMsPerOp: used / result.requests };
}

/** `concurrency` browsers signing in back to back for `seconds`. */
async function signInRun(side: Side, mode: ProxyMode): Promise<Sample> {
  const before = cpuSnapshot(await serverPids(side, mode, true));
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let done = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      await signInRandom(side, mode);
      done++;
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  return { value: done / elapsed, cpuMsPerOp: cpuUsedMs(before, cpuSnapshot(await serverPids(side, mode, true))) / done };
}

const serverMs = (t: SignInTimings) => t.optionsMs + t.verifyMs + t.callbackMs;

/** PostgreSQL's own count of sequential scans per table: a full scan at sign-in shows up here. */
async function postgresScans(side: Side): Promise<Map<string, { seq: number; rows: number; idx: number }>> {
  const result = await sql<{ relname: string; seq_scan: string; seq_tup_read: string; idx_scan: string | null }>`
    select relname, seq_scan, seq_tup_read, idx_scan from pg_stat_user_tables`.execute(side.monitor!.db);
  return new Map(result.rows.map((r) => [r.relname, { seq: Number(r.seq_scan), rows: Number(r.seq_tup_read), idx: Number(r.idx_scan ?? 0) }]));
}

interface Figure {
  name: string;
  /** How the figure and its CPU figure read in the table. */
  unit: string;
  cpu: string;
  /** Per side (0: small, 1: large), one sample per round. */
  samples: [Sample[], Sample[]];
  /** Measures both sides once, in `order`. */
  round(order: number[]): Promise<void>;
}

async function benchmarkBackend(kind: 'sqlite' | 'postgres'): Promise<string> {
  const loadAtStart = load();
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-data-growth-'));
  const postgres: TestPostgres[] = [];
  const stacks: LatchkeyStack[] = [];
  const sides: Side[] = [];
  const redisDbs = await emptyRedisDatabases(2);
  try {
    const databases: string[] = [];
    for (const size of sizes) {
      if (kind === 'sqlite') databases.push(join(dir, `latchkey-${size}.db`));
      else { const db = await createTestPostgres(); postgres.push(db); databases.push(db.url); }
    }
    for (let i = 0; i < sizes.length; i++) stacks.push(await startLatchkeyStack(run, { database: databases[i], redisUrl: redisUrlOf(redisDbs[i]) }));
    for (let i = 0; i < sizes.length; i++) {
      sides.push(await seedSide(stacks[i], sizes[i], kind));
      console.log(`  ${kind}: seeded ${sizes[i].toLocaleString('en')} people in ${sides[i].seedSeconds.toFixed(0)} s`);
    }
    const storedAtStart = await Promise.all(sides.map((side) => storedCounts(side.stack)));

    const timings: [Record<ProxyMode, SignInTimings[]>, Record<ProxyMode, SignInTimings[]>] = [{ cookie: [], redis: [] }, { cookie: [], redis: [] }];
    const figures: Figure[] = [];
    const sideBySide = (measure: (side: Side) => Promise<Sample>) => async function (this: Figure, order: number[]) {
      for (const i of order) this.samples[i].push(await measure(sides[i]));
    };
    const serverNames = kind === 'postgres' ? 'id + proxy + PostgreSQL' : 'id + proxy';
    for (const mode of PROXY_MODES) {
      figures.push({ name: `/oauth2/auth, ${MODE_NAME[mode]} (wrk -t1 -c50)`, unit: 'requests/s', cpu: 'proxy CPU µs per request', samples: [[], []], round: sideBySide((side) => authRun(side, mode)) });
    }
    for (const mode of PROXY_MODES) {
      figures.push({ name: `passkey sign-ins through the proxy, ${MODE_NAME[mode]} (${concurrency} at a time)`, unit: 'sign-ins/s', cpu: `${serverNames} CPU ms per sign-in`, samples: [[], []], round: sideBySide((side) => signInRun(side, mode)) });
    }
    for (const mode of PROXY_MODES) {
      figures.push({
        name: `sign-in server time (options + verify + callback), ${MODE_NAME[mode]}, one at a time`, unit: 'ms, median', cpu: `${serverNames} CPU ms per sign-in`, samples: [[], []],
        // One sign-in on each side in turn: the two samples of a pair share the machine's load of that moment.
        async round(order) {
          const pids = await Promise.all(sides.map((side) => serverPids(side, mode, true)));
          const before = pids.map(cpuSnapshot);
          const these: SignInTimings[][] = [[], []];
          for (let k = 0; k < timedPerRound; k++) for (const i of order) these[i].push((await signInRandom(sides[i], mode)).timings);
          const after = await Promise.all(sides.map((side) => serverPids(side, mode, true)));
          for (const i of order) {
            timings[i][mode].push(...these[i]);
            this.samples[i].push({ value: median(these[i].map(serverMs)), cpuMsPerOp: cpuUsedMs(before[i], cpuSnapshot(after[i])) / timedPerRound });
          }
        },
      });
    }

    const scansBefore = kind === 'postgres' ? await postgresScans(sides[1]) : null;
    for (let round = 0; round < rounds; round++) {
      // Fresh processes every round: two identical processes can differ by 15 % for as long as
      // they live (seen with --small 10 --count 10, and on the cookie-session proxy, which never
      // reads stored data), so no ratio may rest on one pair of processes. Then both are warmed
      // alike (JIT, connection pools, caches) before anything is recorded.
      for (const side of sides) await side.stack.restart();
      for (const side of sides) {
        for (let i = 0; i < 10; i++) await signInRandom(side, PROXY_MODES[i % 2]);
        for (const mode of PROXY_MODES) await authRun(side, mode, 1);
      }
      // Alternate which side goes first, so a drift in the machine's load favours neither.
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const figure of figures) await figure.round(order);
      console.log(`  ${kind}: round ${round + 1}/${rounds} done (load ${load()})`);
    }
    const scansAfter = kind === 'postgres' ? await postgresScans(sides[1]) : null;
    const storedAtEnd = await Promise.all(sides.map((side) => storedCounts(side.stack)));
    const memory = sides.map((side) => `${side.size.toLocaleString('en')}: id ${rssMb(side.stack.id.pid!).toFixed(0)} MB, cookie proxy ${rssMb(side.stack.proxies.cookie.child.pid!).toFixed(0)} MB, Redis proxy ${rssMb(side.stack.proxies.redis.child.pid!).toFixed(0)} MB`);

    const label = (n: number) => n.toLocaleString('en');
    const fmt = (value: number) => (value >= 100 ? Math.round(value).toLocaleString('en') : value.toFixed(1));
    const lines = [
      `### ${kind === 'sqlite' ? 'SQLite (the default)' : 'PostgreSQL'}`, '',
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}, load average ${loadAtStart} at start and ${load()} at the end (1, 5, 15 min); ` +
      `Node ${process.version}; latchkey ${values.source ? 'from source (src/main.ts)' : `from the bundle with ${PRODUCTION_NODE_ARGS.join(' ')} (${PROXY_FLAGS_TEXT})`}; ` +
      `backend ${kind === 'sqlite' ? 'SQLite (a file per stack)' : 'PostgreSQL 15 (a database per stack)'}, proxy sessions in Redis databases ${redisDbs.join(' and ')}; ` +
      `${rounds} rounds of ${seconds} s (sign-in server time: ${timedPerRound} pairs per round), interleaved, fresh processes each round, medians.`, '',
      `| figure | ${label(sizes[0])} | ${label(sizes[1])} | ratio | met (< 10 % difference) | per-round ratios |`,
      '|---|---:|---:|---:|---|---|',
    ];
    // The ratio is the median of the rounds' own ratios: the two sides of a round ran seconds
    // apart, so a change in the machine's load between rounds cancels out of each ratio.
    const row = (name: string, runs: number[][]) => {
      const ratios = runs[1].map((large, round) => large / runs[0][round]);
      const ratio = median(ratios);
      lines.push(`| ${name} | ${fmt(median(runs[0]))} | ${fmt(median(runs[1]))} | ${ratio.toFixed(2)} | ${Math.abs(ratio - 1) < 0.1 ? 'yes' : 'no'} | ${ratios.map((r) => r.toFixed(2)).join(', ')} |`);
    };
    for (const figure of figures) {
      row(`${figure.name}: ${figure.unit}`, figure.samples.map((list) => list.map((s) => s.value)));
      row(`… ${figure.cpu}`, figure.samples.map((list) => list.map((s) => (figure.cpu.includes('µs') ? s.cpuMsPerOp * 1000 : s.cpuMsPerOp))));
    }
    lines.push('');
    for (const mode of PROXY_MODES) {
      const parts = sides.map((side, i) => {
        const all = timings[i][mode];
        const part = (key: keyof SignInTimings) => median(all.map((t) => t[key])).toFixed(1);
        return `${label(side.size)}: options ${part('optionsMs')} + verify ${part('verifyMs')} + callback ${part('callbackMs')} → ${median(all.map(serverMs)).toFixed(1)} ms (${all.length} sign-ins)`;
      });
      lines.push(`Sign-in server time, ${MODE_NAME[mode]}, medians over all rounds — ${parts.join('; ')}. Target ≤ 20 ms: ${sides.every((_, i) => median(timings[i][mode].map(serverMs)) <= 20) ? 'met' : 'not met'}.`, '');
    }
    const describe = (counts: Record<string, number>) => Object.entries(counts).map(([k, v]) => `${k} ${label(v)}`).join(', ');
    for (let i = 0; i < sides.length; i++) {
      lines.push(`Stored, ${label(sizes[i])} people (seeded in ${sides[i].seedSeconds.toFixed(0)} s): at start ${describe(storedAtStart[i])}; at the end ${describe(storedAtEnd[i])} (every measured sign-in stores its own sessions).`, '');
    }
    lines.push(`Resident memory after the rounds — ${memory.join('; ')}.`, '');
    if (scansBefore && scansAfter) {
      const grew = [...scansAfter].map(([table, after]) => {
        const before = scansBefore.get(table) ?? { seq: 0, rows: 0, idx: 0 };
        return { table, seq: after.seq - before.seq, rows: after.rows - before.rows, idx: after.idx - before.idx };
      }).filter((t) => t.seq > 0 || t.idx > 0).sort((a, b) => b.rows - a.rows);
      lines.push(`PostgreSQL's counters on the ${label(sizes[1])} stack during the rounds (pg_stat_user_tables): ` +
        (grew.map((t) => `${t.table} ${t.seq} sequential scans reading ${label(t.rows)} rows, ${t.idx} index scans`).join('; ') || 'no scans') + '.', '');
    }
    return lines.join('\n');
  } finally {
    await Promise.all(sides.map((side) => side.monitor?.close()));
    await Promise.all(stacks.map((stack) => stack.close()));
    for (const db of redisDbs) {
      const redis = new Redis(redisUrlOf(db));
      await deleteRedisKeys(redis, 'latchkey:proxy:');
      redis.disconnect();
    }
    await Promise.all(postgres.map((db) => db.drop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`latchkey data growth (issue #8, target 6): ${sizes.map((n) => n.toLocaleString('en')).join(' vs ')} people, ${backends.join(' and ')}; load average ${load()}`);
const reports: string[] = [];
try {
  for (const backend of backends) reports.push(await benchmarkBackend(backend));
} finally {
  // The bundle this run built (bench/lib/bundle.ts puts it in a temporary folder of its own).
  if (!values.source) rmSync(dirname(run.entry), { recursive: true, force: true });
}
console.log(`\n${reports.join('\n\n')}`);
