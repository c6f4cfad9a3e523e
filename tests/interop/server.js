#!/usr/bin/env node
// Tandem interop test peer: an OPC UA server built on node-opcua.
//
//   node server.js --port P [--path /sim] [--items N] [--rate-ms R] [--spec FILE.json]
//                  [--min-sampling-ms S] [--service-level V] [options]
//
// Listens on 127.0.0.1 only. stdout carries a small line protocol (see README.md):
//   namespace <index> <uri>
//   endpoint <url>
//   ready <port>
// and one "ok ..." / "error ..." line per stdin command. Everything node-opcua logs goes to
// stderr. Nothing is written to disk: certificates and trust lists live in memory.

import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import readline from "node:readline";

// node-opcua logs through console.log (warnings included): keep stdout for our protocol.
for (const k of ["log", "info", "debug", "warn"]) {
    console[k] = (...a) => console.error(...a);
}

const USAGE = `usage: node server.js --port P [options]
  --port P                TCP port on 127.0.0.1 (0: pick a free one; printed in "ready P")
  --path /sim             resource path of the endpoint URL (default: none -> opc.tcp://127.0.0.1:P)
  --items N               number of Sim.ItemNNNN load variables (default 100)
  --rate-ms R             simulation tick in ms (default 100)
  --min-sampling-ms S     minimumSamplingInterval of every simulated variable and the server's
                          sampling floor (default 10; node-opcua's own floor is 50)
  --min-publish-ms P      fastest publishing interval the server grants (default 50, node-opcua's)
  --spec FILE.json        address space from a JSON spec instead of the built-in one
  --print-spec            print the effective spec (built-in or --spec) as JSON and exit
  --service-level V       initial Server.ServiceLevel, 0..255 (default 255)
  --application-uri URI   server applicationUri = URI of namespace 1 (default urn:tandem:interop:sim)
  --max-sessions N        serverCapabilities.maxSessions (default 100)
  --all-policies          also offer node-opcua's secure policies/modes (default: None only)
  --allow-anonymous-transfer  allow TransferSubscriptions of anonymous sessions on None channels
  --exit-on-stdin-eof     shut down when stdin reaches end of file
stdin commands: service_level V | bad PATH [StatusName] | good PATH | state NAME | stop`;

function fail(msg) {
    process.stderr.write(`server.js: ${msg}\n${USAGE}\n`);
    process.exit(2);
}

function parseArgs(argv) {
    const o = {
        port: null,
        path: "",
        items: 100,
        rateMs: 100,
        minSamplingMs: 10,
        minPublishMs: 50,
        spec: null,
        printSpec: false,
        serviceLevel: 255,
        applicationUri: "urn:tandem:interop:sim",
        maxSessions: 100,
        allPolicies: false,
        allowAnonymousTransfer: false,
        exitOnStdinEof: false
    };
    const num = (name, v, min, max) => {
        const n = Number(v);
        if (v === undefined || !Number.isInteger(n) || n < min || n > max) fail(`${name} needs an integer in [${min}, ${max}]`);
        return n;
    };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const next = () => {
            if (i + 1 >= argv.length) fail(`${a} needs a value`);
            return argv[++i];
        };
        switch (a) {
            case "--port": o.port = num(a, next(), 0, 65535); break;
            case "--path": o.path = next(); break;
            case "--items": o.items = num(a, next(), 0, 10000000); break;
            case "--rate-ms": o.rateMs = num(a, next(), 1, 3600000); break;
            case "--min-sampling-ms": o.minSamplingMs = num(a, next(), 0, 3600000); break;
            case "--min-publish-ms": o.minPublishMs = num(a, next(), 1, 60000); break;
            case "--spec": o.spec = next(); break;
            case "--print-spec": o.printSpec = true; break;
            case "--service-level": o.serviceLevel = num(a, next(), 0, 255); break;
            case "--application-uri": o.applicationUri = next(); break;
            case "--max-sessions": o.maxSessions = num(a, next(), 1, 100000); break;
            case "--all-policies": o.allPolicies = true; break;
            case "--allow-anonymous-transfer": o.allowAnonymousTransfer = true; break;
            case "--exit-on-stdin-eof": o.exitOnStdinEof = true; break;
            case "-h": case "--help": process.stdout.write(USAGE + "\n"); process.exit(0); break;
            default: fail(`unknown argument ${a}`);
        }
    }
    if (o.port === null && !o.printSpec) fail("--port is required");
    if (o.path !== "" && !o.path.startsWith("/")) o.path = "/" + o.path;
    return o;
}

