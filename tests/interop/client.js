#!/usr/bin/env node
// Tandem interop test peer: a stock node-opcua client (default OPCUAClient options,
// endpointMustExist left true) driven from the command line. One JSON document per line on
// stdout; node-opcua's own logging goes to stderr. Errors: {"error": "..."} and exit code 1.
// See README.md for the subcommands.

// node-opcua logs through console.log (warnings included): keep stdout for our JSON lines.
for (const k of ["log", "info", "debug", "warn"]) {
    console[k] = (...a) => console.error(...a);
}

const USAGE = `usage: node client.js SUBCOMMAND URL ... [common options]
  read URL NODEID...                       {"values":[{"nodeId","value","dataType","status","sourceTimestamp","serverTimestamp"}]}
  write URL NODEID TYPE VALUE [NODEID TYPE VALUE]...
                                           {"status":"Good"|...}   (TYPE like Double, Int32, Boolean, String; Double[] + JSON array)
                                           several writes: {"status":<first>,"statuses":[...]} (one Write request)
  browse URL [NODEID] [--max-depth D]      {"nodes":[{"nodeId","browseName","nodeClass","parent"}]}  (default i=85 Objects)
  subscribe URL (--items N [--prefix ns=1;s=Sim.Item] [--width W] [--start K] | NODEID...) [--publish-ms P]
            [--sampling-ms S] [--queue-size Q] [--lifetime-count L] [--keepalive-count K] [--seconds T]
            [--print-values] [--ts-grid-ms G] [--channel-events]
  latency URL NODEID [--count N] [--warmup W]
  session URL [--seconds T] [--interval-ms I] [--node NODEID] [--channel-events]
common options:
  --user NAME --password PW   user-name login (default anonymous)
  --timeout-ms MS             connect+session deadline; whole command for read/write/browse/latency (default 15000)
  --pki DIR                   client PKI folder (default: node-opcua's default, ~/.config/node-opcua-default-nodejs/PKI)
  --in-memory-pki             no PKI on disk: generate a throw-away certificate in memory (about 1 s slower)
Environment: INTEROP_CLIENT_PKI=DIR is the same as --pki DIR.`;

const t0 = process.hrtime.bigint();
const sinceStartMs = () => Number(process.hrtime.bigint() - t0) / 1e6;
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class UsageError extends Error {}

function parseArgs(argv) {
    const positional = [];
    const opts = {};
    const flags = new Set(["--in-memory-pki", "--print-values", "--channel-events", "--help", "-h"]);
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a.startsWith("--") || a === "-h") {
            if (flags.has(a)) {
                opts[a] = true;
            } else {
                if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
                opts[a] = argv[++i];
            }
        } else {
            positional.push(a);
        }
    }
    return { positional, opts };
}

