#!/usr/bin/env node
// postman-run: runs the Postman collection of Bazar's public API (docs/postman/) against a running
// front end, the way the Postman app's collection runner would, and checks every answer against
// the request's saved example. Node alone (no npm packages).
//
//   node scripts/postman-run.mjs [collection.json]
//
//   BAZAR_BASE_URL      the front end (default: the collection's baseUrl, http://localhost:8080)
//   BAZAR_ADMIN_TOKEN   the admin token (default: the collection's adminToken, empty)
//   POSTMAN_RUN_TIMEOUT_MS  deadline of one HTTP request (default 30000)
//
// For every request, in the collection's order (folders depth first):
//   1. the pre-request scripts run: the collection's, each enclosing folder's, then the request's;
//   2. `{{variables}}` are resolved in the URL, headers, body and bearer token (an unresolved one
//      fails the request instead of being sent literally); auth is inherited from the nearest
//      folder or the collection that sets one, and `noauth` sends none;
//   3. the request is sent, and the test scripts run in the same order as the pre-request ones;
//   4. the answer is checked against the request's first saved example (its `response` array):
//      the same status code, the example's Content-Type, and the same JSON shape: the same keys,
//      recursively, with the same JSON types (values are data: ids, timestamps, counts may differ;
//      every element of an array must have the shape of the example's first element; an empty
//      array in the example says nothing about elements). An example without a body requires an
//      answer without one.
//
// Scripts run in a `node:vm` context with a subset of the Postman sandbox: pm.test,
// pm.expect (chai BDD: to/be/been/is/that/which/and/has/have/with/at/of/same/does/also, not,
// deep, equal, eql, a/an, property, include/contain (and .include.keys), keys (all/any), above,
// below, least, most, match, lengthOf, oneOf, empty, true, false, null, undefined, ok, exist),
// pm.response (code, status, responseTime, headers.get/has, text(), json(),
// to.have.status(), to.have.header(), to.not…), pm.collectionVariables (get/set/has/unset),
// pm.variables.get, pm.info and console.log. Anything else a script touches on pm or on an
// assertion fails with "postman-run does not implement …", so nothing is silently skipped.
//
// Output: one line per request (✔/✘) with one line per test and example check under it, then a
// summary. Exit status 0 when every test and check passed, 1 when any failed or a request has no
// test script (no pm.test) or no saved example, 2 when the collection cannot be read.

import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import vm from 'node:vm';
import { fileURLToPath, pathToFileURL } from 'node:url';

const OK = '✔';
const FAIL = '✘';

// ---------------------------------------------------------------------------------------------
// Values, the way chai and JSON see them (realm-independent: scripts run in another context).

function typeOf(value) {
    if (value === null) return 'null';
    if (value === undefined) return 'undefined';
    const tag = Object.prototype.toString.call(value).slice(8, -1);
    return tag.toLowerCase();
}

function deepEqual(a, b) {
    if (Object.is(a, b)) return true;
    const type = typeOf(a);
    if (type !== typeOf(b)) return false;
    if (type === 'number' || type === 'string' || type === 'boolean') return Object.is(a.valueOf(), b.valueOf());
    if (type === 'date') return a.getTime() === b.getTime();
    if (type === 'regexp') return String(a) === String(b);
    if (type === 'array') {
        return a.length === b.length && a.every((item, index) => deepEqual(item, b[index]));
    }
    if (type === 'object') {
        const keysA = Object.keys(a).sort();
        const keysB = Object.keys(b).sort();
        return deepEqual(keysA, keysB) && keysA.every((key) => deepEqual(a[key], b[key]));
    }
    return false;
}

function show(value) {
    return util.inspect(value, { depth: 3, breakLength: Infinity, maxArrayLength: 10, maxStringLength: 120 });
}

class AssertionError extends Error {
    constructor(message) {
        super(message);
        this.name = 'AssertionError';
    }
}