// ---------------------------------------------------------------------------------------------
// Spec: { "rateMs"?: n, "folders": [ Folder ] }
//   Folder   = { "name": s, "folders"?: [Folder], "variables"?: [Variable] }
//   Variable = { "name": s, "type": DataTypeName, "sim"?: "static"|"counter"|"ramp"|"sine"|"toggle"|"item"|"random"|"time",
//                "value"?: initial, "writable"?: bool, "length"?: n (Array of n), "period"?: ticks,
//                "count"?: n (expands to <name>0000..), "width"?: digits, "badWhen"?: "Path.Of.Boolean",
//                "badStatus"?: "BadXxx" }
// NodeId of a node = ns=<own>;s=<folder path>.<name>, folders ns=<own>;s=<folder path>.

function builtInSpec(items) {
    return {
        folders: [
            {
                name: "Sim",
                variables: [
                    { name: "Counter", type: "Int32", sim: "counter" },
                    { name: "Ramp", type: "Double", sim: "ramp", period: 100 },
                    { name: "Sine", type: "Double", sim: "sine", period: 100 },
                    { name: "Heartbeat", type: "Boolean", sim: "toggle" },
                    { name: "Quality", type: "Double", sim: "ramp", period: 100, badWhen: "Sim.ForceBad", badStatus: "Bad" },
                    { name: "ForceBad", type: "Boolean", value: false, writable: true },
                    { name: "Setpoint", type: "Double", value: 0, writable: true },
                    { name: "Text", type: "String", value: "hello", writable: true },
                    { name: "Array", type: "Double", length: 10, sim: "counter" },
                    ...(items > 0 ? [{ name: "Item", type: "Double", sim: "item", count: items }] : [])
                ]
            }
        ]
    };
}

const SIMS = new Set(["static", "counter", "ramp", "sine", "toggle", "item", "random", "time"]);
const TYPES = new Set(["Boolean", "SByte", "Byte", "Int16", "UInt16", "Int32", "UInt32", "Float", "Double", "String", "DateTime"]);

