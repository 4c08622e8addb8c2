// A Connect transport to the server under test, for the tests' own calls (setting up data,
// checking what a page did): HTTP/1.1, JSON (application/json) unless binary, which uses
// application/proto; with a secret, each call carries it as a bearer token.
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";

function bearer(secret: string): Interceptor {
  return (next) => (request) => {
    request.header.set("Authorization", `Bearer ${secret}`);
    return next(request);
  };
}

export function connectTransport(
  baseUrl: string,
  secret?: string,
  options: { binary?: boolean; timeoutMs?: number } = {},
): Transport {
  return createConnectTransport({
    baseUrl,
    httpVersion: "1.1",
    useBinaryFormat: options.binary ?? false,
    interceptors: secret === undefined ? [] : [bearer(secret)],
    defaultTimeoutMs: options.timeoutMs ?? 10_000,
  });
}
