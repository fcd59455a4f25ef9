'use strict';
// Client management: the management API (`/admin`) of an authsec server, through the core's
// management client (`ManagementClient::call`). Arguments (checked by the core: an unknown or
// missing one is a ConfigError naming it), requests, management tokens, retries, pagination
// cursors and error mapping are the core's; this layer names the operations, turns `pageSize`
// into `limit` and Dates into Unix seconds, walks the pages lazily, and keeps secrets out of
// `util.inspect` and `JSON.stringify`. Objects keep the wire's snake_case field names.

const { inspect } = require('node:util');
const native = require('./native');
const { call, fromNative } = require('./internal');

const REDACTED = '***';

/** Copy the wire's fields onto `target` (a result object), `client_secret` as a hidden getter. */
function assign(target, fields) {
  for (const [k, v] of Object.entries(fields ?? {})) {
    if (k === 'client_secret') {
      Object.defineProperty(target, k, { get: () => v, enumerable: false });
    } else {
      target[k] = v;
    }
  }
  return Object.freeze(target);
}

/**
 * What every result shares: the wire's fields as own properties (snake_case), frozen. A
 * `client_secret` (only in the answers that create one) is readable by name but shown as `***` by
 * `util.inspect` and `JSON.stringify`, and left out of spreads and `Object.keys`.
 */
class ManagementObject {
  constructor(fields) {
    assign(this, fields);
  }

  toJSON() {
    const shown = { ...this };
    if (Object.hasOwn(this, 'client_secret')) shown.client_secret = REDACTED;
    return shown;
  }

  [inspect.custom](depth, options, inspectFn = inspect) {
    if (depth < 0) return options.stylize(`[${this.constructor.name}]`, 'special');
    return `${this.constructor.name} ${inspectFn(this.toJSON(), { ...options, depth: options.depth === null ? null : options.depth - 1 })}`;
  }
}

/** A registered client as the server shows it (`client_id`, `type`, `secrets`, `effective_scopes`, ...). */
class ManagedClient extends ManagementObject {}
/** A new secret from `rotateSecret` (`client_secret`, `secret_id`, `old_secrets_expire_at`, `secrets`). */
class NewSecret extends ManagementObject {}
/** A client's secrets after `revokeSecret` (`client_id`, `secrets`). */
class ClientSecrets extends ManagementObject {}
/** A registered scope (`name`, `description`, `clients`, `roles`). */
class Scope extends ManagementObject {}
/** A role (`name`, `scopes`, `audiences`). */
class Role extends ManagementObject {}
/** One audit event (`id`, `ts` (Unix seconds), `event`, `outcome`, `client_id`, `actor`, ...). */
class AuditEvent extends ManagementObject {}
/** A signing key (`kid`, `alg`, ...). */
class SigningKey extends ManagementObject {}

/** A client id or name given as a string, or in an object under `key`. */
function named(arg, key, what) {
  if (typeof arg === 'string') return { [key]: arg };
  if (arg !== null && typeof arg === 'object' && !Array.isArray(arg)) return { ...arg };
  throw new TypeError(`${what} takes { ${key}, ... } or the ${key} as a string`);
}

/** Options for a list call without the JS-only `pageSize` (the core's `limit`). */
function listArgs(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') throw new TypeError('list takes an options object');
  const { pageSize, page_size: pageSizeSnake, ...rest } = options;
  const size = pageSize ?? pageSizeSnake;
  if (size !== undefined) rest.limit = size;
  return rest;
}

/** A Date as Unix seconds (fractions kept); numbers and RFC 3339 strings go to the core as they are. */
function seconds(t) {
  return t instanceof Date ? t.getTime() / 1000 : t;
}

/**
 * The items of a list operation, fetched a page at a time as they are iterated (`for await`);
 * nothing is sent before the first item is asked for. `pages()` iterates whole pages
 * (`{ items, next_cursor }`) instead.
 */
class Paginated {
  #run;
  #operation;
  #args;
  #Class;

