// One process writing to a shared SQLite file through latchkey's own services, as `latchkey id`
// and an administrator's CLI commands do side by side. Run by sqlite-concurrent-writers.test.ts:
//   node sqlite-writer.ts <db file> <name> <iterations> <start at, epoch ms>
// It prints one JSON line: the operations done, the errors met, and the longest event-loop stall.
import { systemClock } from '../../src/core/clock.ts';
import { createIdentity } from '../../src/identity/index.ts';
import { rotateSigningKey } from '../../src/oidc/keys.ts';
import { openMigratedDatabase } from '../../src/storage/database.ts';

const [file, name, iterationsText, startAtText] = process.argv.slice(2) as [string, string, string, string];
const KEY = Buffer.alloc(32, 7);

// Every process starts at the same moment, so their transactions overlap.
const wait = Number(startAtText) - Date.now();
if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));

let maxStallMs = 0;
let last = performance.now();
const ticker = setInterval(() => {
  const now = performance.now();
  maxStallMs = Math.max(maxStallMs, now - last - 1);
  last = now;
}, 1);

const errors: string[] = [];
let operations = 0;
const attempt = async (what: string, work: () => Promise<unknown>) => {
  try {
    await work();
    operations++;
  } catch (error) {
    // Two rotations from the same key: one wins and the other says so; that is the design.
    if ((error as { code?: string }).code === 'rotation_conflict') return;
    errors.push(`${what}: ${(error as Error).message} (${(error as { code?: string }).code ?? ''})`);
  }
};

const database = await openMigratedDatabase(file);
const identity = createIdentity({ db: database.db, clock: systemClock, sessionTtlSeconds: 3600 });
const admin = await identity.users.findByLogin('admin');
for (let i = 0; i < Number(iterationsText); i++) {
  let userId = '';
  // users.create reads (is the name free?) then inserts; update and setMembers are read-then-write
  // transactions; a rotation and recovery codes are transactions that write first.
  await attempt('users.create', async () => { userId = (await identity.users.create({ username: `${name}-${i}` })).id; });
  await attempt('users.update', () => identity.users.update(userId, { disabled: true }));
  await attempt('users.update admin', () => identity.users.update(admin!.id, { lastName: `${name}-${i}` }));
  await attempt('links.issue', () => identity.links.issue('signin', userId, 600));
  await attempt('groups.setMembers', async () => {
    const group = (await identity.groups.list()).find((g) => g.name === 'shared')!;
    await identity.groups.setMembers(group.id, [userId]);
  });
  await attempt('recoveryCodes.generate', () => identity.recoveryCodes.generate(userId));
  if (i % 5 === 0) await attempt('rotateSigningKey', () => rotateSigningKey(database.db, systemClock, KEY, { alg: 'ES256', overlapSeconds: 60 }));
}
clearInterval(ticker);
await database.close();
process.stdout.write(`${JSON.stringify({ name, operations, errors, maxStallMs: Math.round(maxStallMs) })}\n`);