// Flatten a spec into a list of folder and variable descriptors, validating as we go.
function flattenSpec(spec) {
    const folders = []; // {path, name, parentPath}
    const vars = []; // {path, name, parentPath, type, sim, value, writable, length, period, index, width, badWhen, badStatus}
    const seen = new Set();
    const claim = (path, where) => {
        if (seen.has(path)) throw new Error(`duplicate node path ${path} (${where})`);
        seen.add(path);
    };
    const nameOk = (n, where) => {
        if (typeof n !== "string" || n === "" || /[.;]/.test(n)) throw new Error(`${where}: name must be a non-empty string without '.' or ';'`);
    };
    const walkFolder = (f, parentPath) => {
        if (typeof f !== "object" || f === null) throw new Error("folder must be an object");
        nameOk(f.name, `folder under ${parentPath || "Objects"}`);
        const path = parentPath ? `${parentPath}.${f.name}` : f.name;
        claim(path, "folder");
        folders.push({ path, name: f.name, parentPath });
        for (const v of f.variables || []) walkVar(v, path);
        for (const sub of f.folders || []) walkFolder(sub, path);
    };
    const walkVar = (v, parentPath) => {
        const where = `variable ${parentPath}.${v && v.name}`;
        if (typeof v !== "object" || v === null) throw new Error(`${parentPath}: variable must be an object`);
        nameOk(v.name, where);
        const type = v.type || "Double";
        if (!TYPES.has(type)) throw new Error(`${where}: unsupported type ${type} (one of ${[...TYPES].join(", ")})`);
        const sim = v.sim || "static";
        if (!SIMS.has(sim)) throw new Error(`${where}: unknown sim ${sim} (one of ${[...SIMS].join(", ")})`);
        const length = v.length === undefined ? null : v.length;
        if (length !== null && !(Number.isInteger(length) && length >= 0)) throw new Error(`${where}: length must be an integer >= 0`);
        const period = v.period === undefined ? 100 : v.period;
        if (!(Number.isInteger(period) && period >= 1)) throw new Error(`${where}: period must be an integer >= 1`);
        const base = {
            parentPath, type, sim, length, period,
            value: v.value, writable: !!v.writable,
            badWhen: v.badWhen || null, badStatus: v.badStatus || "Bad"
        };
        if (v.count !== undefined) {
            if (!(Number.isInteger(v.count) && v.count >= 0)) throw new Error(`${where}: count must be an integer >= 0`);
            const width = v.width !== undefined ? v.width : Math.max(4, String(Math.max(0, v.count - 1)).length);
            for (let k = 0; k < v.count; k++) {
                const name = v.name + String(k).padStart(width, "0");
                const path = `${parentPath}.${name}`;
                claim(path, "variable");
                vars.push({ ...base, name, path, index: k, width });
            }
        } else {
            const path = `${parentPath}.${v.name}`;
            claim(path, "variable");
            vars.push({ ...base, name: v.name, path, index: 0, width: 0 });
        }
    };
    if (typeof spec !== "object" || spec === null || !Array.isArray(spec.folders)) throw new Error('spec must be an object with a "folders" array');
    for (const f of spec.folders) walkFolder(f, "");
    const byPath = new Map(vars.map((v) => [v.path, v]));
    for (const v of vars) {
        if (v.badWhen) {
            const c = byPath.get(v.badWhen);
            if (!c) throw new Error(`${v.path}: badWhen ${v.badWhen} is not a variable of the spec`);
            if (c.type !== "Boolean" || c.length !== null) throw new Error(`${v.path}: badWhen ${v.badWhen} must be a scalar Boolean`);
        }
    }
    return { folders, vars };
}

async function freePort() {
    return await new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const p = s.address().port;
            s.close(() => resolve(p));
        });
    });
}

