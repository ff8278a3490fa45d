import { AppError } from '../core/errors.ts';

// Reading urlencoded browser forms, for every form handler of the identity provider (sign-in,
// account and admin pages). @fastify/formbody gives a string for a field sent once, an array for a
// field sent several times, and nothing for a field not sent (an unticked checkbox); a JSON body
// can hold anything. Our pages send each field once, so anything else is refused before a handler
// acts on it: a clear 400 page, and nothing changed.

export type FormBody = Readonly<Record<string, unknown>>;

export const formBody = (body: unknown): FormBody => (body && typeof body === 'object' && !Array.isArray(body) ? body as FormBody : {});

const AGAIN = 'so nothing was changed. Go back, reload the page and send the form again.';

const repeated = (name: string) => new AppError('form_field_repeated', 400, `The form sent the field “${name}” more than once, ${AGAIN}`);
const notText = (name: string) => new AppError('form_field_invalid', 400, `The form sent the field “${name}” as something other than text, ${AGAIN}`);
const missing = (name: string) => new AppError('form_field_missing', 400, `The form arrived without the field “${name}”, ${AGAIN}`);

/**
 * The field's one value, trimmed. Refuses a field sent more than once or not as text, and a field
 * not sent at all unless it is `optional` (a checkbox, a radio group, an input only some versions
 * of a form have), which then reads as ''. A missing text input is refused rather than read as
 * empty: that would erase what it holds (a profile's last name).
 */
export function field(body: FormBody, name: string, options: { optional?: boolean } = {}): string {
  const value = Object.hasOwn(body, name) ? body[name] : undefined;
  if (value === undefined) {
    if (options.optional) return '';
    throw missing(name);
  }
  if (Array.isArray(value)) throw repeated(name);
  if (typeof value !== 'string') throw notText(name);
  return value.trim();
}

export const optionalField = (body: FormBody, name: string): string => field(body, name, { optional: true });

/** Every value of a field that may repeat (ticked checkboxes of one group), without blanks. */
export function fields(body: FormBody, name: string): string[] {
  const value = Object.hasOwn(body, name) ? body[name] : undefined;
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  if (list.some((v) => typeof v !== 'string')) throw notText(name);
  return (list as string[]).map((v) => v.trim()).filter(Boolean);
}

/** A checkbox: ticked when sent with a value; never sent when unticked. */
export const checked = (body: FormBody, name: string): boolean => optionalField(body, name) !== '';

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