// Properties an engine or a tool may probe on any object (promises, JSON, inspection): not
// assertions, so they read as undefined instead of failing.
const PROBES = new Set(['then', 'toJSON', 'inspect', 'constructor', 'asymmetricMatch', 'nodeType', '$$typeof', 'toString', 'valueOf']);

function guarded(target, what) {
    return new Proxy(target, {
        get(object, property, receiver) {
            if (typeof property === 'symbol' || property in object) return Reflect.get(object, property, receiver);
            if (PROBES.has(property)) return undefined;
            throw new TypeError(`postman-run does not implement ${what}.${property}`);
        },
    });
}

// ---------------------------------------------------------------------------------------------
// chai-style expect

const LANGUAGE = ['to', 'be', 'been', 'is', 'that', 'which', 'and', 'has', 'have', 'with', 'at', 'of', 'same', 'but', 'does', 'still', 'also'];

class Assertion {
    constructor(object, message, flags = {}) {
        Object.defineProperty(this, '_object', { value: object, writable: true });
        Object.defineProperty(this, '_message', { value: message });
        Object.defineProperty(this, '_flags', { value: { ...flags } });
    }

    // Fails unless `ok` (or, under `.not`, unless !ok). Messages follow chai's.
    _assert(ok, positive, negative) {
        const passed = this._flags.not ? !ok : !!ok;
        if (!passed) {
            const text = (this._flags.not ? negative : positive);
            throw new AssertionError(this._message ? `${this._message}: ${text}` : text);
        }
        return this._self;
    }

    _number(value, what) {
        if (typeOf(this._object) !== 'number') throw new AssertionError(`expected ${show(this._object)} to be a number`);
        if (typeOf(value) !== 'number') throw new AssertionError(`the argument of ${what} must be a number, not ${show(value)}`);
    }

    get not() { this._flags.not = !this._flags.not; return this._self; }
    get deep() { this._flags.deep = true; return this._self; }
    get all() { this._flags.all = true; return this._self; }
    get any() { this._flags.any = true; return this._self; }

    equal(expected) {
        const ok = this._flags.deep ? deepEqual(this._object, expected) : this._object === expected;
        const verb = this._flags.deep ? 'deeply equal' : 'equal';
        return this._assert(ok, `expected ${show(this._object)} to ${verb} ${show(expected)}`,
            `expected ${show(this._object)} to not ${verb} ${show(expected)}`);
    }
    equals(expected) { return this.equal(expected); }
    eq(expected) { return this.equal(expected); }

    eql(expected) {
        return this._assert(deepEqual(this._object, expected), `expected ${show(this._object)} to deeply equal ${show(expected)}`,
            `expected ${show(this._object)} to not deeply equal ${show(expected)}`);
    }
    eqls(expected) { return this.eql(expected); }

    a(type) {
        const wanted = String(type).toLowerCase();
        const article = /^[aeiou]/.test(wanted) ? 'an' : 'a';
        return this._assert(typeOf(this._object) === wanted, `expected ${show(this._object)} to be ${article} ${wanted}`,
            `expected ${show(this._object)} not to be ${article} ${wanted}`);
    }
    an(type) { return this.a(type); }

    property(name, ...value) {
        const object = this._object;
        const has = object !== null && object !== undefined && name in Object(object);
        if (value.length > 0) {
            const actual = has ? object[name] : undefined;
            const equal = this._flags.deep ? deepEqual(actual, value[0]) : actual === value[0];
            this._assert(has && equal,
                `expected ${show(object)} to have ${this._flags.deep ? 'deep ' : ''}property '${name}' of ${show(value[0])}` + (has ? `, but got ${show(actual)}` : ''),
                `expected ${show(object)} to not have property '${name}' of ${show(value[0])}`);
        } else {
            this._assert(has, `expected ${show(object)} to have property '${name}'`, `expected ${show(object)} to not have property '${name}'`);
        }
        // Like chai: the chain goes on with the property's value (not after a negated check).
        if (!this._flags.not) this._object = has ? object[name] : undefined;
        return this._self;
    }