async function main() {
    const opt = parseArgs(process.argv.slice(2));
    let spec;
    if (opt.spec) {
        try {
            spec = JSON.parse(fs.readFileSync(opt.spec, "utf8"));
        } catch (e) {
            fail(`cannot read spec ${opt.spec}: ${e.message}`);
        }
        if (spec && Number.isInteger(spec.rateMs) && !process.argv.includes("--rate-ms")) opt.rateMs = spec.rateMs;
    } else {
        spec = builtInSpec(opt.items);
    }
    let flat;
    try {
        flat = flattenSpec(spec);
    } catch (e) {
        fail(`bad spec: ${e.message}`);
    }
    if (opt.printSpec) {
        process.stdout.write(JSON.stringify(spec, null, 2) + "\n");
        return;
    }

    // Signals are handled from here on, also while node-opcua loads and the server starts.
    let server = null;
    let timer = null;
    let stopping = false;
    const stop = async (why, code = 0) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`server.js: stopping (${why})\n`);
        if (timer) clearInterval(timer);
        const force = setTimeout(() => process.exit(code), 5000);
        force.unref();
        try {
            if (server) await server.shutdown(0);
        } catch (e) {
            process.stderr.write(`server.js: shutdown error: ${e.message}\n`);
        }
        process.exit(code);
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));

    const opcua = await import("node-opcua");
    const {
        OPCUAServer, DataType, Variant, VariantArrayType, StatusCodes, SecurityPolicy, MessageSecurityMode,
        InMemoryCertificateKeyPairProvider, InMemoryCertificateStore, ResolvedCertificateKeyPairProvider, ServerState, resolveNodeId, VariableIds
    } = opcua;

    const port = opt.port === 0 ? await freePort() : opt.port;

    // node-opcua clamps every requested samplingInterval to MonitoredItem.minimumSamplingInterval
    // (50 ms) before applying the node's own minimumSamplingInterval: lower that floor too.
    opcua.MonitoredItem.minimumSamplingInterval = Math.max(1, opt.minSamplingMs);
    // Same for publishing intervals (node-opcua's floor is 50 ms).
    opcua.Subscription.minimumPublishingInterval = opt.minPublishMs;

    // In-memory PKI: nothing under $HOME or the working directory.
    const generated = new InMemoryCertificateKeyPairProvider();
    await generated.ensureCertificateExists({
        applicationUri: opt.applicationUri,
        subject: "/CN=Tandem interop server",
        dns: [...new Set(["localhost", os.hostname()])],
        ip: ["127.0.0.1"]
    });
    // node-opcua 2.186.4 quirk: OPCUAServer.createEndpoint() gives each endpoint a fresh
    // DiskCertificateKeyPairProvider (reads "<in-memory>" from disk -> every connection is
    // rejected with "Private key file not found") unless the server's provider is a
    // ResolvedCertificateKeyPairProvider. So wrap the in-memory pair in one.
    class InMemoryResolvedProvider extends ResolvedCertificateKeyPairProvider {
        #chain;
        constructor(chain, key) {
            super("<in-memory>", "<in-memory>", key);
            this.#chain = chain;
        }
        getCertificate() { return this.#chain[0]; }
        getCertificateChain() { return this.#chain; }
        invalidate() {}
    }
    const keyPair = new InMemoryResolvedProvider(generated.getCertificateChain(), generated.getPrivateKey());

    const statusOf = (name) => {
        const sc = StatusCodes[name];
        if (!sc || typeof sc.value !== "number") throw new Error(`unknown StatusCode ${name}`);
        return sc;
    };
    for (const v of flat.vars) {
        try {
            v.badStatusCode = statusOf(v.badStatus);
        } catch (e) {
            fail(`bad spec: ${v.path}: ${e.message}`);
        }
    }

    server = new OPCUAServer({
        port,
        host: "127.0.0.1",
        hostname: "127.0.0.1",
        resourcePath: opt.path,
        // One endpoint, None/None. Basic256Sha256 is listed only so that node-opcua offers a
        // UserName token policy on that endpoint (password encrypted with the server certificate,
        // policyId "username_basic256Sha256"); with modes = [None] it adds no endpoint.
        ...(opt.allPolicies
            ? {}
            : { securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256], securityModes: [MessageSecurityMode.None] }),
        allowAnonymous: true,
        allowAnonymousSubscriptionTransferOnUnsecuredChannel: opt.allowAnonymousTransfer,
        userManager: { isValidUser: (user, password) => user === "op1" && password === "secret1" },
        serverCertificateManager: new InMemoryCertificateStore({ autoAcceptUnknown: true }),
        userCertificateManager: new InMemoryCertificateStore({ autoAcceptUnknown: true }),
        certificateKeyPairProvider: keyPair,
        serverInfo: {
            applicationUri: opt.applicationUri,
            productUri: "urn:tandem:interop:server",
            applicationName: { text: "Tandem interop test server", locale: "en" }
        },
        buildInfo: { productName: "Tandem interop test server (node-opcua)" },
        serverCapabilities: { maxSessions: opt.maxSessions }
    });
    await server.initialize();

    const addressSpace = server.engine.addressSpace;
    const ns = addressSpace.getOwnNamespace();
    const nodeIdOf = (path) => `ns=${ns.index};s=${path}`;

    // ---- build the address space
    const folderNodes = new Map();
    for (const f of flat.folders) {
        const parent = f.parentPath ? folderNodes.get(f.parentPath) : addressSpace.rootFolder.objects;
        folderNodes.set(f.path, ns.addFolder(parent, { browseName: f.name, nodeId: nodeIdOf(f.path) }));
    }

    const dataTypeOf = (t) => DataType[t];
    const coerceScalar = (type, x) => {
        switch (type) {
            case "Boolean": return typeof x === "boolean" ? x : Math.floor(Number(x)) % 2 !== 0;
            case "SByte": return ((Math.trunc(x) % 256) + 384) % 256 - 128;
            case "Byte": return ((Math.trunc(x) % 256) + 256) % 256;
            case "Int16": return ((Math.trunc(x) % 65536) + 98304) % 65536 - 32768;
            case "UInt16": return ((Math.trunc(x) % 65536) + 65536) % 65536;
            case "Int32": return Math.trunc(x) | 0;
            case "UInt32": return Math.trunc(x) >>> 0;
            case "Float": return Math.fround(Number(x));
            case "Double": return Number(x);
            case "String": return String(x);
            case "DateTime": return x instanceof Date ? x : new Date(Number(x));
            default: throw new Error(`type ${type}`);
        }
    };
    const defaultOf = (type) => (type === "Boolean" ? false : type === "String" ? "" : type === "DateTime" ? new Date(0) : 0);
    // Simulated raw value at tick n (before coercion to the variable's type).
    const simValue = (v, n, now) => {
        switch (v.sim) {
            case "counter": return v.type === "Boolean" ? n % 2 === 1 : n;
            case "ramp": return n % v.period;
            case "sine": return Math.sin((2 * Math.PI * (n % v.period)) / v.period);
            case "toggle": return n % 2 === 1;
            case "item": return v.width ? n * 10 ** v.width + v.index : n;
            case "random": return Math.random();
            case "time": return now;
            default: return undefined;
        }
    };
    const typedArrayOf = { Float: Float32Array, Double: Float64Array, SByte: Int8Array, Byte: Uint8Array, Int16: Int16Array, UInt16: Uint16Array, Int32: Int32Array, UInt32: Uint32Array };
    const makeVariant = (v, raw) => {
        const dataType = dataTypeOf(v.type);
        if (v.length === null) return new Variant({ dataType, value: coerceScalar(v.type, raw) });
        let arr;
        if (Array.isArray(raw)) {
            arr = raw.map((x) => coerceScalar(v.type, x));
        } else {
            arr = [];
            for (let i = 0; i < v.length; i++) {
                arr.push(coerceScalar(v.type, typeof raw === "number" ? raw + i : raw));
            }
        }
        const TA = typedArrayOf[v.type];
        return new Variant({ dataType, arrayType: VariantArrayType.Array, value: TA ? TA.from(arr) : arr });
    };
    const initialRaw = (v) => {
        if (v.value !== undefined) {
            if (v.type === "DateTime") return Array.isArray(v.value) ? v.value.map((x) => new Date(x)) : new Date(v.value);
            return v.value;
        }
        const s = simValue(v, 0, new Date());
        return s === undefined ? defaultOf(v.type) : s;
    };

    const t0 = new Date();
    for (const v of flat.vars) {
        const access = v.writable ? "CurrentRead | CurrentWrite" : "CurrentRead";
        v.node = ns.addVariable({
            organizedBy: folderNodes.get(v.parentPath),
            browseName: v.name,
            nodeId: nodeIdOf(v.path),
            dataType: v.type,
            valueRank: v.length === null ? -1 : 1,
            arrayDimensions: v.length === null ? null : [v.length],
            accessLevel: access,
            userAccessLevel: access,
            minimumSamplingInterval: opt.minSamplingMs
        });
        v.forced = null; // StatusCode forced by the stdin "bad" command
        v.node.setValueFromSource(makeVariant(v, initialRaw(v)), StatusCodes.Good, t0);
    }
    const byPath = new Map(flat.vars.map((v) => [v.path, v]));
    const ticking = flat.vars.filter((v) => v.sim !== "static");
    const dependents = new Map(); // controlling path -> [variables with badWhen = path]
    for (const v of flat.vars) {
        if (v.badWhen) {
            if (!dependents.has(v.badWhen)) dependents.set(v.badWhen, []);
            dependents.get(v.badWhen).push(v);
        }
    }
    const currentStatus = (v) => {
        if (v.forced) return v.forced;
        if (v.badWhen) {
            const c = byPath.get(v.badWhen);
            if (c.node.readValue().value.value === true) return v.badStatusCode;
        }
        return StatusCodes.Good;
    };
    // Re-publish a variable's current value with its current status (for status-only changes).
    const republish = (v, now) => {
        const dv = v.node.readValue();
        const status = currentStatus(v);
        if (dv.statusCode.value === status.value) return;
        v.node.setValueFromSource(dv.value, status, now || new Date());
    };
    for (const [path, list] of dependents) {
        byPath.get(path).node.on("value_changed", () => {
            const now = new Date();
            for (const d of list) republish(d, now);
        });
    }

    // ---- ServiceLevel: replace node-opcua's constant 255 by a value the test controls.
    const serviceLevelNode = addressSpace.findNode(resolveNodeId(VariableIds.Server_ServiceLevel));
    let serviceLevel = opt.serviceLevel;
    serviceLevelNode.bindVariable({ get: () => new Variant({ dataType: DataType.Byte, value: serviceLevel }) }, true);
    serviceLevelNode.minimumSamplingInterval = Math.max(opt.minSamplingMs, 1);

    // ---- simulation tick
    let n = 0;
    timer = setInterval(() => {
        n += 1;
        const now = new Date();
        for (const v of ticking) {
            v.node.setValueFromSource(makeVariant(v, simValue(v, n, now)), currentStatus(v), now);
        }
    }, opt.rateMs);

    await server.start();

    const out = (line) => process.stdout.write(line + "\n");
    out(`namespace ${ns.index} ${ns.namespaceUri}`);
    out(`endpoint ${server.getEndpointUrl()}`);
    out(`ready ${port}`);

    // ---- stdin commands
    const rl = readline.createInterface({ input: process.stdin, terminal: false });
    rl.on("line", (raw) => {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) return;
        const [cmd, ...args] = line.split(/\s+/);
        try {
            switch (cmd) {
                case "service_level": {
                    const v = Number(args[0]);
                    if (!Number.isInteger(v) || v < 0 || v > 255) throw new Error("service_level needs 0..255");
                    serviceLevel = v;
                    serviceLevelNode.touchValue && serviceLevelNode.touchValue();
                    break;
                }
                case "bad":
                case "good": {
                    const v = byPath.get(args[0]);
                    if (!v) throw new Error(`unknown variable ${args[0]}`);
                    v.forced = cmd === "bad" ? statusOf(args[1] || "Bad") : null;
                    republish(v);
                    break;
                }
                case "state": {
                    const s = ServerState[args[0]];
                    if (typeof s !== "number") throw new Error(`unknown ServerState ${args[0]}`);
                    server.engine.setServerState(s);
                    break;
                }
                case "stop":
                    out("ok stop");
                    stop("stdin stop");
                    return;
                default:
                    throw new Error(`unknown command ${cmd}`);
            }
            out(`ok ${line}`);
        } catch (e) {
            out(`error ${e.message}`);
        }
    });
    rl.on("close", () => {
        if (opt.exitOnStdinEof) stop("stdin closed");
    });
}

main().catch((e) => {
    process.stderr.write(`server.js: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
});
