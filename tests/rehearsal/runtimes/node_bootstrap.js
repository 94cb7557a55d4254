// The Node.js Lambda runtime of the rehearsal: one function's code and the AWS SDK v3 the Lambda runtime provides
// (NODE_PATH), nothing else. Host names resolve through the rehearsal's routes only: TLS and TCP connections to a
// routed name go to its loopback address, keeping the name for SNI and certificate checks; any other name fails.
// The handler is loaded once (init), then invocations are read from one pipe and answered on another
// (_REHEARSAL_FDS), one JSON document a line.
"use strict";
const fs = require("fs");
const net = require("net");
const path = require("path");
const readline = require("readline");
const tls = require("tls");

const [taskRoot] = process.argv.slice(2);
const routes = JSON.parse(process.env._REHEARSAL_ROUTES);
delete process.env._REHEARSAL_ROUTES;
const [requestsFd, responsesFd] = process.env._REHEARSAL_FDS.split(",").map(Number);
delete process.env._REHEARSAL_FDS;

function matches(pattern, host) {
  if (pattern.startsWith("*.")) {
    const suffix = pattern.slice(1);
    return host.endsWith(suffix) && !host.slice(0, -suffix.length).includes(".");
  }
  return host === pattern;
}

function route(options) {
  const host = String(options.host || options.hostname || "localhost").toLowerCase();
  if (net.isIP(host)) return options;
  for (const [pattern, ip, port] of routes) {
    if (matches(pattern, host)) return { ...options, host: ip, hostname: ip, port, servername: options.servername || host };
  }
  const error = new Error(`getaddrinfo ENOTFOUND ${host} (not a host of the rehearsal's network)`);
  error.code = "ENOTFOUND";
  throw error;
}

function normalize(args) {
  if (typeof args[0] === "object" && args[0] !== null) return [args[0], args.slice(1)];
  const [port, host, ...rest] = args;
  const options = typeof host === "string" ? { port, host } : { port };
  return [options, typeof host === "string" ? rest : args.slice(1)];
}

const tlsConnect = tls.connect;
tls.connect = function (...args) {
  const [options, rest] = normalize(args);
  return tlsConnect.call(this, route(options), ...rest.filter((x) => typeof x === "function"));
};
const netConnect = net.connect;
net.connect = net.createConnection = function (...args) {
  const [options, rest] = normalize(args);
  if (options.path) return netConnect.call(this, options, ...rest);
  return netConnect.call(this, route(options), ...rest.filter((x) => typeof x === "function"));
};

function errorOf(error) {
  return {
    errorType: (error && error.name) || "Error",
    errorMessage: (error && error.message) || String(error),
    trace: String((error && error.stack) || "").split("\n"),
  };
}

async function main() {
  const handlerName = process.env._HANDLER;
  const dot = handlerName.lastIndexOf(".");
  let handler;
  let initError;
  try {
    handler = require(path.join(taskRoot, handlerName.slice(0, dot)))[handlerName.slice(dot + 1)];
    if (typeof handler !== "function") throw new Error(`${handlerName} is not a function`);
  } catch (error) {
    initError = { ...errorOf(error), errorType: `Runtime.ImportModuleError: ${errorOf(error).errorType}` };
  }
  const responses = fs.createWriteStream(null, { fd: responsesFd });
  const requests = readline.createInterface({ input: fs.createReadStream(null, { fd: requestsFd }) });
  for await (const line of requests) {
    const request = JSON.parse(line);
    if (initError) {
      responses.write(JSON.stringify({ error: initError }) + "\n");
      continue;
    }
    const deadline = Date.now() + request.timeout_ms;
    const context = {
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      invokedFunctionArn: request.function_arn,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      awsRequestId: request.request_id,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    try {
      const result = await handler(request.event, context);
      responses.write(JSON.stringify({ result: result === undefined ? null : result }) + "\n");
    } catch (error) {
      responses.write(JSON.stringify({ error: errorOf(error) }) + "\n");
    }
  }
}

main();
