import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientInput, OidcClient } from '../oidc/clients.ts';
import { accessSummary, clientDetailPage, clientListPage, clientSecretPage, emptyClientForm, managedClientPage, newClientPage, type ClientFormValues } from '../web/pages/admin/clients-pages.ts';
import { confirmPage } from '../web/pages/admin/confirm-page.ts';
import { clientSetupValues } from './client-setup.ts';
import type { AdminContext } from './context.ts';
import { checked, field, fieldErrorsFrom, fields, formBody, lines, optionalField, type FieldErrors, type FormBody } from '../web/form.ts';
import { adminOf } from './guard.ts';
import { validateClientId, validateClientName, validateClientUri, validateUriList } from '../oidc/validate-client-input.ts';

type Params = { Params: { id: string } };

const MANAGED_REFUSAL = 'latchkey serve sets up this app at every start; it cannot be given a new secret or deleted here (that would stop every sign-in to the site until the next start).';

// The client ID is an input of the new-client form only; `access` is a radio group.
const readClientForm = (body: FormBody): ClientFormValues => ({
  id: optionalField(body, 'id'), name: field(body, 'name'), redirectUris: field(body, 'redirectUris'), postLogoutRedirectUris: field(body, 'postLogoutRedirectUris'),
  backchannelLogoutUri: field(body, 'backchannelLogoutUri'), isPublic: checked(body, 'isPublic'), requirePkce: checked(body, 'requirePkce'),
  access: optionalField(body, 'access') === 'everyone' ? 'everyone' : 'groups', allowedGroups: fields(body, 'allowedGroups'),
});

const formOf = (c: OidcClient): ClientFormValues => ({
  id: c.id, name: c.name, redirectUris: c.redirectUris.join('\n'), postLogoutRedirectUris: c.postLogoutRedirectUris.join('\n'),
  backchannelLogoutUri: c.backchannelLogoutUri ?? '', isPublic: c.isPublic, requirePkce: c.requirePkce,
  access: c.unrestricted ? 'everyone' : 'groups', allowedGroups: c.allowedGroups,
});

/**
 * The form as the clients service's input, and every problem with it at once: the service's own
 * validators (it stops at the first), plus a rule only the form has: "only these groups" needs one.
 */
function toInput(values: ClientFormValues, isNew: boolean): { input: Omit<ClientInput, 'id'>; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const check = (name: string, validate: () => unknown) => {
    try {
      validate();
    } catch (error) {
      const found = fieldErrorsFrom(error, name);
      if (!found) throw error;
      errors[name] = found[name] ?? Object.values(found)[0];
    }
  };
  check('name', () => validateClientName(values.name));
  if (isNew && values.id) check('id', () => validateClientId(values.id));
  check('redirectUris', () => validateUriList(lines(values.redirectUris), 'redirectUris', { atLeastOne: true }));
  check('postLogoutRedirectUris', () => validateUriList(lines(values.postLogoutRedirectUris), 'postLogoutRedirectUris', { atLeastOne: false }));
  if (values.backchannelLogoutUri) check('backchannelLogoutUri', () => validateClientUri(values.backchannelLogoutUri, 'backchannelLogoutUri'));
  if (values.access === 'groups' && values.allowedGroups.length === 0)
    errors.allowedGroups = 'Choose at least one group, or choose “Everyone with an account”.';
  return {
    errors,
    input: {
      name: values.name, redirectUris: lines(values.redirectUris), postLogoutRedirectUris: lines(values.postLogoutRedirectUris),
      backchannelLogoutUri: values.backchannelLogoutUri || null, isPublic: values.isPublic, requirePkce: values.requirePkce,
      unrestricted: values.access === 'everyone', allowedGroups: values.access === 'everyone' ? [] : values.allowedGroups,
    },
  };
}

