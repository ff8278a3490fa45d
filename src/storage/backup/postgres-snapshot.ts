// One PostgreSQL snapshot for a whole backup. The manifest's facts (migrations, last write) and
// pg_dump's rows must describe the same moment: read one after the other, a write landing between
// them (the running server signing someone in, an upgrade migrating) makes the manifest describe a
// database the dump does not hold. So the facts are read in a REPEATABLE READ transaction whose
// snapshot is exported, and pg_dump reads that same snapshot (--snapshot). An exported snapshot can
// be imported only while the transaction that exported it is open, so it stays open until pg_dump
// is done (PostgreSQL documentation, "Snapshot Synchronization Functions", pg_export_snapshot).
import { sql } from 'kysely';
import { openDatabase, postgresConnectionProblem, type Db } from '../database.ts';

/**
 * Runs `use` inside a read-only REPEATABLE READ transaction, with the id of its exported snapshot.
 * `name`: the database without its password, for a refusal to connect.
 */
export async function inOneSnapshot<T>(connection: string, name: string, use: (db: Db, snapshotId: string) => Promise<T>): Promise<T> {
  const database = await openDatabase(connection);
  let connected = false;
  try {
    return await database.db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(async (trx) => {
      connected = true;
      // A server that ends idle transactions would end this one while pg_dump starts; only this one is exempt.
      await sql`set local idle_in_transaction_session_timeout = 0`.execute(trx);
      const { rows } = await sql<{ id: string }>`select pg_export_snapshot() as id`.execute(trx);
      return await use(trx, rows[0].id);
    });
  } catch (error) {
    // the transaction's BEGIN is the first statement on the connection: a server that is down or refuses us is said so here
    throw (connected ? null : postgresConnectionProblem(error, name)) ?? error;
  } finally {
    await database.close();
  }
}
