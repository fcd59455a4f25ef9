// RFC 8693 token exchange against the local server over real sockets: an orchestrator's token is
// exchanged by a sub-agent, whose token a tool exchanges again; every token is verified with the
// Verifier and its chain checked, and every widening is refused with the server's error.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import {
  ConfigError,
  DelegationError,
  InvalidScopeError,
  InvalidTokenError,
  TokenRequestError,
  AccessToken,
} from '../index.mjs';
import { startLocalServer, requestCount } from '../testing.mjs';
import { get } from './helpers.mjs';

const SUBAGENT_API = 'https://sub-agent.example.test';
const TOOL_API = 'https://tool.example.test';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const ADMIN_TOKEN = randomBytes(24).toString('base64url');

const client = (clientId, spec) => ({ client_id: clientId, client_secret: randomBytes(24).toString('base64url'), ...spec });

const CLIENTS = [
  // a and b are its own scopes, c comes with the role `planner`; only the sub-agent may exchange
  // its tokens (may_act).
  client('orchestrator', { allowed_scopes: ['a', 'b'], roles: ['planner'], audiences: [SUBAGENT_API, TOOL_API], may_act: ['sub-agent'] }),
  client('sub-agent', { allowed_scopes: ['a', 'b', 'c'], audiences: [SUBAGENT_API, TOOL_API], grant_types: [EXCHANGE], may_act: ['tool'] }),
  client('tool', { allowed_scopes: ['a', 'b', 'c'], audiences: [TOOL_API], grant_types: [EXCHANGE], may_act: ['auditor', 'sub-agent'] }),
  // Named by the tool's may_act, but a third actor is past the server's depth limit (2).
  client('auditor', { allowed_scopes: ['a'], audiences: [TOOL_API], grant_types: [EXCHANGE] }),
  // May exchange, but the orchestrator's may_act does not name it.
  client('stranger', { allowed_scopes: ['a', 'b', 'c'], audiences: [SUBAGENT_API, TOOL_API], grant_types: [EXCHANGE] }),
  // Named by nobody and without the token-exchange grant.
  client('plain', { allowed_scopes: ['a'], audiences: [TOOL_API] }),
];

const ids = (claims) => claims.delegation.map((a) => a.id);
const sorted = (scope) => scope.split(' ').sort();