    _include(expected) {
        const object = this._object;
        const deep = this._flags.deep;
        let ok;
        switch (typeOf(object)) {
        case 'string':
            ok = object.includes(expected);
            break;
        case 'array':
            ok = object.some((item) => (deep ? deepEqual(item, expected) : item === expected));
            break;
        case 'object':
            if (typeOf(expected) !== 'object') throw new AssertionError(`the argument of include on an object must be an object, not ${show(expected)}`);
            ok = Object.keys(expected).every((key) => key in object && (deep ? deepEqual(object[key], expected[key]) : object[key] === expected[key]));
            break;
        default:
            throw new AssertionError(`expected ${show(object)} to be a string, an array or an object`);
        }
        return this._assert(ok, `expected ${show(object)} to ${deep ? 'deep ' : ''}include ${show(expected)}`,
            `expected ${show(object)} to not ${deep ? 'deep ' : ''}include ${show(expected)}`);
    }

    above(n) {
        this._number(n, 'above');
        return this._assert(this._object > n, `expected ${show(this._object)} to be above ${n}`, `expected ${show(this._object)} to be at most ${n}`);
    }
    gt(n) { return this.above(n); }
    greaterThan(n) { return this.above(n); }
    below(n) {
        this._number(n, 'below');
        return this._assert(this._object < n, `expected ${show(this._object)} to be below ${n}`, `expected ${show(this._object)} to be at least ${n}`);
    }
    lt(n) { return this.below(n); }
    lessThan(n) { return this.below(n); }
    least(n) {
        this._number(n, 'least');
        return this._assert(this._object >= n, `expected ${show(this._object)} to be at least ${n}`, `expected ${show(this._object)} to be below ${n}`);
    }
    gte(n) { return this.least(n); }
    most(n) {
        this._number(n, 'most');
        return this._assert(this._object <= n, `expected ${show(this._object)} to be at most ${n}`, `expected ${show(this._object)} to be above ${n}`);
    }
    lte(n) { return this.most(n); }

    match(pattern) {
        if (typeOf(pattern) !== 'regexp') throw new AssertionError(`the argument of match must be a regular expression, not ${show(pattern)}`);
        const ok = typeOf(this._object) === 'string' && pattern.test(this._object);
        return this._assert(ok, `expected ${show(this._object)} to match ${pattern}`, `expected ${show(this._object)} not to match ${pattern}`);
    }
    matches(pattern) { return this.match(pattern); }

    lengthOf(n) {
        const object = this._object;
        const length = object === null || object === undefined ? undefined : (typeof object.size === 'number' ? object.size : object.length);
        if (typeof length !== 'number') throw new AssertionError(`expected ${show(object)} to have a length`);
        return this._assert(length === n, `expected ${show(object)} to have a length of ${n} but got ${length}`,
            `expected ${show(object)} to not have a length of ${n}`);
    }

    oneOf(list) {
        if (typeOf(list) !== 'array') throw new AssertionError(`the argument of oneOf must be an array, not ${show(list)}`);
        const ok = list.some((item) => (this._flags.deep ? deepEqual(item, this._object) : item === this._object));
        return this._assert(ok, `expected ${show(this._object)} to be one of ${show(list)}`, `expected ${show(this._object)} to not be one of ${show(list)}`);
    }

