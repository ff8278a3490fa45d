import type { Clock } from '../core/clock.ts';
import { randomId } from '../core/random.ts';
import type { Db } from '../storage/database.ts';

export interface AuditEvent {
  event: string;
  userId?: string | null;
  clientId?: string | null;
  /** The client's address as TRUST_PROXY allows us to know it (request.ip), never a raw header. */
  ip?: string | null;
  userAgent?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditEntry extends Required<Omit<AuditEvent, 'details'>> {
  id: string;
  createdAt: number;
  details: Record<string, unknown>;
}

export function createAuditLog(db: Db, clock: Clock) {
  return {
    async record(event: AuditEvent): Promise<void> {
      await db.insertInto('audit_log').values({
        id: randomId(),
        created_at: clock.nowMs(),
        event: event.event,
        user_id: event.userId ?? null,
        client_id: event.clientId ?? null,
        ip: event.ip ?? null,
        user_agent: event.userAgent?.slice(0, 300) ?? null,
        details: JSON.stringify(event.details ?? {}),
      }).execute();
    },
    /** Newest first; `before` pages backwards by creation time. */
    async list(filter: { userId?: string; event?: string; clientId?: string; before?: number; limit?: number } = {}): Promise<AuditEntry[]> {
      let query = db.selectFrom('audit_log').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(Math.min(filter.limit ?? 50, 500));
      if (filter.userId) query = query.where('user_id', '=', filter.userId);
      if (filter.event) query = query.where('event', '=', filter.event);
      if (filter.clientId) query = query.where('client_id', '=', filter.clientId);
      if (filter.before) query = query.where('created_at', '<', filter.before);
      const rows = await query.execute();
      return rows.map((r) => ({
        id: r.id, createdAt: r.created_at, event: r.event, userId: r.user_id, clientId: r.client_id, ip: r.ip, userAgent: r.user_agent,
        details: JSON.parse(r.details) as Record<string, unknown>,
      }));
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