export function clientRoutes(scope: FastifyInstance, ctx: AdminContext): void {
  const { clients, identity } = ctx.services;
  const issuer = ctx.services.config.origin;
  const allGroups = () => identity.groups.list();
  const href = (id: string) => `/admin/clients/${encodeURIComponent(id)}`;

  scope.get<{ Querystring: { notice?: string } }>('/clients', async (request, reply) => {
    const list = (await clients.list()).map((c) => ({ id: c.id, name: c.name, redirectUris: c.redirectUris, isPublic: c.isPublic, access: accessSummary(c), managed: clients.isManaged(c.id) }));
    return ctx.send(reply, clientListPage({ frame: ctx.frame(request, reply, 'clients'), clients: list, notice: request.query.notice === 'deleted' ? 'The app was deleted.' : null }));
  });

  scope.get('/clients/new', async (request, reply) =>
    ctx.send(reply, newClientPage({ frame: ctx.frame(request, reply, 'clients'), values: emptyClientForm, allGroups: await allGroups(), errors: {} })));

  /** Parks a secret made just now and sends the admin to the page that shows it once. */
  const showSecretOnce = async (request: FastifyRequest, reply: FastifyReply, clientId: string, secret: string | null, created: boolean) => {
    const reveal = await ctx.reveal.park(adminOf(request).id, { clientId, secret: secret ?? '', created: created ? '1' : '' });
    return reply.redirect(`${href(clientId)}/credentials?reveal=${reveal}`, 303);
  };

  scope.post('/clients/new', async (request, reply) => {
    const values = readClientForm(formBody(request.body));
    const { input, errors } = toInput(values, true);
    const render = (problems: FieldErrors) => async () =>
      ctx.send(reply, newClientPage({ frame: ctx.frame(request, reply, 'clients'), values, allGroups: await allGroups(), errors: problems }), 400);
    if (Object.keys(errors).length) return render(errors)();
    try {
      const { client, secret } = await clients.create({ ...input, ...(values.id ? { id: values.id } : {}) });
      await ctx.audit(request, 'client_created', {}, client.id);
      return showSecretOnce(request, reply, client.id, secret, true);
    } catch (error) {
      const problems = fieldErrorsFrom(error, 'name', { client_id_taken: 'id', unknown_group: 'allowedGroups' });
      if (!problems) throw error;
      return render(problems)();
    }
  });

  // The one page that shows a secret: after creation, regeneration, or a switch to confidential.
  scope.get<Params & { Querystring: { reveal?: string } }>('/clients/:id/credentials', async (request, reply) => {
    const client = await clients.get(request.params.id);
    const parked = await ctx.reveal.take(adminOf(request).id, request.query.reveal);
    const secret = parked?.clientId === client.id && parked.secret ? parked.secret : null;
    return ctx.send(reply, clientSecretPage({
      frame: ctx.frame(request, reply, 'clients'), client, setup: clientSetupValues(client, issuer, secret),
      alreadyShown: !parked || parked.clientId !== client.id, created: parked?.created === '1',
    }));
  });

  const NOTICES: Record<string, string> = { saved: 'Changes saved.' };
  async function detail(request: FastifyRequest, reply: FastifyReply, client: OidcClient, extra: { values?: ClientFormValues; errors?: FieldErrors; notice?: string | null; status?: number } = {}) {
    if (clients.isManaged(client.id)) return ctx.send(reply, managedClientPage({ frame: ctx.frame(request, reply, 'clients'), client, access: accessSummary(client) }), extra.status);
    return ctx.send(reply, clientDetailPage({
      frame: ctx.frame(request, reply, 'clients'), values: extra.values ?? formOf(client), allGroups: await allGroups(), errors: extra.errors ?? {},
      client, setup: clientSetupValues(client, issuer, null), notice: extra.notice,
    }), extra.status);
  }

  scope.get<Params & { Querystring: { notice?: string } }>('/clients/:id', async (request, reply) =>
    detail(request, reply, await clients.get(request.params.id), { notice: NOTICES[request.query.notice ?? ''] }));

  scope.post<Params>('/clients/:id', async (request, reply) => {
    const client = await clients.get(request.params.id);
    const values = { ...readClientForm(formBody(request.body)), id: client.id };
    const { input, errors } = toInput(values, false);
    if (Object.keys(errors).length) return detail(request, reply, client, { values, errors, status: 400 });
    try {
      const { secret } = await clients.update(client.id, input);
      await ctx.audit(request, 'client_updated', {}, client.id);
      // A public client made confidential gets its first secret: shown once, like at creation.
      if (secret) return showSecretOnce(request, reply, client.id, secret, false);
      return reply.redirect(`${href(client.id)}?notice=saved`, 303);
    } catch (error) {
      const problems = fieldErrorsFrom(error, 'name', { unknown_group: 'allowedGroups' });
      if (!problems) throw error;
      return detail(request, reply, client, { values, errors: problems, status: 400 });
    }
  });

  const confirmRoute = (path: string, spec: {
    title: (c: OidcClient) => string; consequences: (c: OidcClient) => string[]; confirmLabel: (c: OidcClient) => string; buttonLabel: string;
    refusal?: (c: OidcClient) => string | null; act: (request: FastifyRequest, reply: FastifyReply, c: OidcClient) => Promise<FastifyReply>;
  }) => {
    const render = (request: FastifyRequest, reply: FastifyReply, client: OidcClient, confirmError: string | null) => ctx.send(reply, confirmPage({
      frame: ctx.frame(request, reply, 'clients'), title: spec.title(client), consequences: spec.consequences(client),
      action: `${href(client.id)}/${path}`, confirmLabel: spec.confirmLabel(client), buttonLabel: spec.buttonLabel,
      cancelHref: href(client.id), refusal: (clients.isManaged(client.id) ? MANAGED_REFUSAL : null) ?? spec.refusal?.(client) ?? null, confirmError,
    }), confirmError ? 400 : 200);
    scope.get<Params>(`/clients/:id/${path}`, async (request, reply) => render(request, reply, await clients.get(request.params.id), null));
    scope.post<Params>(`/clients/:id/${path}`, async (request, reply) => {
      const client = await clients.get(request.params.id);
      if (!checked(formBody(request.body), 'confirm')) return render(request, reply, client, 'Tick this box to confirm.');
      return spec.act(request, reply, client);
    });
  };

  confirmRoute('secret', {
    title: (c) => `Regenerate the secret of ${c.name}?`,
    consequences: () => [
      'A new secret is made and shown to you once.',
      'The old secret stops working at once: the app (its proxy) cannot sign anyone in until you give it the new one.',
      'People already signed in to the app stay signed in until their session there ends.',
    ],
    confirmLabel: (c) => `Yes, replace the secret of ${c.name}`,
    buttonLabel: 'Regenerate secret',
    refusal: (c) => (c.isPublic ? 'This is a public client: it has no secret.' : null),
    async act(request, reply, c) {
      const { secret } = await clients.regenerateSecret(c.id);
      await ctx.audit(request, 'client_secret_regenerated', {}, c.id);
      return showSecretOnce(request, reply, c.id, secret, false);
    },
  });

  confirmRoute('delete', {
    title: (c) => `Delete the app ${c.name}?`,
    consequences: (c) => [
      `Nobody can sign in to ${c.name} through this server any more; its client ID and secret stop working at once.`,
      'Tokens it holds are no longer accepted.',
      'The users and groups are not touched. This cannot be undone: to use the app again, add it anew and reconfigure it.',
    ],
    confirmLabel: (c) => `Yes, delete ${c.name}`,
    buttonLabel: 'Delete app',
    async act(request, reply, c) {
      await clients.delete(c.id);
      await ctx.audit(request, 'client_deleted', { name: c.name }, c.id);
      return reply.redirect('/admin/clients?notice=deleted', 303);
    },
  });
}
