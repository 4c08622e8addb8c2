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
async function postJson(path: string, body: object): Promise<{ code?: string; message?: string } | undefined> {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.ok) return undefined;
  const refusal = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
  return { code: refusal.code, message: refusal.message ?? `The server answered ${response.status}` };
}

// Signs in with an access token; the server's refusal, if any.
export async function signIn(token: string): Promise<string | undefined> {
  return (await postJson("/auth/sign-in", { token }))?.message;
}

// Signs a party in with the code of a one-time sign-in link; the server's refusal (its Connect
// code, e.g. "failed_precondition", and message), if any.
export async function signInWithLink(code: string): Promise<{ code?: string; message?: string } | undefined> {
  return postJson("/auth/party-link", { code });
}

export async function signOut(): Promise<void> {
  await fetch("/auth/sign-out", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: "{}",
  });
}

// What the sign-in page says when the session is found gone, from a flag saying that this tab
// signed in and how (nothing about who); the flag is then forgotten. A party signed in by a
// one-time link has no token to sign in with again.
export function sessionGoneMessage(): string {
  const flag = sessionStorage.getItem("signed-in");
  sessionStorage.removeItem("signed-in");
  if (flag === "party") return "Your session has ended. To sign in again, ask the case support team for a new sign-in link.";
  return flag ? "Your session has ended. Sign in to continue." : "Sign in to continue.";
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
