import { isValidAppName } from '../core/app-name.ts';
import type { Clock } from '../core/clock.ts';
import { badRequest } from '../core/errors.ts';
import { formatDurationSeconds, parseGoDurationMs, SESSION_DURATION_RANGE_SECONDS } from '../core/duration.ts';
import type { Db } from '../storage/database.ts';
import type { AuditLog } from './audit-log.ts';

// The settings an admin can change in the console (Pocket ID's "Application Configuration").
// They live in app_state so every instance sharing the database agrees; APP_NAME and
// SESSION_DURATION are only the defaults until an admin saves a value.

export interface AppSettings {
  appName: string;
  sessionDurationSeconds: number;
}

/** What an admin typed: the name, and the duration in Go syntax ("720h"). */
export interface AppSettingsChanges {
  appName?: string;
  sessionDuration?: string;
}

const KEYS = { appName: 'settings.app_name', sessionDurationSeconds: 'settings.session_duration_seconds' } as const;
const { min: MIN_SESSION_SECONDS, max: MAX_SESSION_SECONDS } = SESSION_DURATION_RANGE_SECONDS;
// Other instances' saves are seen within this long; this instance's own saves at once.
const CACHE_MS = 30_000;

/** Checks every field at once; returns the accepted values and the problems keyed by field. */
export function validateAppSettings(changes: AppSettingsChanges): { values: Partial<AppSettings>; problems: Record<string, string> } {
  const values: Partial<AppSettings> = {};
  const problems: Record<string, string> = {};
  if (changes.appName !== undefined) {
    const name = changes.appName.trim();
    if (!isValidAppName(name)) problems.appName = 'Use 1–50 characters, without line breaks or control characters.';
    else values.appName = name;
  }
  if (changes.sessionDuration !== undefined) {
    const ms = parseGoDurationMs(changes.sessionDuration);
    const seconds = ms === null ? null : Math.round(ms / 1000);
    if (seconds === null || seconds < MIN_SESSION_SECONDS || seconds > MAX_SESSION_SECONDS)
      problems.sessionDuration = 'Use a duration such as 720h, 24h or 90m, between 5m and 8760h (365 days).';
    else values.sessionDurationSeconds = seconds;
  }
  return { values, problems };
}

export function createAppSettings(deps: { db: Db; clock: Clock; audit: AuditLog; defaults: AppSettings }) {
  const { db, clock, defaults } = deps;
  let cached: AppSettings = { ...defaults };
  let loadedAt = -Infinity;
  let loading: Promise<AppSettings> | null = null;

  async function load(): Promise<AppSettings> {
    const rows = await db.selectFrom('app_state').select(['key', 'value']).where('key', 'in', Object.values(KEYS)).execute();
    const stored = new Map(rows.map((r) => [r.key, r.value]));
    const seconds = Number(stored.get(KEYS.sessionDurationSeconds));
    cached = {
      appName: stored.get(KEYS.appName) ?? defaults.appName,
      sessionDurationSeconds: Number.isInteger(seconds) && seconds > 0 ? seconds : defaults.sessionDurationSeconds,
    };
    loadedAt = clock.nowMs();
    return cached;
  }
  const refresh = () => (loading ??= load().finally(() => { loading = null; }));
  const fresh = () => clock.nowMs() - loadedAt < CACHE_MS;

  return {
    /** The current settings, read from the database at most every 30 seconds. */
    async get(): Promise<AppSettings> {
      return fresh() ? cached : refresh();
    },
    /**
     * The last known settings without waiting, for page chrome; a stale cache is refreshed in the
     * background (a failed read keeps the old values and is retried on the next call).
     */
    current(): AppSettings {
      if (!fresh()) void refresh().catch(() => {});
      return cached;
    },
    /** Saves the given fields after checking all of them, and records who changed what. */
    async update(changes: AppSettingsChanges, audit: { userId?: string | null; ip?: string | null; userAgent?: string | null; details?: Record<string, unknown> } = {}): Promise<AppSettings> {
      const { values, problems } = validateAppSettings(changes);
      if (Object.keys(problems).length) throw badRequest('invalid_settings', Object.values(problems).join(' '), { fields: problems });
      const before = await load();
      const entries = Object.entries(values).map(([field, value]) => ({ key: KEYS[field as keyof AppSettings], value: String(value) }));
      await db.transaction().execute(async (trx) => {
        for (const entry of entries)
          await trx.insertInto('app_state').values(entry).onConflict((oc) => oc.column('key').doUpdateSet({ value: entry.value })).execute();
      });
      const after = await load();
      const changed: Record<string, { from: string | number; to: string | number }> = {};
      if (before.appName !== after.appName) changed.appName = { from: before.appName, to: after.appName };
      if (before.sessionDurationSeconds !== after.sessionDurationSeconds)
        changed.sessionDuration = { from: formatDurationSeconds(before.sessionDurationSeconds), to: formatDurationSeconds(after.sessionDurationSeconds) };
      await deps.audit.record({ event: 'settings_updated', userId: audit.userId, ip: audit.ip, userAgent: audit.userAgent, details: { ...audit.details, changed } });
      return after;
    },
  };
}

export type AppSettingsService = ReturnType<typeof createAppSettings>;
