// Every audited event (sign-ins, admin actions, token grants) is also a log line at info, so an
// operator following the log sees them without querying the database.
import type { FastifyBaseLogger } from 'fastify';
import type { AuditEvent, AuditLog } from '../identity/audit-log.ts';

// Detail fields that could carry a credential never reach the log (the database keeps them).
const SENSITIVE_DETAIL = /secret|token|key|code|credential|password|cookie/i;

export function auditLogFields(event: AuditEvent): Record<string, unknown> {
  const details = Object.fromEntries(Object.entries(event.details ?? {}).filter(([key]) => !SENSITIVE_DETAIL.test(key)));
  return { event: event.event, userId: event.userId ?? undefined, clientId: event.clientId ?? undefined, ip: event.ip ?? undefined, ...(Object.keys(details).length ? { details } : {}) };
}

/** Wraps the audit log's record() so that each event is also logged and passed to `observe`. */
export function observeAuditEvents(audit: AuditLog, log: FastifyBaseLogger, observe?: (event: AuditEvent) => void): void {
  const record = audit.record.bind(audit);
  audit.record = async (event) => {
    await record(event);
    log.info(auditLogFields(event), `audit: ${event.event}`);
    observe?.(event);
  };
}
