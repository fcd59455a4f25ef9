// (5) Delegation: an orchestrator agent hands a task to a sub-agent, which hands it on to a tool.
//
//     node delegation.mjs
//
// No agent forwards the token it was given. Each one trades it for a token of its own (RFC 8693
// token exchange) that acts for the same subject with at most the same rights, so the last token
// says who is acting for whom: `claims.delegation`. The local authorization server (in-process, on
// 127.0.0.1) knows the three clients: the role `planner` gives them their scopes, and each client's
// `may_act` names the only client that may exchange its tokens.

import { randomBytes } from 'node:crypto';
import { InvalidScopeError, Verifier, scopesOf } from '@authsec/sdk';
import { startLocalServer } from '@authsec/sdk/testing';

const SUB_AGENT_API = 'https://sub-agent.example.test';
const TOOL_API = 'https://tool.example.test';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

const agent = (clientId, settings) => ({
  client_id: clientId,
  client_secret: randomBytes(24).toString('base64url'),
  roles: ['planner'],
  ...settings,
});

const CLIENTS = [
  agent('orchestrator', { audiences: [SUB_AGENT_API, TOOL_API], may_act: ['sub-agent'] }),
  agent('sub-agent', { audiences: [TOOL_API], grant_types: [TOKEN_EXCHANGE], may_act: ['tool'] }),
  agent('tool', { audiences: [TOOL_API], grant_types: [TOKEN_EXCHANGE] }),
];
const ROLES = { planner: { scopes: ['tasks:read', 'tasks:write', 'reports:read'] } };

/** Verify `token` and print who it is for and who acts in it. */
async function show(verifier, who, token) {
  const claims = await verifier.verify(token);
  const chain = claims.delegation.map((actor) => actor.id).join(' <- ') || 'none'; // current actor first
  console.log(
    `${who}: token for ${[claims.aud].flat().join(' ')}, scopes ${scopesOf(claims).sort().join(' ')}, ` +
      `subject ${claims.sub}, acting ${chain}`,
  );
}

// [START delegation]
async function delegate(server) {
  const orchestrator = server.client({ clientId: 'orchestrator', audience: SUB_AGENT_API, resource: [TOOL_API] });
  const subAgent = server.client({ clientId: 'sub-agent' });
  const tool = server.client({ clientId: 'tool' });
  const verifier = new Verifier({ issuer: server.issuer, audience: [SUB_AGENT_API, TOOL_API], jwksUri: server.jwksUri });

  // The orchestrator calls the sub-agent with its own token.
  const task = await orchestrator.getToken();
  await show(verifier, 'orchestrator', task.accessToken);

  // The sub-agent calls the tool: a token for the tool's API only, with fewer scopes.
  const forTool = await subAgent.downstreamToken(task.accessToken, { audience: TOOL_API, scopes: ['tasks:read', 'tasks:write'] });
  await show(verifier, 'sub-agent', forTool.accessToken);

  // The tool works on the task with a token of its own that needs only tasks:read.
  const own = await tool.exchangeToken({ subjectToken: forTool.accessToken, scopes: ['tasks:read'] });
  await show(verifier, 'tool', own.accessToken);

  // An exchange can only narrow: reports:read is not in the sub-agent's token.
  try {
    await tool.exchangeToken({ subjectToken: forTool.accessToken, scopes: ['reports:read'] });
  } catch (e) {
    if (!(e instanceof InvalidScopeError)) throw e;
    console.log(`refused: the tool asks for reports:read -> ${e.code}: ${e.message}`);
  }
}
// [END delegation]

const server = await startLocalServer({ clients: CLIENTS, roles: ROLES, default_audience: SUB_AGENT_API });
try {
  console.log(`authorization server: ${server.issuer} (local, in-process)`);
  await delegate(server);
} finally {
  await server.close();
}
console.log('done: delegation');
