// The API, through the clients generated from proto/ and the browser session's cookie (sent by
// the browser; the page never sees a token after sign-in).
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import type { DescService } from "@bufbuild/protobuf";

const transport = createConnectTransport({ baseUrl: window.location.origin });

export function client<T extends DescService>(service: T): Client<T> {
  return createClient(service, transport);
}

// Sign-in and sign-out are the server's session endpoints, not RPCs.
export async function signIn(token: string): Promise<string | undefined> {
  const response = await fetch("/auth/sign-in", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token }),
  });
  if (response.ok) return undefined;
  const body = (await response.json().catch(() => ({}))) as { message?: string };
  return body.message ?? `The server answered ${response.status}`;
}

export async function signOut(): Promise<void> {
  await fetch("/auth/sign-out", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: "{}",
  });
}

// Whether `error` means the session is gone (expired, signed out or revoked).
export function isSignedOut(error: unknown): boolean {
  return error instanceof ConnectError && error.code === Code.Unauthenticated;
}

// The server's own words for a refusal.
export function messageOf(error: unknown): string {
  if (error instanceof ConnectError) return error.rawMessage;
  return error instanceof Error ? error.message : String(error);
}
