'use strict';
// @authsec/sdk: machine-to-machine OAuth for Node.js on the authsec Rust core. Each lib/ module
// below exports only public names; index.mjs re-exports this object, index.d.ts declares it.

module.exports = {
  ...require('./lib/client'),
  ...require('./lib/verifier'),
  ...require('./lib/middleware'),
  ...require('./lib/spiffe'),
  ...require('./lib/management'),
  ...require('./lib/errors'),
};
module.exports.default = module.exports;