describe('token exchange against the local server', () => {
  let server;
  let orchestrator, subAgent, tool;
  let t0, t1, t2;
  let subagentApi, toolApi;

  before(async () => {
    server = await startLocalServer({
      clients: CLIENTS,
      default_audience: SUBAGENT_API,
      admin_token: ADMIN_TOKEN,
      roles: { planner: { scopes: ['c'] } },
      token_exchange: { max_delegation_depth: 2 },
    });
    // The orchestrator asks for both APIs and, naming no scopes, gets all it may: a b c.
    orchestrator = server.client({ clientId: 'orchestrator', audience: SUBAGENT_API, resource: [TOOL_API] });
    subAgent = server.client({ clientId: 'sub-agent' });
    tool = server.client({ clientId: 'tool' });
    t0 = await orchestrator.getToken();
    t1 = await subAgent.exchangeToken({ subjectToken: t0, scopes: ['a', 'b'], audience: TOOL_API });
    t2 = await tool.exchangeToken({ subjectToken: t1.accessToken, scopes: 'a' });
    subagentApi = server.verifier({ audience: SUBAGENT_API });
    toolApi = server.verifier({ audience: TOOL_API });
  });
  after(() => server?.close());

  test('orchestrator -> sub-agent -> tool: each token verified, its chain in order', async () => {
    const c0 = await subagentApi.verify(t0.accessToken, { requiredScopes: ['a', 'b', 'c'] });
    assert.equal(c0.sub, 'orchestrator');
    assert.equal(c0.actor, null);
    assert.deepEqual(ids(c0), []);
    assert.deepEqual([...c0.aud].sort(), [SUBAGENT_API, TOOL_API]);
    assert.equal(t0.issuedTokenType, undefined); // client credentials
    assert.ok(!('issuedTokenType' in t0.toJSON()));

    const c1 = await toolApi.verify(t1.accessToken, { requiredScopes: ['a', 'b'] });
    assert.ok(t1 instanceof AccessToken);
    assert.equal(t1.issuedTokenType, ACCESS_TOKEN);
    assert.match(inspect(t1), /issuedTokenType: 'urn:ietf:params:oauth:token-type:access_token'/);
    assert.ok(!inspect(t1).includes(t1.accessToken));
    assert.equal(c1.sub, 'orchestrator');
    assert.equal(c1.client_id, 'sub-agent');
    assert.deepEqual(ids(c1), ['sub-agent']);
    assert.deepEqual({ ...c1.actor }, { sub: 'sub-agent', clientId: 'sub-agent', iss: undefined, id: 'sub-agent' });
    assert.deepEqual(sorted(c1.scope), ['a', 'b']);
    assert.deepEqual([...t1.scopes].sort(), ['a', 'b']);
    assert.deepEqual([c1.aud].flat(), [TOOL_API]);
    assert.ok(c1.exp <= c0.exp);
    const e = await subagentApi.verify(t1.accessToken).catch((x) => x); // narrowed to the tool API
    assert.ok(e instanceof InvalidTokenError, inspect(e));
    assert.equal(e.code, 'invalid_audience');

    const c2 = await toolApi.verify(t2.accessToken, { requiredScopes: 'a' });
    assert.equal(c2.sub, 'orchestrator');
    assert.deepEqual(ids(c2), ['tool', 'sub-agent']);
    assert.equal(c2.actor.id, 'tool');
    assert.equal(c2.actor, c2.delegation[0]);
    assert.equal(c2.scope, 'a');
    assert.deepEqual([c2.aud].flat(), [TOOL_API]);
    assert.equal(c2.act.act.client_id, 'sub-agent');
  });

  test('exchanges are cached per subject token and request', async () => {
    const sent = requestCount(tool);
    const again = await tool.exchangeToken({ subjectToken: t1, scopes: ['a'] }); // the same request
    assert.equal(again.accessToken, t2.accessToken);
    assert.equal(requestCount(tool), sent);
    const other = await tool.exchangeToken({ subjectToken: t1, scopes: ['b'] }); // another entry
    assert.notEqual(other.accessToken, t2.accessToken);
    assert.equal(requestCount(tool), sent + 1);
  });

  const widenings = [
    // A scope the subject token does not hold.
    ['tool', 't1', { scopes: ['c'] }, InvalidScopeError, 'invalid_scope', "subject token's scope"],
    // An audience outside the subject token's.
    ['tool', 't1', { audience: SUBAGENT_API }, TokenRequestError, 'invalid_target', SUBAGENT_API],
    // An actor the subject token's may_act does not name.
    ['stranger', 't0', {}, TokenRequestError, 'invalid_grant', 'may_act'],
    // A third actor: beyond the server's max_delegation_depth (2).
    ['auditor', 't2', { scopes: ['a'] }, TokenRequestError, 'invalid_grant', 'max_delegation_depth'],
    // A client without the token-exchange grant.
    ['plain', 't0', { audience: TOOL_API }, TokenRequestError, 'unauthorized_client', 'grant'],
    // An actor already in the chain.
    ['sub-agent', 't2', {}, TokenRequestError, 'invalid_grant', 'only once'],
  ];
  for (const [who, subject, options, Class, code, says] of widenings) {
    test(`refused: ${who} exchanges ${subject} with ${JSON.stringify(options)} -> ${code}`, async () => {
      const subjectToken = { t0, t1, t2 }[subject];
      const e = await server
        .client({ clientId: who })
        .exchangeToken({ subjectToken, ...options })
        .catch((x) => x);
      assert.ok(e instanceof Class, inspect(e));
      assert.equal(e.constructor, Class);
      assert.equal(e.code, code);
      assert.equal(e.oauthError, code);
      assert.ok(e.message.includes(says), e.message);
      assert.ok(!e.message.includes(subjectToken.accessToken));
    });
  }

  test('the chain is kept when a delegated token is exchanged again', async () => {
    // Asking for nothing in particular and another token type: act comes along; it cannot be shed.
    const t = await tool.exchangeToken({ subjectToken: t1, requestedTokenType: 'jwt' });
    assert.equal(t.issuedTokenType, 'urn:ietf:params:oauth:token-type:jwt');
    const claims = await toolApi.verify(t.accessToken);
    assert.equal(claims.sub, 'orchestrator');
    assert.deepEqual(ids(claims), ['tool', 'sub-agent']);
    assert.deepEqual(sorted(claims.scope), ['a', 'b']);
  });

  test('the downstream helper: refused without a target, works with one', async () => {
    const sent = requestCount(subAgent);
    const e = await subAgent.downstreamToken(t0.accessToken).catch((x) => x); // which API? refused before sending
    assert.ok(e instanceof ConfigError, inspect(e));
    assert.match(e.message, /audience/);
    await assert.rejects(subAgent.downstreamToken(t0, { scopes: 'a' }), ConfigError);
    assert.equal(requestCount(subAgent), sent);
    const t = await subAgent.downstreamToken(t0.accessToken, { audience: TOOL_API, scopes: ['a'] });
    const claims = await toolApi.verify(t.accessToken, { requiredScopes: 'a' });
    assert.equal(claims.sub, 'orchestrator');
    assert.deepEqual(ids(claims), ['sub-agent']);
    assert.equal(claims.scope, 'a');
    const byResource = await subAgent.downstreamToken(t0, { resource: TOOL_API, scopes: 'a b' });
    assert.deepEqual(sorted((await toolApi.verify(byResource.accessToken)).scope), ['a', 'b']);
  });

  test('the options are read by the core', async () => {
    const refused = async (options, name) => {
      const e = await tool.exchangeToken(options).catch((x) => x);
      assert.ok(e instanceof ConfigError, inspect(e));
      if (name) assert.ok(e.message.includes(name), e.message);
    };
    await refused({ subjectToken: t1, subjectTokenType: 'saml' }, 'subject_token_type');
    await refused({ subjectToken: t1, scopes: 5 }, 'scopes');
    await refused({ subjectToken: t1, actorTokenType: 'jwt' }, 'actor_token_type'); // without actorToken
    await refused({ subjectToken: t1, audence: TOOL_API }, 'audence');
    await refused({ subjectToken: '' });
    await refused({ scopes: 'a' }, 'subject_token');
    await assert.rejects(tool.exchangeToken(t1.accessToken), TypeError);
    // snake_case spellings, and undefined members are absent.
    const t = await tool.exchangeToken({ subject_token: t1.accessToken, scopes: ['a'], audience: undefined });
    assert.equal(t.accessToken, t2.accessToken);
  });

  test('a verifier with maxDelegationDepth / allowedActors refuses the tool\'s token', async () => {
    const token = t2.accessToken;
    for (const options of [{ maxDelegationDepth: 1 }, { allowedActors: ['sub-agent'] }, { forbidDelegation: true }]) {
      const e = await server
        .verifier({ audience: TOOL_API, ...options })
        .verify(token)
        .catch((x) => x);
      assert.ok(e instanceof DelegationError, `${JSON.stringify(options)}: ${inspect(e)}`);
      assert.equal(e.code, 'delegation_not_allowed');
    }
    const seen = [];
    const v = server.verifier({
      audience: TOOL_API,
      allowedActors: (actor) => {
        seen.push(actor.id);
        return actor.id === 'tool';
      },
    });
    assert.equal((await v.verify(token)).actor.id, 'tool');
    await assert.rejects(v.verify(t1.accessToken), DelegationError);
    assert.deepEqual(seen, ['tool', 'sub-agent']);
    assert.equal((await server.verifier({ audience: TOOL_API, maxDelegationDepth: 2, allowedActors: ['tool'] }).verify(token)).sub, 'orchestrator');
  });

  test('a role removed through the admin API is missing from the next token', async () => {
    const admin = async (method, path, body) => {
      const res = await get(server.issuer + path, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      assert.ok(res.ok, `${method} ${path} -> ${res.status} ${text}`);
      return text === '' ? null : JSON.parse(text);
    };
    const c = server.client({ clientId: 'orchestrator' });
    const v = server.verifier({ audience: SUBAGENT_API });
    assert.deepEqual(sorted((await v.verify((await c.getToken()).accessToken)).scope), ['a', 'b', 'c']);
    await admin('PATCH', '/admin/clients/orchestrator', { roles: [] });
    try {
      c.invalidate();
      assert.deepEqual(sorted((await v.verify((await c.getToken()).accessToken)).scope), ['a', 'b']);
    } finally {
      await admin('PATCH', '/admin/clients/orchestrator', { roles: ['planner'] });
    }
    c.invalidate();
    assert.deepEqual(sorted((await v.verify((await c.getToken()).accessToken)).scope), ['a', 'b', 'c']);
  });
});