    keys(...args) {
        const object = this._object;
        if (typeOf(object) !== 'object') throw new AssertionError(`expected ${show(object)} to be an object`);
        let wanted = args;
        if (args.length === 1 && typeOf(args[0]) === 'array') wanted = args[0];
        else if (args.length === 1 && typeOf(args[0]) === 'object') wanted = Object.keys(args[0]);
        wanted = wanted.map(String);
        if (wanted.length === 0) throw new AssertionError('keys needs at least one key');
        const actual = Object.keys(object);
        let ok;
        let verb;
        if (this._flags.any) {
            ok = wanted.some((key) => actual.includes(key));
            verb = 'any of';
        } else if (this._flags.contains) {
            ok = wanted.every((key) => actual.includes(key));
            verb = 'contain all of';
        } else {
            ok = wanted.every((key) => actual.includes(key)) && actual.length === wanted.length;
            verb = 'all of';
        }
        const phrase = this._flags.contains && !this._flags.any ? 'contain' : 'have';
        return this._assert(ok, `expected ${show(object)} to ${phrase} keys ${show(wanted)} (${verb}); it has ${show(actual)}`,
            `expected ${show(object)} to not ${phrase} keys ${show(wanted)} (${verb})`);
    }
    key(...args) { return this.keys(...args); }

    get empty() {
        const object = this._object;
        let length;
        switch (typeOf(object)) {
        case 'string': case 'array': length = object.length; break;
        case 'object': length = Object.keys(object).length; break;
        case 'map': case 'set': length = object.size; break;
        default: throw new AssertionError(`.empty was given ${show(object)}, not a string, array or object`);
        }
        return this._assert(length === 0, `expected ${show(object)} to be empty`, `expected ${show(object)} not to be empty`);
    }
    get true() { return this._assert(this._object === true, `expected ${show(this._object)} to be true`, `expected ${show(this._object)} to be false`); }
    get false() { return this._assert(this._object === false, `expected ${show(this._object)} to be false`, `expected ${show(this._object)} to be true`); }
    get null() { return this._assert(this._object === null, `expected ${show(this._object)} to be null`, `expected ${show(this._object)} not to be null`); }
    get undefined() { return this._assert(this._object === undefined, `expected ${show(this._object)} to be undefined`, `expected ${show(this._object)} not to be undefined`); }
    get ok() { return this._assert(!!this._object, `expected ${show(this._object)} to be truthy`, `expected ${show(this._object)} to be falsy`); }
    get exist() {
        return this._assert(this._object !== null && this._object !== undefined, `expected ${show(this._object)} to exist`, `expected ${show(this._object)} to not exist`);
    }
}
for (const word of LANGUAGE) {
    Object.defineProperty(Assertion.prototype, word, { get() { return this._self; } });
}
// include/contain: a method (`.include(x)`) and a chain (`.include.keys(…)`, `.contain.keys(…)`).
for (const word of ['include', 'includes', 'contain', 'contains']) {
    Object.defineProperty(Assertion.prototype, word, {
        get() {
            const assertion = this;
            const method = (expected) => assertion._include(expected);
            return new Proxy(method, {
                get(_, property) {
                    assertion._flags.contains = true;
                    const value = assertion._self[property];
                    return typeof value === 'function' ? value.bind(assertion._self) : value;
                },
            });
        },
    });
}

function expect(value, message) {
    const assertion = new Assertion(value, message);
    const proxy = guarded(assertion, 'expect(…)');
    Object.defineProperty(assertion, '_self', { value: proxy });
    return proxy;
}

// ---------------------------------------------------------------------------------------------
// The pm object of one script run

function headerList(headers) {
    // headers: array of [name, value] as received.
    const find = (name) => headers.find(([key]) => key.toLowerCase() === String(name).toLowerCase());
    return guarded({
        get: (name) => find(name)?.[1],
        has: (name, value) => {
            const found = find(name);
            return !!found && (value === undefined || found[1] === value);
        },
        toObject: () => Object.fromEntries(headers.map(([key, value]) => [key, value])),
        all: () => headers.map(([key, value]) => ({ key, value })),
        count: () => headers.length,
    }, 'pm.response.headers');
}

