// Type-checked (not run) by `tsc --noEmit` in test.sh: client management as an ESM user sees it.
import {
  Management,
  AuthsecManagement,
  ManagedClient,
  NewSecret,
  AuthsecError,
  type AuditEvent,
  type ClientFields,
} from '@authsec/sdk';

export async function manage(): Promise<string[]> {
  const bootstrap = new AuthsecManagement({ baseUrl: 'http://127.0.0.1:8080', adminToken: 'bootstrap' });
  const admin: ManagedClient = await bootstrap.clients.create({
    client_id: 'ops',
    allowed_scopes: ['clients:read', 'clients:write', 'logs:read'],
  });
  const m = new Management({ domain: 'auth.example.com', clientId: admin.client_id, clientSecret: admin.client_secret ?? '', timeout: 10 });
  const fields: ClientFields = { type: 'ai_agent', name: 'Agent', rate_limits: { requests_per_minute: 60 } };
  const agent = await m.clients.create(fields);
  const same = await m.clients.get(agent.client_id);
  await m.clients.get({ client_id: same.client_id });
  await m.clients.update({ client_id: agent.client_id, description: 'changed' });
  const rotated: NewSecret = await m.clients.rotateSecret({ client_id: agent.client_id, overlap: 0 });
  const secret: string = rotated.client_secret;
  const expires: number = rotated.old_secrets_expire_at;
  const left = await m.clients.revokeSecret({ client_id: agent.client_id, secret_id: rotated.secret_id });
  const ids: string[] = left.secrets.map((s) => s.id);
  for await (const c of m.clients.list({ type: 'ai_agent', pageSize: 10 })) ids.push(c.client_id);
  for await (const page of m.scopes.list().pages()) ids.push(...page.items.map((s) => s.name), page.next_cursor ?? '');
  const failures: AuditEvent[] = await m.logs.list({ client_id: agent.client_id, outcome: 'failure', since: new Date(), event: ['token'] }).toArray();
  ids.push(...failures.map((e) => `${e.event} ${e.ts}`));
  await m.scopes.create({ name: 'read:data', description: 'Read' });
  await m.scopes.delete('read:data');
  await m.roles.create({ name: 'reader', scopes: ['read:data'] });
  const role = await m.roles.update({ name: 'reader', audiences: ['https://api.example'] });
  ids.push(role.name);
  await m.clients.delete(agent.client_id);
  const raw = await m.call('clients.get', { client_id: 'x' });
  try {
    await m.clients.get('missing');
  } catch (e) {
    if (e instanceof AuthsecError && e.code === 'not_found') ids.push(e.message);
  }
  ids.push(secret, String(expires), String(raw), ...Management.operations());
  return ids;
}