function intOpt(opts, name, def, min = 0, max = Number.MAX_SAFE_INTEGER) {
    if (opts[name] === undefined) return def;
    const n = Number(opts[name]);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} needs an integer in [${min}, ${max}]`);
    return n;
}

const ALLOWED = {
    read: [],
    write: [],
    browse: ["--max-depth"],
    subscribe: ["--items", "--print-values", "--prefix", "--width", "--start", "--publish-ms", "--sampling-ms", "--queue-size", "--lifetime-count", "--keepalive-count", "--seconds", "--ts-grid-ms", "--channel-events"],
    latency: ["--count", "--warmup"],
    session: ["--seconds", "--interval-ms", "--node", "--channel-events"]
};
const COMMON = ["--user", "--password", "--timeout-ms", "--pki", "--in-memory-pki"];

let opcua; // the node-opcua module, loaded after console redirection
let client = null;
let session = null;

// ---- value conversion to JSON
function int64ToNumber(x, signed) {
    if (!Array.isArray(x) || x.length !== 2) return x;
    const hi = signed ? x[0] | 0 : x[0] >>> 0;
    return hi * 4294967296 + (x[1] >>> 0);
}
function jsonOf(x, dataTypeName) {
    if (x === null || x === undefined) return null;
    if (typeof x === "bigint") return x.toString();
    if (typeof x === "number") return Number.isFinite(x) ? x : String(x);
    if (typeof x === "string" || typeof x === "boolean") return x;
    if (x instanceof Date) return Number.isNaN(x.getTime()) ? null : x.toISOString();
    if (Buffer.isBuffer(x)) return x.toString("base64");
    if (dataTypeName === "Int64" || dataTypeName === "UInt64") {
        if (Array.isArray(x) && x.length === 2 && typeof x[0] === "number") return int64ToNumber(x, dataTypeName === "Int64");
    }
    if (ArrayBuffer.isView(x)) return Array.from(x, (e) => jsonOf(e, dataTypeName));
    if (Array.isArray(x)) return x.map((e) => jsonOf(e, dataTypeName));
    if (x.constructor && x.constructor.name === "NodeId") return nodeIdText(x);
    if (x.constructor && x.constructor.name === "ExpandedNodeId") return x.toString();
    if (x.constructor && x.constructor.name === "QualifiedName") return x.toString();
    if (x.constructor && x.constructor.name === "LocalizedText") return x.text === undefined ? null : x.text;
    if (typeof x.toJSON === "function") return x.toJSON();
    return String(x);
}
function dataValueJson(nodeId, dv) {
    const dataTypeName = dv.value ? opcua.DataType[dv.value.dataType] : "Null";
    return {
        nodeId,
        value: dv.value ? jsonOf(dv.value.value, dataTypeName) : null,
        dataType: dataTypeName,
        status: dv.statusCode.name,
        sourceTimestamp: dv.sourceTimestamp ? dv.sourceTimestamp.toISOString() : null,
        serverTimestamp: dv.serverTimestamp ? dv.serverTimestamp.toISOString() : null
    };
}

// ---- write value parsing
function parseScalar(type, s) {
    const int = (min, max) => {
        const n = Number(s);
        if (String(s).trim() === "" || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`${s} is not a ${type}`);
        return n;
    };
    switch (type) {
        case "Boolean":
            if (s === true || /^(true|1)$/i.test(String(s))) return true;
            if (s === false || /^(false|0)$/i.test(String(s))) return false;
            throw new UsageError(`${s} is not a Boolean (true/false/1/0)`);
        case "SByte": return int(-128, 127);
        case "Byte": return int(0, 255);
        case "Int16": return int(-32768, 32767);
        case "UInt16": return int(0, 65535);
        case "Int32": return int(-2147483648, 2147483647);
        case "UInt32": return int(0, 4294967295);
        case "Int64": return opcua.coerceInt64(BigInt(String(s)));
        case "UInt64": return opcua.coerceUInt64(BigInt(String(s)));
        case "Float":
        case "Double": {
            const n = Number(s);
            if (String(s).trim() === "" || (Number.isNaN(n) && String(s) !== "NaN")) throw new UsageError(`${s} is not a ${type}`);
            return n;
        }
        case "String": return String(s);
        case "DateTime": {
            const d = new Date(s);
            if (Number.isNaN(d.getTime())) throw new UsageError(`${s} is not a DateTime`);
            return d;
        }
        case "ByteString": return Buffer.from(String(s), "base64");
        case "LocalizedText": return new opcua.LocalizedText({ text: String(s) });
        case "NodeId": return opcua.resolveNodeId(String(s));
        case "Guid": return String(s);
        default: throw new UsageError(`unsupported TYPE ${type}`);
    }
}
function makeVariant(typeArg, valueArg) {
    const isArray = typeArg.endsWith("[]");
    const type = isArray ? typeArg.slice(0, -2) : typeArg;
    const dataType = opcua.DataType[type];
    if (typeof dataType !== "number") throw new UsageError(`unknown TYPE ${typeArg}`);
    if (!isArray) return { dataType, value: parseScalar(type, valueArg) };
    let arr;
    try {
        arr = JSON.parse(valueArg);
    } catch (e) {
        throw new UsageError(`VALUE for ${typeArg} must be a JSON array: ${e.message}`);
    }
    if (!Array.isArray(arr)) throw new UsageError(`VALUE for ${typeArg} must be a JSON array`);
    return { dataType, arrayType: opcua.VariantArrayType.Array, value: arr.map((e) => parseScalar(type, typeof e === "string" ? e : e)) };
}

// ---- connection
async function makeClient(opts) {
    const options = {}; // stock defaults (applicationName NodeOPCUA-Client, endpointMustExist true, ...)
    const pki = opts["--pki"] || process.env.INTEROP_CLIENT_PKI;
    if (opts["--in-memory-pki"]) {
        const applicationUri = "urn:tandem:interop:client";
        const kp = new opcua.InMemoryCertificateKeyPairProvider();
        await kp.ensureCertificateExists({ applicationUri, subject: "/CN=Tandem interop client", dns: ["localhost"], ip: ["127.0.0.1"] });
        options.applicationUri = applicationUri;
        options.certificateKeyPairProvider = kp;
        options.clientCertificateManager = new opcua.InMemoryCertificateStore({ autoAcceptUnknown: true });
    } else if (pki) {
        options.clientCertificateManager = new opcua.OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true });
    }
    return opcua.OPCUAClient.create(options);
}

function userIdentity(opts) {
    if (opts["--user"] === undefined && opts["--password"] === undefined) return undefined;
    if (opts["--user"] === undefined || opts["--password"] === undefined) throw new UsageError("--user and --password go together");
    return { type: opcua.UserTokenType.UserName, userName: opts["--user"], password: opts["--password"] };
}

async function withDeadline(promise, ms, what) {
    let timer;
    const deadline = new Promise((_, reject) => {
        timer = setTimeout(() => {
            const where = phase === "connect" ? "could not connect" : phase === "session" ? "no session" : "no answer";
            reject(new Error(`${what}: ${where} within ${ms} ms`));
        }, ms);
    });
    try {
        return await Promise.race([promise, deadline]);
    } finally {
        clearTimeout(timer);
    }
}

let phase = "start"; // for deadline messages: "connect", "session", then the command
async function connect(url, opts) {
    client = await makeClient(opts);
    phase = "connect";
    await client.connect(url);
    phase = "session";
    session = await client.createSession(userIdentity(opts));
    phase = "command";
    return session;
}

async function closeAll() {
    const s = session;
    const c = client;
    session = null;
    client = null;
    try {
        if (s) await withDeadline(s.close(true), 3000, "close session");
    } catch (_) {
        /* best effort */
    }
    try {
        if (c) await withDeadline(c.disconnect(), 3000, "disconnect");
    } catch (_) {
        /* best effort */
    }
}

// NodeId in the usual text form: "i=85" rather than node-opcua's "ns=0;i=85".
const nodeIdText = (id) => id.toString().replace(/^ns=0;/, "");

// ---- subcommands
async function cmdRead(url, args) {
    if (args.length < 1) throw new UsageError("read needs at least one NODEID");
    const nodes = args.map((a) => ({ nodeId: opcua.resolveNodeId(a), attributeId: opcua.AttributeIds.Value }));
    const dvs = await session.read(nodes, 0);
    emit({ values: dvs.map((dv, i) => dataValueJson(args[i], dv)) });
}

async function cmdWrite(url, args) {
    if (args.length < 3 || args.length % 3 !== 0) throw new UsageError("write needs NODEID TYPE VALUE (one or more triples)");
    const writes = [];
    for (let i = 0; i < args.length; i += 3) {
        const [nodeId, type, value] = args.slice(i, i + 3);
        writes.push({ nodeId: opcua.resolveNodeId(nodeId), attributeId: opcua.AttributeIds.Value, value: { value: makeVariant(type, value) } });
    }
    if (writes.length === 1) {
        const sc = await session.write(writes[0]);
        emit({ status: sc.name });
        return;
    }
    const scs = await session.write(writes);
    emit({ status: scs[0].name, statuses: scs.map((sc) => sc.name) });
}

async function cmdBrowse(url, args, opts) {
    if (args.length > 1) throw new UsageError("browse takes at most one NODEID");
    const start = args[0] || "i=85";
    const maxDepth = intOpt(opts, "--max-depth", 1000000, 1);
    const startId = opcua.resolveNodeId(start);
    const visited = new Set([nodeIdText(startId)]);
    const nodes = [];
    let level = [startId];
    const BATCH = 100;
    for (let depth = 1; level.length > 0 && depth <= maxDepth; depth++) {
        const next = [];
        for (let i = 0; i < level.length; i += BATCH) {
            const parents = level.slice(i, i + BATCH);
            const descs = parents.map((nodeId) => ({
                nodeId,
                referenceTypeId: opcua.resolveNodeId("HierarchicalReferences"),
                includeSubtypes: true,
                browseDirection: opcua.BrowseDirection.Forward,
                nodeClassMask: 0,
                resultMask: 63
            }));
            let results = await session.browse(descs);
            let owners = parents;
            while (results.length > 0) {
                const pending = [];
                const pendingOwners = [];
                results.forEach((r, k) => {
                    for (const ref of r.references || []) {
                        if (ref.nodeId.serverIndex) continue; // other servers: not followed
                        const id = new opcua.NodeId(ref.nodeId.identifierType, ref.nodeId.value, ref.nodeId.namespace);
                        const key = nodeIdText(id);
                        if (visited.has(key)) continue;
                        visited.add(key);
                        nodes.push({
                            nodeId: key,
                            browseName: ref.browseName.toString(),
                            nodeClass: opcua.NodeClass[ref.nodeClass],
                            parent: nodeIdText(owners[k])
                        });
                        next.push(id);
                    }
                    if (r.continuationPoint && r.continuationPoint.length > 0) {
                        pending.push(r.continuationPoint);
                        pendingOwners.push(owners[k]);
                    }
                });
                if (pending.length === 0) break;
                results = await session.browseNext(pending, false);
                owners = pendingOwners;
            }
        }
        level = next;
    }
    emit({ nodes });
}

function histPercentile(hist, total, p) {
    if (total === 0) return null;
    const rank = Math.max(1, Math.ceil(p * total));
    const keys = [...hist.keys()].sort((a, b) => a - b);
    let acc = 0;
    for (const k of keys) {
        acc += hist.get(k);
        if (acc >= rank) return k;
    }
    return keys[keys.length - 1];
}

async function cmdSubscribe(url, args, opts) {
    if (args.length > 0 && opts["--items"] !== undefined) throw new UsageError("give either NODEIDs or --items N, not both");
    if (args.length === 0 && opts["--items"] === undefined) throw new UsageError("subscribe needs --items N or NODEIDs");
    const explicit = args.length > 0;
    const items = explicit ? args.length : intOpt(opts, "--items", 0, 1, 10000000);
    const prefix = opts["--prefix"] || "ns=1;s=Sim.Item";
    const first = intOpt(opts, "--start", 0, 0);
    const width = intOpt(opts, "--width", Math.max(4, String(Math.max(0, first + items - 1)).length), 0, 20);
    const nodeIdAt = (g) => (explicit ? args[g] : prefix + String(first + g).padStart(width, "0"));
    const printValues = !!opts["--print-values"];
    const ev = makeEventPrinter();
    hookClientEvents(client, ev, opts);
    const publishMs = intOpt(opts, "--publish-ms", 100, 0);
    const samplingMs = intOpt(opts, "--sampling-ms", publishMs, 0);
    const queueSize = intOpt(opts, "--queue-size", 1, 0);
    const lifetimeCount = intOpt(opts, "--lifetime-count", 60, 1);
    const keepaliveCount = intOpt(opts, "--keepalive-count", 10, 1);
    const seconds = Number(opts["--seconds"] === undefined ? 10 : opts["--seconds"]);
    if (!(seconds > 0)) throw new UsageError("--seconds needs a positive number");
    const tsGridMs = intOpt(opts, "--ts-grid-ms", 0, 0);

    const subscription = await session.createSubscription2({
        requestedPublishingInterval: publishMs,
        requestedLifetimeCount: lifetimeCount,
        requestedMaxKeepAliveCount: keepaliveCount,
        maxNotificationsPerPublish: 0,
        publishingEnabled: true,
        priority: 10
    });
    let notifications = 0;
    let windowNotifications = 0;
    let keepalives = 0;
    const seen = new Uint8Array(items);
    let itemsSeen = 0;
    // Per item: values received, arrival (ms since start) and sourceTimestamp (ms) of the last one.
    const perItem = new Uint32Array(items);
    const lastArrival = new Float64Array(items);
    const lastSource = new Float64Array(items).fill(NaN);
    let arrivalGapMax = 0;
    let sourceGapMin = null;
    let sourceGapMax = null;
    let offGrid = 0;
    const lagHist = new Map(); // integer ms -> count, lag = receive time - sourceTimestamp (not for first values)
    let lagCount = 0;
    let lagMax = 0;
    subscription.on("keepalive", () => {
        keepalives++;
    });
    subscription.on("status_changed", (status) => ev("subscription_status", { status: status.name }));

    const CHUNK = 1000;
    let failed = 0;
    const created = new Uint8Array(items); // 1 = monitored item created with a Good status
    let revisedSamplingMs = null;
    let failedFirst = null; // first item that could not be created
    const groups = [];
    for (let off = 0; off < items; off += CHUNK) {
        const n = Math.min(CHUNK, items - off);
        const toMonitor = [];
        for (let k = 0; k < n; k++) {
            toMonitor.push({ nodeId: opcua.resolveNodeId(nodeIdAt(off + k)), attributeId: opcua.AttributeIds.Value });
        }
        const group = await subscription.monitorItems(
            toMonitor,
            { samplingInterval: samplingMs, discardOldest: true, queueSize },
            opcua.TimestampsToReturn.Both
        );
        group.on("changed", (_item, dv, index) => {
            const g = off + index;
            const arrival = sinceStartMs();
            if (printValues) emit({ event: "value", ...dataValueJson(nodeIdAt(g), dv), t_ms: Math.round(arrival) });
            notifications++;
            windowNotifications++;
            if (perItem[g] > 0) arrivalGapMax = Math.max(arrivalGapMax, arrival - lastArrival[g]);
            perItem[g]++;
            lastArrival[g] = arrival;
            if (dv.sourceTimestamp) {
                const src = dv.sourceTimestamp.getTime();
                if (tsGridMs > 0 && src % tsGridMs !== 0) offGrid++;
                if (!Number.isNaN(lastSource[g])) {
                    const gap = src - lastSource[g];
                    sourceGapMin = sourceGapMin === null ? gap : Math.min(sourceGapMin, gap);
                    sourceGapMax = sourceGapMax === null ? gap : Math.max(sourceGapMax, gap);
                }
                lastSource[g] = src;
            }
            if (!seen[g]) {
                seen[g] = 1;
                itemsSeen++;
            } else if (dv.sourceTimestamp) {
                const lag = Math.max(0, Math.round(Date.now() - dv.sourceTimestamp.getTime()));
                lagHist.set(lag, (lagHist.get(lag) || 0) + 1);
                lagCount++;
                if (lag > lagMax) lagMax = lag;
            }
        });
        group.monitoredItems.forEach((mi, k) => {
            if (mi.statusCode && !mi.statusCode.isNotGood()) created[off + k] = 1;
        });
        for (const mi of group.monitoredItems) {
            if (!mi.statusCode || mi.statusCode.isNotGood()) {
                failed++;
                if (failedFirst === null) failedFirst = { nodeId: nodeIdAt(off + group.monitoredItems.indexOf(mi)), status: mi.statusCode ? mi.statusCode.name : null };
            } else if (revisedSamplingMs === null) {
                revisedSamplingMs = mi.monitoringParameters.samplingInterval;
            }
        }
        groups.push(group);
    }
    emit({
        event: "subscribed",
        items,
        failed,
        first_nodeId: nodeIdAt(0),
        ...(failedFirst ? { first_failure: failedFirst } : {}),
        revised_publish_ms: subscription.publishingInterval,
        revised_sampling_ms: revisedSamplingMs,
        t_ms: Math.round(sinceStartMs())
    });
    const started = process.hrtime.bigint();
    let lastTick = started;
    const statsTimer = setInterval(() => {
        const now = process.hrtime.bigint();
        const dt = Number(now - lastTick) / 1e9;
        lastTick = now;
        emit({ event: "stats", notifications: windowNotifications, items_seen: itemsSeen, total: notifications, per_s: Math.round(windowNotifications / dt), keepalives });
        windowNotifications = 0;
    }, 1000);
    await sleep(seconds * 1000);
    clearInterval(statsTimer);
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    ev.mute();
    let perItemMin = null;
    let perItemMax = null;
    for (let g = 0; g < items; g++) {
        if (!created[g]) continue;
        perItemMin = perItemMin === null ? perItem[g] : Math.min(perItemMin, perItem[g]);
        perItemMax = perItemMax === null ? perItem[g] : Math.max(perItemMax, perItem[g]);
    }
    emit({
        event: "summary",
        items,
        failed,
        seconds: Number(elapsed.toFixed(3)),
        notifications,
        items_seen: itemsSeen,
        notifications_per_s: Math.round(notifications / elapsed),
        keepalives,
        lag_ms_p50: histPercentile(lagHist, lagCount, 0.5),
        lag_ms_p99: histPercentile(lagHist, lagCount, 0.99),
        lag_ms_max: lagCount ? lagMax : null,
        per_item_min: perItemMin,
        per_item_max: perItemMax,
        arrival_gap_ms_max: Math.round(arrivalGapMax),
        source_gap_ms_min: sourceGapMin,
        source_gap_ms_max: sourceGapMax,
        ...(tsGridMs > 0 ? { off_grid: offGrid } : {}),
        events: { ...ev.counts }
    });
    try {
        await withDeadline(subscription.terminate(), 3000, "terminate subscription");
    } catch (_) {
        /* best effort */
    }
}

async function cmdLatency(url, args, opts) {
    if (args.length !== 1) throw new UsageError("latency needs exactly one NODEID");
    const count = intOpt(opts, "--count", 1000, 1);
    const warmup = intOpt(opts, "--warmup", Math.min(50, count), 0);
    const node = { nodeId: opcua.resolveNodeId(args[0]), attributeId: opcua.AttributeIds.Value };
    let bad = 0;
    let lastStatus = null;
    for (let i = 0; i < warmup; i++) await session.read(node);
    const us = new Float64Array(count);
    for (let i = 0; i < count; i++) {
        const a = process.hrtime.bigint();
        const dv = await session.read(node);
        const b = process.hrtime.bigint();
        us[i] = Number(b - a) / 1000;
        lastStatus = dv.statusCode;
        if (dv.statusCode.isNotGood()) bad++;
    }
    const sorted = Float64Array.from(us).sort();
    const pct = (p) => sorted[Math.min(count - 1, Math.max(0, Math.ceil(p * count) - 1))];
    const mean = us.reduce((s, x) => s + x, 0) / count;
    emit({
        nodeId: args[0],
        count,
        warmup,
        p50_us: Math.round(pct(0.5)),
        p90_us: Math.round(pct(0.9)),
        p99_us: Math.round(pct(0.99)),
        mean_us: Math.round(mean),
        min_us: Math.round(sorted[0]),
        max_us: Math.round(sorted[count - 1]),
        bad_reads: bad,
        status: lastStatus ? lastStatus.name : null
    });
}

// node-opcua client events that matter for failover, with the names we print.
const CLIENT_EVENTS = {
    connection_lost: "connection_lost",
    start_reconnection: "reconnecting",
    reconnection_attempt_has_failed: "reconnection_attempt_failed",
    connection_reestablished: "connection_reestablished",
    after_reconnection: "after_reconnection",
    session_restored: "session_restored",
    session_repaired: "session_repaired",
    session_repaired_failed: "session_repaired_failed",
    reconnection_canceled: "reconnection_canceled",
    timed_out_request: "timed_out_request"
};
function hookClientEvents(c, ev, opts = {}) {
    for (const [src, dst] of Object.entries(CLIENT_EVENTS)) {
        c.on(src, (x) => ev(dst, x instanceof Error ? { error: x.message } : {}));
    }
    c.on("backoff", (retry, delay) => ev("backoff", { retry, delay_ms: delay }));
    if (opts["--channel-events"]) {
        // Secure channel token renewals (node-opcua renews at 75 % of the revised lifetime).
        c.on("security_token_renewed", (channel, token) =>
            ev("token_renewed", {
                channel_id: token ? token.channelId : null,
                token_id: token ? token.tokenId : null,
                lifetime_ms: token ? token.revisedLifetime : null
            })
        );
    }
}
function makeEventPrinter() {
    const counts = {};
    let muted = false;
    const ev = (name, extra = {}) => {
        if (muted) return;
        counts[name] = (counts[name] || 0) + 1;
        emit({ event: name, ...extra, t_ms: Math.round(sinceStartMs()), ts: new Date().toISOString() });
    };
    ev.counts = counts;
    ev.mute = () => {
        muted = true;
    };
    return ev;
}

async function cmdSession(url, args, opts) {
    if (args.length > 0) throw new UsageError(`unexpected argument ${args[0]}`);
    const seconds = Number(opts["--seconds"] === undefined ? 10 : opts["--seconds"]);
    if (!(seconds > 0)) throw new UsageError("--seconds needs a positive number");
    const intervalMs = intOpt(opts, "--interval-ms", 100, 1);
    const nodeArg = opts["--node"] || "i=2259"; // Server_ServerStatus_State
    const node = { nodeId: opcua.resolveNodeId(nodeArg), attributeId: opcua.AttributeIds.Value };
    const ev = makeEventPrinter();
    // Register before connecting so that nothing is missed.
    client = await makeClient(opts);
    hookClientEvents(client, ev, opts);
    await withDeadline(
        (async () => {
            phase = "connect";
            await client.connect(url);
            ev("connected");
            phase = "session";
            session = await client.createSession(userIdentity(opts));
            phase = "command";
            ev("session_created");
        })(),
        intOpt(opts, "--timeout-ms", 15000, 1),
        "connect"
    );
    session.on("session_closed", (sc) => ev("session_closed", { status: sc && sc.name }));
    session.on("keepalive_failure", () => ev("keepalive_failure"));
    session.on("session_restored", () => ev("session_restored"));

    let done = false;
    let last = undefined; // last value reported
    let lastGood = null; // hrtime of last good read
    let failing = false;
    let reads = 0;
    let readErrors = 0;
    let maxGapMs = 0;
    const states = [];
    const loop = (async () => {
        while (!done) {
            const begin = process.hrtime.bigint();
            let ok = false;
            let value;
            let err = null;
            try {
                const dv = await session.read(node);
                if (dv.statusCode.isGood()) {
                    ok = true;
                    value = jsonOf(dv.value && dv.value.value, dv.value ? opcua.DataType[dv.value.dataType] : "Null");
                } else {
                    err = dv.statusCode.name;
                }
            } catch (e) {
                err = e.message;
            }
            if (done) break;
            reads++;
            const now = process.hrtime.bigint();
            if (ok) {
                if (failing && lastGood !== null) {
                    const gap = Number(now - lastGood) / 1e6;
                    maxGapMs = Math.max(maxGapMs, gap);
                    ev("read_recovered", { gap_ms: Math.round(gap) });
                }
                failing = false;
                lastGood = now;
                if (JSON.stringify(value) !== JSON.stringify(last)) {
                    last = value;
                    const name = nodeArg === "i=2259" && typeof value === "number" ? opcua.ServerState[value] : undefined;
                    states.push(value);
                    ev("state", name === undefined ? { value } : { value, name });
                }
            } else {
                readErrors++;
                if (!failing) ev("read_error", { error: err });
                failing = true;
            }
            const spent = Number(process.hrtime.bigint() - begin) / 1e6;
            if (spent < intervalMs) await sleep(intervalMs - spent);
        }
    })();
    // A read may hang while the client reconnects: the deadline does not wait for it.
    await sleep(seconds * 1000);
    done = true;
    loop.catch(() => {});
    ev("summary", { reads, read_errors: readErrors, states, max_gap_ms: Math.round(maxGapMs), events: { ...ev.counts } });
    ev.mute();
}

async function main() {
    const argv = process.argv.slice(2);
    if (argv.length === 0 || argv[0] === "-h" || argv[0] === "--help") {
        process.stdout.write(USAGE + "\n");
        process.exit(argv.length === 0 ? 1 : 0);
    }
    const cmd = argv[0];
    if (!(cmd in ALLOWED)) throw new UsageError(`unknown subcommand ${cmd}`);
    const { positional, opts } = parseArgs(argv.slice(1));
    for (const k of Object.keys(opts)) {
        if (!ALLOWED[cmd].includes(k) && !COMMON.includes(k)) throw new UsageError(`option ${k} is not valid for ${cmd}`);
    }
    if (positional.length < 1) throw new UsageError(`${cmd} needs a URL`);
    const [url, ...args] = positional;
    if (!/^opc\.tcp:\/\//i.test(url)) throw new UsageError(`not an opc.tcp URL: ${url}`);
    const timeoutMs = intOpt(opts, "--timeout-ms", 15000, 1);

    opcua = await import("node-opcua");
    // Resolve NodeIds early so that a typo is a usage error, not a connection attempt.
    if (cmd === "read" || cmd === "latency" || (cmd === "write" && args.length > 0) || (cmd === "browse" && args.length > 0)) {
        const ids = cmd === "write" ? args.filter((_, i) => i % 3 === 0) : args;
        for (const a of ids) {
            try {
                opcua.resolveNodeId(a);
            } catch (e) {
                throw new UsageError(`bad NodeId ${a}: ${e.message}`);
            }
        }
    }
    if (cmd === "write" && args.length >= 3 && args.length % 3 === 0) {
        for (let i = 0; i < args.length; i += 3) makeVariant(args[i + 1], args[i + 2]);
    }

    const handlers = { read: cmdRead, write: cmdWrite, browse: cmdBrowse, subscribe: cmdSubscribe, latency: cmdLatency, session: cmdSession };
    if (cmd === "session") {
        await cmdSession(url, args, opts);
    } else if (cmd === "subscribe") {
        await withDeadline(connect(url, opts), timeoutMs, "connect");
        await cmdSubscribe(url, args, opts);
    } else {
        await withDeadline(
            (async () => {
                await connect(url, opts);
                await handlers[cmd](url, args, opts);
            })(),
            timeoutMs,
            cmd
        );
    }
}

// process.exit() drops what stdout has not handed to a pipe yet (node writes to pipes
// asynchronously): a large document read slowly by the other end would be cut at 64 KiB.
function exitWhenFlushed(code) {
    if (process.stdout.writableLength === 0) process.exit(code);
    process.stdout.once("drain", () => process.exit(code));
    process.stdout.once("error", () => process.exit(code));
}

let exiting = false;
async function finish(code) {
    if (exiting) return;
    exiting = true;
    const force = setTimeout(() => process.exit(code), 5000);
    force.unref();
    await closeAll();
    clearTimeout(force);
    setTimeout(() => process.exit(code), 30000).unref(); // a reader that never reads
    exitWhenFlushed(code);
}
process.on("SIGINT", () => finish(130));
process.on("SIGTERM", () => finish(143));
process.on("unhandledRejection", (e) => {
    process.stderr.write(`client.js: unhandled rejection: ${e && e.stack ? e.stack : e}\n`);
});

main().then(
    () => finish(0),
    (e) => {
        emit({ error: e && e.message ? e.message.replace(/\s+/g, " ").trim() : String(e) });
        if (e instanceof UsageError) process.stderr.write(USAGE + "\n");
        finish(1);
    }
);