class ResponseAssertion {
    constructor(response) {
        Object.defineProperty(this, '_response', { value: response });
        Object.defineProperty(this, '_not', { value: false, writable: true });
    }
    get to() { return this._self; }
    get be() { return this._self; }
    get have() { return this._self; }
    get and() { return this._self; }
    get not() { this._not = !this._not; return this._self; }
    _assert(ok, positive, negative) {
        if (this._not ? ok : !ok) throw new AssertionError(this._not ? negative : positive);
        return this._self;
    }
    status(expected) {
        const response = this._response;
        if (typeof expected === 'number') {
            return this._assert(response.code === expected, `expected response to have status code ${expected} but got ${response.code}`,
                `expected response to not have status code ${expected}`);
        }
        return this._assert(response.status === expected, `expected response to have status reason '${expected}' but got '${response.status}'`,
            `expected response to not have status reason '${expected}'`);
    }
    header(name, ...value) {
        const actual = this._response.headers.get(name);
        if (value.length === 0) {
            return this._assert(actual !== undefined, `expected response to have header with key '${name}'`,
                `expected response to not have header with key '${name}'`);
        }
        return this._assert(actual === value[0], `expected '${name}' response header to be '${value[0]}' but got '${actual}'`,
            `expected '${name}' response header to not be '${value[0]}'`);
    }
}

function makeResponse(answer, parseJSON) {
    const headers = headerList(answer.headers);
    const response = {
        code: answer.code,
        status: answer.reason,
        responseTime: answer.time,
        responseSize: Buffer.byteLength(answer.body),
        headers,
        text: () => answer.body,
        json: () => parseJSON(answer.body),
    };
    Object.defineProperty(response, 'to', {
        get() {
            const assertion = new ResponseAssertion(response);
            const proxy = guarded(assertion, 'pm.response.to');
            Object.defineProperty(assertion, '_self', { value: proxy });
            return proxy;
        },
    });
    return guarded(response, 'pm.response');
}

function variablesAPI(store, what) {
    return guarded({
        get: (key) => (store.has(key) ? store.get(key) : undefined),
        set: (key, value) => { store.set(String(key), value); },
        has: (key) => store.has(key),
        unset: (key) => { store.delete(key); },
        toObject: () => Object.fromEntries(store),
    }, what);
}

// Runs one script; results go to `tests` ({name, passed, error}); returns an error for a script
// that threw outside pm.test.
function runScript(source, { name, event, state, answer, tests, log }) {
    const context = vm.createContext({});
    const parseJSON = vm.runInContext('JSON.parse', context);
    const pm = {
        test(testName, fn) {
            if (typeof fn !== 'function') throw new TypeError(`pm.test('${testName}') needs a function`);
            if (fn.length > 0) {
                tests.push({ name: testName, passed: false, error: 'postman-run does not implement pm.test with a done callback' });
                return pm;
            }
            try {
                const result = fn();
                if (result && typeof result.then === 'function') {
                    tests.push({ name: testName, passed: false, error: 'postman-run does not implement asynchronous pm.test' });
                } else {
                    tests.push({ name: testName, passed: true });
                }
            } catch (error) {
                tests.push({ name: testName, passed: false, error: `${error?.name ?? 'Error'}: ${error?.message ?? error}` });
            }
            return pm;
        },
        expect,
        collectionVariables: variablesAPI(state.collection, 'pm.collectionVariables'),
        variables: guarded({
            get: (key) => state.collection.get(key),
            has: (key) => state.collection.has(key),
        }, 'pm.variables'),
        info: guarded({ requestName: name, eventName: event, iteration: 0, iterationCount: 1 }, 'pm.info'),
    };
    if (answer) pm.response = makeResponse(answer, parseJSON);
    context.pm = guarded(pm, 'pm');
    context.console = {
        log: (...args) => log(args.map((arg) => (typeof arg === 'string' ? arg : show(arg))).join(' ')),
    };
    context.console.info = context.console.warn = context.console.error = context.console.log;
    try {
        new vm.Script(source, { filename: `${name} [${event}]` }).runInContext(context, { timeout: 5000 });
        return undefined;
    } catch (error) {
        return `${error?.name ?? 'Error'}: ${error?.message ?? error}`;
    }
}

// ---------------------------------------------------------------------------------------------
// The collection

