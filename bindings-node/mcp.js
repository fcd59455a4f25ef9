'use strict';
// @authsec/sdk/mcp: MCP authorization for the official MCP SDKs (see lib/mcp.js).
module.exports = { ...require('./lib/mcp') };
module.exports.default = module.exports;
