import { AppError } from '../core/errors.ts';

// Reading urlencoded admin forms. @fastify/formbody gives a string for a field sent once and an
// array for a field sent several times (checkbox groups), and nothing for an unticked checkbox.

export type FormBody = Record<string, string | string[] | undefined>;

export const formBody = (body: unknown): FormBody => (body && typeof body === 'object' ? body as FormBody : {});

/** The field's single value, trimmed; '' when absent. */
export function field(body: FormBody, name: string): string {
  const value = body[name];
  return (Array.isArray(value) ? value[0] ?? '' : value ?? '').trim();
}

/** Every value of a repeated field (ticked checkboxes), without blanks. */
export function fields(body: FormBody, name: string): string[] {
  const value = body[name];
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map((v) => v.trim()).filter(Boolean);
}

export const checked = (body: FormBody, name: string): boolean => field(body, name) !== '';

/** A textarea with one entry per line (redirect URIs). */
export const lines = (text: string): string[] => text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);

export type FieldErrors = Record<string, string>;

/**
 * Turns a service's refusal into messages next to the fields that caused it. Services report the
 * fields as `details.fields` ({field: reason}); the human sentence is the error's message, which
 * sometimes starts with the field's API name ("redirectUris: …"), dropped here.
 * `fallbackField` takes a refusal that names no field (a conflict, say). Returns null for errors
 * that are not about the input: those go to the error page.
 */
export function fieldErrorsFrom(error: unknown, fallbackField: string, byCode: Record<string, string> = {}): FieldErrors | null {
  if (!(error instanceof AppError) || (error.status !== 400 && error.status !== 409)) return null;
  const withoutField = error.message.replace(/^[a-zA-Z]+: /, '');
  // "redirectUris: at least one URI is needed." reads as a sentence of its own next to the field.
  const message = withoutField.charAt(0).toUpperCase() + withoutField.slice(1);
  const named = error.details?.fields as Record<string, string> | undefined;
  const target = byCode[error.code] ?? (named ? Object.keys(named)[0] : fallbackField);
  const out: FieldErrors = {};
  if (named && !byCode[error.code]) {
    // A reason such as "invalid" is not a sentence; the first field gets the message, the others a pointer.
    for (const [name, reason] of Object.entries(named)) out[name] = reason.length > 20 ? reason : name === target ? message : 'Please check this field.';
    return out;
  }
  out[target] = message;
  return out;
}