function scriptOf(node, event) {
    const found = (node.event ?? []).filter((entry) => entry.listen === event && !entry.disabled);
    return found.map((entry) => {
        const exec = entry.script?.exec ?? '';
        return Array.isArray(exec) ? exec.join('\n') : String(exec);
    }).filter((source) => source.trim() !== '');
}

// Every request with the chain of folders above it, in the collection's order.
function requestsOf(collection) {
    const out = [];
    const walk = (items, parents) => {
        for (const item of items ?? []) {
            if (Array.isArray(item.item)) walk(item.item, [...parents, item]);
            else if (item.request) out.push({ item, parents });
        }
    };
    walk(collection.item, []);
    return out;
}

function resolve(text, state, unresolved) {
    return String(text ?? '').replace(/\{\{([^{}]+)\}\}/g, (whole, key) => {
        if (state.collection.has(key)) {
            const value = state.collection.get(key);
            return value === undefined || value === null ? '' : String(value);
        }
        unresolved.add(key);
        return whole;
    });
}

function effectiveAuth(collection, parents, item) {
    for (const node of [item.request, ...[...parents].reverse(), collection]) {
        if (node.auth && node.auth.type) return node.auth;
    }
    return { type: 'noauth' };
}

function authValue(auth, key) {
    const entries = auth[auth.type];
    if (Array.isArray(entries)) return entries.find((entry) => entry.key === key)?.value;
    return entries?.[key];
}

function buildRequest(collection, parents, item, state) {
    const request = item.request;
    const unresolved = new Set();
    const rawURL = typeof request.url === 'string' ? request.url : request.url?.raw;
    if (!rawURL) throw new Error('the request has no url.raw');
    const url = resolve(rawURL, state, unresolved);
    const method = (request.method ?? 'GET').toUpperCase();
    const headers = [];
    for (const header of request.header ?? []) {
        if (header.disabled) continue;
        headers.push([resolve(header.key, state, unresolved), resolve(header.value, state, unresolved)]);
    }
    const auth = effectiveAuth(collection, parents, item);
    if (auth.type === 'bearer') {
        headers.push(['Authorization', `Bearer ${resolve(authValue(auth, 'token'), state, unresolved)}`]);
    } else if (auth.type !== 'noauth') {
        throw new Error(`postman-run does not implement auth type '${auth.type}'`);
    }
    let body;
    const mode = request.body?.mode;
    if (mode === 'raw') body = resolve(request.body.raw, state, unresolved);
    else if (mode && mode !== 'none') throw new Error(`postman-run does not implement body mode '${mode}'`);
    if (unresolved.size > 0) throw new Error(`unresolved variables: ${[...unresolved].map((key) => `{{${key}}}`).join(', ')}`);
    if (!headers.some(([key]) => key.toLowerCase() === 'user-agent')) headers.push(['User-Agent', 'bazar-postman-run']);
    return { method, url, headers, body };
}

async function send(request, timeoutMs) {
    const started = performance.now();
    const reply = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await reply.text();
    const headers = [];
    reply.headers.forEach((value, key) => headers.push([key, value]));
    return { code: reply.status, reason: reply.statusText, headers, body, time: Math.round(performance.now() - started) };
}

// ---------------------------------------------------------------------------------------------
// The answer against the saved example

function isJSONType(contentType) {
    return /^application\/([\w.+-]*\+)?json\b/i.test(contentType ?? '');
}

function normalizedType(contentType) {
    return String(contentType).split(';').map((part) => part.trim().toLowerCase()).filter(Boolean).join('; ');
}

function jsonType(value) {
    if (value === null) return 'null';
    if (Array.isArray(value)) return 'array';
    return typeof value; // object, string, number, boolean
}

