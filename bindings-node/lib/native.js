'use strict';
// The private native module of @authsec/sdk (native/authsec.<platform>.node, or the prebuilt
// @authsec/sdk-<platform>). Not part of the public API.

const { loadNative } = require('./load');

module.exports = loadNative('authsec', 'AUTHSEC_NODE_NATIVE', '@authsec/sdk', '@authsec/sdk');
