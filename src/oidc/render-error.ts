import { messagePage as pageOf } from './pages.ts';
import type { Html } from '../web/html.ts';

interface ProviderErrorOut {
  error: string;
  error_description?: string;
}

/**
 * oidc-provider calls its `renderError` hook when it cannot (or must not) send the error back to the
 * client, above all when the redirect_uri is not registered (RFC 6749 §4.1.2.1: the server MUST NOT
 * redirect then). The page uses our own wording; the library's description is only logged.
 */
export function providerErrorPage(out: ProviderErrorOut, error: Error, appName?: string): { status: number; page: Html } {
  const messagePage = (view: Parameters<typeof pageOf>[0]) => pageOf({ ...view, appName });
  const name = error?.name;
  if (name === 'SessionNotFound' || name === 'InvalidRequest' && /interaction|session/i.test(out.error_description ?? ''))
    return { status: 400, page: messagePage({ title: 'This sign-in expired', message: 'This sign-in attempt expired or was already used.', hint: 'Go back to the application and sign in again.', code: 'session_not_found' }) };
  // RP-Initiated Logout §3: an unregistered post_logout_redirect_uri is invalid_request, which the
  // default below would call a sign-in request: an admin fixing it would look in the wrong place.
  if (out.error === 'invalid_request' && /post_logout_redirect_uri/.test(out.error_description ?? ''))
    return { status: 400, page: messagePage({
      title: 'Unregistered return address',
      message: 'The application asked to send you back after signing out to an address that is not registered for it, so you were not signed out and not sent there.',
      hint: 'An administrator must add the exact address to the client\'s sign-out return addresses in latchkey.',
      code: out.error,
    }) };
  switch (out.error) {
    case 'invalid_redirect_uri':
      return { status: 400, page: messagePage({
        title: 'Unregistered return address',
        message: 'The application asked to send you back to an address that is not registered for it, so you were not sent there.',
        hint: 'An administrator must add the exact callback URL (scheme, host, port, path and query) to the client in latchkey.',
        code: out.error,
      }) };
    case 'invalid_client':
      return { status: 400, page: messagePage({ title: 'Unknown application', message: 'The application that sent you here is not registered with this identity provider.', code: out.error }) };
    case 'server_error':
      return { status: 500, page: messagePage({ title: 'Something went wrong', message: 'Something went wrong on our side. Please try again.', code: out.error }) };
    default:
      return { status: 400, page: messagePage({
        title: 'Invalid sign-in request',
        message: 'The application sent a sign-in request that cannot be processed.',
        hint: 'Go back to the application and try again; if it keeps happening, its configuration needs fixing.',
        code: /^[a-z_]{1,64}$/.test(out.error) ? out.error : 'invalid_request',
      }) };
  }
}