// Differences of shape, as "path: what" lines.
function shapeDifferences(expected, actual, where = '$', out = []) {
    const want = jsonType(expected);
    const got = jsonType(actual);
    if (want !== got) {
        out.push(`${where}: ${want} in the example, ${got} in the answer`);
        return out;
    }
    if (want === 'object') {
        for (const key of Object.keys(expected)) {
            if (!(key in actual)) out.push(`${where}.${key}: in the example, missing from the answer`);
            else shapeDifferences(expected[key], actual[key], `${where}.${key}`, out);
        }
        for (const key of Object.keys(actual)) {
            if (!(key in expected)) out.push(`${where}.${key}: in the answer, not in the example`);
        }
    } else if (want === 'array' && expected.length > 0) {
        actual.forEach((item, index) => shapeDifferences(expected[0], item, `${where}[${index}]`, out));
    }
    return out;
}

function exampleChecks(example, answer) {
    const checks = [];
    if (!example) return [{ name: 'saved example', passed: false, error: 'the request has no saved example (response array)' }];
    const label = example.name ? ` "${example.name}"` : '';
    checks.push({
        name: `status ${example.code} as in the example${label}`,
        passed: answer.code === example.code,
        error: `got ${answer.code}`,
    });
    const exampleHeaders = example.header ?? [];
    const exampleType = (Array.isArray(exampleHeaders) ? exampleHeaders : [])
        .find((header) => String(header.key).toLowerCase() === 'content-type')?.value;
    const answerType = answer.headers.find(([key]) => key === 'content-type')?.[1];
    if (exampleType !== undefined) {
        checks.push({
            name: `Content-Type ${exampleType}`,
            passed: answerType !== undefined && normalizedType(answerType) === normalizedType(exampleType),
            error: `got ${answerType === undefined ? 'no Content-Type' : answerType}`,
        });
    }
    const exampleBody = example.body ?? '';
    if (exampleBody === '') {
        checks.push({ name: 'no body, as in the example', passed: answer.body === '', error: `got ${answer.body.length} bytes` });
    } else if (isJSONType(exampleType)) {
        let expected;
        let actual;
        try {
            expected = JSON.parse(exampleBody);
        } catch (error) {
            checks.push({ name: 'JSON shape', passed: false, error: `the example's body is not JSON: ${error.message}` });
            return checks;
        }
        try {
            actual = JSON.parse(answer.body);
        } catch (error) {
            checks.push({ name: 'JSON shape', passed: false, error: `the answer is not JSON: ${error.message}` });
            return checks;
        }
        const differences = shapeDifferences(expected, actual);
        checks.push({ name: 'JSON shape as in the example', passed: differences.length === 0, error: differences.slice(0, 8).join('; ') });
    }
    return checks.map((check) => ({ ...check, name: `[example] ${check.name}`, error: check.passed ? undefined : check.error }));
}

// ---------------------------------------------------------------------------------------------

