// Passkey sign-in and registration for latchkey's pages. Loaded as
// <script type="module" src="/assets/passkey.js"> (no inline script, so a strict CSP holds).
//
//   <button data-passkey-login>Sign in with a passkey</button>
//   <input id="passkey-name"> <button data-passkey-register data-passkey-name-input="passkey-name">Add a passkey</button>
//   <p role="alert"></p>
//
// Each button posts JSON to /api/webauthn/{login,register}/{start,finish} (with the page's CSRF
// token from <meta name="csrf-token">, as x-csrf-token), runs the browser ceremony through
// SimpleWebAuthn, and on success goes to the `redirectTo` the server answered with. The start also
// sets an HttpOnly cookie that ties the ceremony to this browser; fetch sends it back with the
// finish by itself (credentials: 'same-origin'). Without it the server asks to start again.
import { startAuthentication, startRegistration } from './simplewebauthn-browser.js';

const MESSAGES = {
  insecure: 'Passkeys need a secure connection. Open this page over https (or at http://localhost).',
  unsupported: 'This browser does not support passkeys. Please use an up-to-date browser.',
  cancelled: 'The passkey request was cancelled or timed out. Press the button to try again.',
  // Sign-in: NotAllowedError also means this device holds no passkey for this site (WebAuthn §5.1.4.1).
  signInCancelled: 'The passkey request was cancelled or timed out, or this device has no passkey for this site. Try again, use another device, or ',
  wrongSite: 'Passkeys cannot be used at this address. Open the site at its usual address and try again.',
  alreadyRegistered: 'This device already holds a passkey for your account.',
  network: 'The server could not be reached. Check your connection and try again.',
  failed: 'Something went wrong with the passkey. Please try again.',
};

/** An error whose message is safe to show as is (it came from our server, or from MESSAGES). */
class ShownError extends Error {
  /** `link` ({ href, text }) follows the message: the way forward when the passkey cannot work. */
  constructor(message, code, link) {
    super(message);
    this.code = code;
    this.link = link;
  }
}

const RECOVERY_LINK = { href: '/login/recovery', text: 'sign in with a recovery code' };

function alertFor(button) {
  const scope = button.closest('form, section, article, main, body');
  let alert = scope?.querySelector('[role="alert"]') ?? document.querySelector('[role="alert"]');
  if (!alert) {
    alert = document.createElement('p');
    alert.setAttribute('role', 'alert');
    button.insertAdjacentElement('afterend', alert);
  }
  return alert;
}

function show(button, message, link) {
  const alert = alertFor(button);
  alert.textContent = message;
  if (link) {
    const anchor = document.createElement('a');
    anchor.href = link.href;
    anchor.textContent = link.text;
    alert.append(anchor, '.');
  }
  alert.hidden = !message;
}

/** WebAuthn needs a secure context (WebAuthn §5: [SecureContext]) and PublicKeyCredential. */
function unavailableReason() {
  if (!window.isSecureContext) return MESSAGES.insecure;
  if (typeof window.PublicKeyCredential !== 'function') return MESSAGES.unsupported;
  return null;
}

async function postJson(url, body) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content');
  if (csrf) headers['x-csrf-token'] = csrf;
  let response;
  try {
    response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ShownError(MESSAGES.network, 'network');
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ShownError(data?.message || MESSAGES.failed, data?.error || `http_${response.status}`);
  return data ?? {};
}

/** Browser errors (WebAuthn §5.1.3 / §5.1.4 DOMException names) as messages a person can act on. */
function messageForBrowserError(error) {
  if (error?.code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED' || error?.name === 'InvalidStateError') return MESSAGES.alreadyRegistered;
  if (error?.name === 'NotAllowedError' || error?.name === 'AbortError') return MESSAGES.cancelled;
  if (error?.name === 'SecurityError' || error?.code === 'ERROR_INVALID_DOMAIN' || error?.code === 'ERROR_INVALID_RP_ID') return MESSAGES.wrongSite;
  return MESSAGES.failed;
}

function goTo(redirectTo) {
  const target = new URL(typeof redirectTo === 'string' ? redirectTo : '/', window.location.href);
  // Only web addresses: a javascript: URL from anywhere must never run.
  window.location.assign(target.protocol === 'https:' || target.protocol === 'http:' ? target.href : '/');
}

async function signIn() {
  const { flowId, options } = await postJson('/api/webauthn/login/start', {});
  let response;
  try {
    response = await startAuthentication({ optionsJSON: options });
  } catch (error) {
    const message = messageForBrowserError(error);
    if (message === MESSAGES.cancelled) throw new ShownError(MESSAGES.signInCancelled, error?.name, RECOVERY_LINK);
    throw new ShownError(message, error?.name);
  }
  // An unknown passkey is not reported to the device (PublicKeyCredential.signalUnknownCredential):
  // the server cannot tell a passkey it deleted from one it will know again (a backup being
  // restored, a server started on an empty database by mistake), and the signal deletes the
  // passkey from the device for good.
  return postJson('/api/webauthn/login/finish', { flowId, response });
}

async function register(button) {
  const { flowId, options } = await postJson('/api/webauthn/register/start', {});
  let response;
  try {
    response = await startRegistration({ optionsJSON: options });
  } catch (error) {
    throw new ShownError(messageForBrowserError(error), error?.name);
  }
  const body = { flowId, response };
  const name = nameInputOf(button)?.value.trim();
  if (name) body.name = name;
  return postJson('/api/webauthn/register/finish', body);
}

function nameInputOf(button) {
  const ref = button.getAttribute('data-passkey-name-input');
  if (!ref) return null;
  try {
    return document.getElementById(ref) ?? document.querySelector(ref);
  } catch {
    return null;
  }
}

function bind(button, ceremony) {
  const reason = unavailableReason();
  if (reason) {
    button.disabled = true;
    show(button, reason);
    return;
  }
  button.addEventListener('click', async (event) => {
    event.preventDefault();
    if (button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    button.disabled = true;
    show(button, '');
    try {
      const result = await ceremony(button);
      goTo(result.redirectTo);
    } catch (error) {
      show(button, error instanceof ShownError ? error.message : MESSAGES.failed, error?.link);
      button.disabled = false;
      // Disabling the button dropped keyboard focus to <body>; give it back so the person can try again.
      button.focus();
    } finally {
      button.removeAttribute('aria-busy');
    }
  });
}

for (const button of document.querySelectorAll('[data-passkey-login]')) bind(button, signIn);
for (const button of document.querySelectorAll('[data-passkey-register]')) bind(button, register);