  constructor(run, operation, args, Class) {
    this.#run = run;
    this.#operation = operation;
    this.#args = args;
    this.#Class = Class;
  }

  /** Each page: `{ items, next_cursor }` (`next_cursor` null on the last). */
  async *pages() {
    let cursor = this.#args.cursor;
    // A server that hands back the cursor it was given would loop: stop instead.
    const seen = new Set();
    for (;;) {
      const args = cursor === undefined || cursor === null ? { ...this.#args } : { ...this.#args, cursor };
      const page = await this.#run(this.#operation, args);
      yield { items: page.items.map((x) => new this.#Class(x)), next_cursor: page.next_cursor ?? null };
      cursor = page.next_cursor;
      if (cursor === undefined || cursor === null) return;
      if (seen.has(cursor)) throw fromNative({ code: 'invalid_response', message: `${this.#operation}: the server answered a cursor it had answered before` });
      seen.add(cursor);
    }
  }

  async *[Symbol.asyncIterator]() {
    for await (const page of this.pages()) yield* page.items;
  }

  /** Every item (every page fetched). */
  async toArray() {
    const out = [];
    for await (const x of this) out.push(x);
    return out;
  }
}

/** A lazily fetched list of `Class` objects from `m`'s `operation`. */
function paginate(m, operation, args, Class) {
  return new Paginated((op, a) => m.call(op, a), operation, args, Class);
}

/** `management.clients` */
class Clients {
  #m;
  constructor(m) {
    this.#m = m;
  }
  /** Register a client (the contract's client fields); the answer has `client_secret` when the server generated one. */
  async create(fields = {}) {
    return new ManagedClient(await this.#m.call('clients.create', fields));
  }
  /** A client: `{ client_id }` or the id. */
  async get(client) {
    return new ManagedClient(await this.#m.call('clients.get', named(client, 'client_id', 'clients.get')));
  }
  /** Every client (`type` filters), as an async iterable fetched `pageSize` at a time. */
  list(options) {
    return paginate(this.#m, 'clients.list', listArgs(options), ManagedClient);
  }
  /** Change a client: `{ client_id, ...fields }`. */
  async update(changes) {
    return new ManagedClient(await this.#m.call('clients.update', named(changes, 'client_id', 'clients.update')));
  }
  /** Delete a client: `{ client_id }` or the id. */
  async delete(client) {
    await this.#m.call('clients.delete', named(client, 'client_id', 'clients.delete'));
  }
  /** A new secret: `{ client_id, overlap }` (seconds the old secrets keep working; default one day, 0 = none). */
  async rotateSecret(options) {
    return new NewSecret(await this.#m.call('clients.rotate_secret', named(options, 'client_id', 'clients.rotateSecret')));
  }
  /** Revoke `secret_id` now, or (without it) every secret but the newest: `{ client_id, secret_id }`. */
  async revokeSecret(options) {
    return new ClientSecrets(await this.#m.call('clients.revoke_secret', named(options, 'client_id', 'clients.revokeSecret')));
  }
}

/** `management.scopes` */
class Scopes {
  #m;
  constructor(m) {
    this.#m = m;
  }
  /** Register a scope: `{ name, description }` or the name. */
  async create(scope) {
    return new Scope(await this.#m.call('scopes.create', named(scope, 'name', 'scopes.create')));
  }
  /** Every registered scope, as an async iterable. */
  list(options) {
    return paginate(this.#m, 'scopes.list', listArgs(options), Scope);
  }
  /** Delete a scope: `{ name }` or the name (a `conflict` while a client or role uses it). */
  async delete(scope) {
    await this.#m.call('scopes.delete', named(scope, 'name', 'scopes.delete'));
  }
}

/** `management.roles` */
class Roles {
  #m;
  constructor(m) {
    this.#m = m;
  }
  /** `{ name, scopes, audiences }` */
  async create(role) {
    return new Role(await this.#m.call('roles.create', named(role, 'name', 'roles.create')));
  }
  async get(role) {
    return new Role(await this.#m.call('roles.get', named(role, 'name', 'roles.get')));
  }
  /** Every role, as an async iterable. */
  list() {
    return paginate(this.#m, 'roles.list', {}, Role);
  }
  /** `{ name, scopes?, audiences? }`: what is left out stays as it is. */
  async update(role) {
    return new Role(await this.#m.call('roles.update', named(role, 'name', 'roles.update')));
  }
  async delete(role) {
    await this.#m.call('roles.delete', named(role, 'name', 'roles.delete'));
  }
}

/** `management.logs` */
class Logs {
  #m;
  constructor(m) {
    this.#m = m;
  }
  /**
   * Audit events, newest first, as an async iterable: `{ client_id, event (a name or a list),
   * outcome ('success' | 'failure'), since, until (Dates, Unix seconds or RFC 3339), pageSize }`.
   */
  list(options) {
    const args = listArgs(options);
    for (const k of ['since', 'until']) if (args[k] !== undefined) args[k] = seconds(args[k]);
    return paginate(this.#m, 'logs.list', args, AuditEvent);
  }
}

/** `management.keys` */
class Keys {
  #m;
  constructor(m) {
    this.#m = m;
  }
  /** The server's signing keys, as an async iterable. */
  list() {
    return paginate(this.#m, 'keys.list', {}, SigningKey);
  }
  /** A new signing key: `{ alg, activate_in }` (both optional). */
  async rotate(options = {}) {
    return new SigningKey(await this.#m.call('keys.rotate', options));
  }
}

/**
 * A client of an authsec server's management API. Settings: `domain` (`auth.example.com` means
 * `https://auth.example.com`) or `baseUrl`; a management client's `clientId` with `clientSecret`
 * (or `clientSecretFile`, `privateKey`, `privateKeyFile`), or the server's bootstrap `adminToken`
 * (or `adminTokenFile`; accepted only while no management client exists); `scopes` (default:
 * every management scope the client holds), `tokenUrl`, `timeout`, `allowInsecureHttp`. The core
 * reads them (camelCase or snake_case; an unknown one is a ConfigError naming it).
 */
class Management {
  #native;
  #shown;

  constructor(options) {
    if (options === null || typeof options !== 'object') throw new TypeError('Management takes an options object');
    this.#native = call(() => new native.NativeManagement(options));
    const o = options;
    this.#shown = { baseUrl: o.baseUrl ?? o.base_url ?? o.domain };
    const id = o.clientId ?? o.client_id;
    if (id !== undefined) this.#shown.clientId = id;
    else if (o.adminToken !== undefined || o.admin_token !== undefined || o.adminTokenFile !== undefined || o.admin_token_file !== undefined) {
      this.#shown.credentials = 'admin_token';
    }
    /** Registered clients and their secrets. */
    this.clients = new Clients(this);
    /** The scope registry. */
    this.scopes = new Scopes(this);
    /** Roles (scopes and audiences clients may get through them). */
    this.roles = new Roles(this);
    /** The audit log. */
    this.logs = new Logs(this);
    /** The signing keys. */
    this.keys = new Keys(this);
    Object.freeze(this);
  }

  /** Every operation the core knows (`clients.create`, ...). */
  static operations() {
    return native.NativeManagement.operations();
  }

  /**
   * Run one operation by its core name with snake_case `args` (the methods above are this with a
   * name): resolves to the answer's JSON (lists: `{ items, next_cursor }`; deletions: null).
   */
  async call(operation, args = {}) {
    try {
      return await this.#native.call(String(operation), args ?? {});
    } catch (e) {
      throw fromNative(e);
    }
  }

  [inspect.custom](depth, options, inspectFn = inspect) {
    if (depth < 0) return options.stylize(`[${this.constructor.name}]`, 'special');
    return `${this.constructor.name} ${inspectFn(this.#shown, options)}`;
  }
}

/** The product docs' name for `Management` (the same class). */
const AuthsecManagement = Management;

module.exports = {
  Management,
  AuthsecManagement,
  ManagedClient,
  NewSecret,
  ClientSecrets,
  Scope,
  Role,
  AuditEvent,
  SigningKey,
  Paginated,
};