export async function runCollection(collection, { variables = {}, timeoutMs = 30000, print = console.log, onAnswer } = {}) {
    const state = { collection: new Map() };
    for (const variable of collection.variable ?? []) {
        if (!variable.disabled) state.collection.set(variable.key, variable.value ?? '');
    }
    for (const [key, value] of Object.entries(variables)) {
        if (value !== undefined) state.collection.set(key, value);
    }
    const results = [];
    let currentFolder;
    for (const { item, parents } of requestsOf(collection)) {
        const folderPath = parents.map((folder) => folder.name).join(' / ');
        if (folderPath !== currentFolder) {
            currentFolder = folderPath;
            print(`\n${folderPath || '(collection)'}`);
        }
        const tests = [];
        const problems = [];
        const logs = [];
        const log = (line) => logs.push(line);
        const chain = [collection, ...parents, item];
        const context = { name: item.name, state, tests, log };
        for (const node of chain) {
            for (const source of scriptOf(node, 'prerequest')) {
                const error = runScript(source, { ...context, event: 'prerequest' });
                if (error) problems.push(`pre-request script of '${node.name ?? node.info?.name}': ${error}`);
            }
        }
        let request;
        let answer;
        try {
            request = buildRequest(collection, parents, item, state);
            answer = await send(request, timeoutMs);
        } catch (error) {
            problems.push(request ? `no answer from ${request.method} ${request.url}: ${error.cause?.message ?? error.message}` : error.message);
        }
        const ownTestScripts = scriptOf(item, 'test');
        let ownTests = 0;
        let checks = [];
        if (answer) {
            for (const node of chain) {
                const before = tests.length;
                for (const source of scriptOf(node, 'test')) {
                    const error = runScript(source, { ...context, event: 'test', answer });
                    if (error) problems.push(`test script of '${node.name ?? node.info?.name}': ${error}`);
                }
                if (node === item) ownTests = tests.length - before;
            }
            checks = exampleChecks((item.response ?? [])[0], answer);
            onAnswer?.(item, request, answer);
        } else if (!(item.response ?? [])[0]) {
            checks = exampleChecks(undefined, undefined);
        }
        if (ownTestScripts.length === 0) problems.push('the request has no test script');
        else if (answer && ownTests === 0) problems.push('the request\'s test script ran no pm.test');
        const failed = tests.some((test) => !test.passed) || checks.some((check) => !check.passed) || problems.length > 0;
        const target = request ? `${request.method} ${request.url.replace(/^https?:\/\/[^/]+/, '')}` : '';
        const outcome = answer ? ` → ${answer.code} (${answer.time} ms)` : '';
        print(`  ${failed ? FAIL : OK} ${item.name}  ${target}${outcome}`);
        for (const line of logs) print(`      │ ${line}`);
        for (const test of [...tests, ...checks]) {
            print(`      ${test.passed ? OK : FAIL} ${test.name}${test.passed ? '' : `\n          ${test.error}`}`);
        }
        for (const problem of problems) print(`      ${FAIL} ${problem}`);
        if (failed && answer) {
            const body = answer.body.length > 300 ? `${answer.body.slice(0, 300)}…` : answer.body;
            print(`      answer: ${answer.code} ${body}`);
        }
        results.push({ name: folderPath ? `${folderPath} / ${item.name}` : item.name, failed, tests, checks, problems });
    }
    return results;
}

async function main() {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const file = process.argv[2] ?? path.join(here, '..', 'docs', 'postman', 'bazar.postman_collection.json');
    let collection;
    try {
        collection = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (error) {
        console.error(`postman-run: cannot read the collection ${file}: ${error.message}`);
        process.exit(2);
    }
    const variables = {};
    if (process.env.BAZAR_BASE_URL) variables.baseUrl = process.env.BAZAR_BASE_URL.replace(/\/+$/, '');
    if (process.env.BAZAR_ADMIN_TOKEN !== undefined) variables.adminToken = process.env.BAZAR_ADMIN_TOKEN;
    const timeoutMs = Number(process.env.POSTMAN_RUN_TIMEOUT_MS ?? 30000);
    const baseUrl = variables.baseUrl ?? (collection.variable ?? []).find((variable) => variable.key === 'baseUrl')?.value;
    const started = performance.now();
    console.log(`${collection.info?.name ?? 'collection'} (${path.relative(process.cwd(), file) || file}) against ${baseUrl}`);
    const results = await runCollection(collection, { variables, timeoutMs });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const failedRequests = results.filter((result) => result.failed);
    const allTests = results.flatMap((result) => result.tests);
    const allChecks = results.flatMap((result) => result.checks);
    const count = (list) => `${list.length - list.filter((entry) => !entry.passed).length}/${list.length}`;
    console.log(`\n${results.length} requests, ${failedRequests.length} failed; tests passed ${count(allTests)}; example checks passed ${count(allChecks)}; ${seconds} s`);
    if (results.length === 0) {
        console.log(`${FAIL} the collection has no requests`);
        process.exit(1);
    }
    if (failedRequests.length > 0) {
        console.log(`${FAIL} failed:`);
        for (const result of failedRequests) console.log(`    ${result.name}`);
        process.exit(1);
    }
    console.log(`${OK} every request passed`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
    await main();
}
