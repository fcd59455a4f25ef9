// An agent (machine to machine) that calls the example MCP server's tools with the official
// TypeScript SDK's client, authorized by authsec: given only the server's URL and its client
// credentials, it discovers where to get a token from the server's first 401, asks for one for
// the server (RFC 8707 resource), and steps up once when a tool needs a scope its token lacks.
//
//     node mcp.mjs       runs it against server.mjs and the local authorization server

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpClientAuth } from '@authsec/sdk/mcp';

/** The `scope` of a `WWW-Authenticate` challenge, for the printout. */
const scopeOf = (challenge) => /scope="([^"]*)"/.exec(challenge ?? '')?.[1];

export async function runAgent({ url, issuer, clientId, clientSecret }) {
  const refusals = []; // the 403 challenges the server answered, for the printout
  const logged = async (request) => {
    const response = await fetch(request);
    if (response.status === 403) refusals.push(response.headers.get('www-authenticate'));
    return response;
  };

  // [START mcp_agent]
  // The server's URL and the agent's credentials: nothing else. The first 401 starts discovery
  // (the server's RFC 9728 metadata, then the issuer's token endpoint); tokens are asked for the
  // server's resource, cached, and widened once when a 403 names scopes the token lacks.
  const auth = new McpClientAuth(url, {
    issuer, // tokens are asked for at this authorization server only
    clientId,
    clientSecret,
    scopes: ['files:read'],
    fetch: logged, // optional: sends with this fetch (here, to print the 403s)
  });
  const client = new Client({ name: 'example-agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: auth.fetch }));

  const { tools } = await client.listTools();
  const result = await client.callTool({ name: 'read_file', arguments: { name: 'notes.txt' } });
  // [END mcp_agent]
  const textOf = (r) => r.content.map((c) => c.text).join(' ');
  try {
    console.log(`agent: tools ${tools.map((t) => t.name).join(', ')} (token for ${auth.resource}, scopes ${auth.scopes.join(' ')})`);
    console.log(`agent: call read_file -> ${textOf(result)}`);

    // write_file needs files:write, which the token lacks and the agent may have: one 403, a
    // token with the scopes the challenge named, the call sent again.
    const before = refusals.length;
    const written = await client.callTool({ name: 'write_file', arguments: { name: 'todo.txt', text: 'ship it' } });
    const challenged = refusals.slice(before).map(scopeOf).join('; ');
    console.log(`agent: call write_file -> ${textOf(written)} (step-up after 403 insufficient_scope scope="${challenged}"; scopes now ${auth.scopes.join(' ')})`);
    const after = await client.listTools();
    console.log(`agent: tools ${after.tools.map((t) => t.name).join(', ')} (after the step-up)`);

    // delete_file needs files:admin, which the agent may not have: the server refuses it (403)
    // and the authorization server refuses the wider token, so the tool never runs.
    const seen = refusals.length;
    try {
      await client.callTool({ name: 'delete_file', arguments: { name: 'notes.txt' } });
      console.log('agent: delete_file was allowed (unexpected)');
    } catch (e) {
      const challenge = refusals.slice(seen)[0];
      console.log(`agent: refused delete_file -> 403 insufficient_scope scope="${scopeOf(challenge)}", then ${e.code ?? e.name}: ${e.message}`);
    }
    const still = await client.callTool({ name: 'list_files', arguments: {} });
    console.log(`agent: call list_files -> ${textOf(still)}`);
  } finally {
    await client.close();
  }
}
