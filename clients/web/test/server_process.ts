// The real mediation-server binary as a child process for a test: started on a fresh database in
// a temporary directory, on any free ports, and stopped with SIGTERM. The server never outlives
// the test process.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

// The lines the server logs on stderr once each listener is bound.
const kGrpcServing = /serving ppa\.mediation\.v1 on port (\d+)/;
const kHttpServing = /serving HTTP \(Connect\) on port (\d+)/;
// How much of the server's log a start-up failure quotes.
const kLogTailLines = 40;

export interface ServerProcessOptions {
  // The mediation-server binary.
  binary: string;
  // How long to wait for both "serving ..." lines.
  startTimeoutMs: number;
  // More flags for the server (e.g. --web_root).
  extraArgs?: string[];
}

export class ServerProcess {
  // The ports the server reports, known once start() resolves.
  grpcPort = 0;
  httpPort = 0;
  // Everything the server wrote on stderr so far, line by line.
  readonly log: string[] = [];

  private readonly dir: string;
  private child: ChildProcess | undefined;

  constructor(private readonly options: ServerProcessOptions) {
    this.dir = mkdtempSync(join(tmpdir(), "connect-node-"));
  }

  // The database directory: mediation.db, admin.token and master.key live here.
  get directory(): string {
    return this.dir;
  }

  // Starts the server on a new database (its first start) and resolves once both listeners are
  // serving. Rejects, with the server's log, when it exits first or a line is missing after
  // startTimeoutMs; call stop() either way.
  start(): Promise<void> {
    const child = spawn(
      this.options.binary,
      [
        `--db=${join(this.dir, "mediation.db")}`,
        "--listen=127.0.0.1:0",
        "--http_listen=127.0.0.1:0",
        ...(this.options.extraArgs ?? []),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    this.child = child;
    // If the test process ends without stop() (a crash), take the server down with it.
    process.once("exit", () => this.kill("SIGKILL"));

    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.off("exit", onExit);
        child.off("error", onError);
        if (error) reject(error);
        else resolve();
      };
      const failure = (why: string) => {
        const missing = [
          this.grpcPort === 0 ? "'serving ppa.mediation.v1 on port <N>'" : "",
          this.httpPort === 0 ? "'serving HTTP (Connect) on port <N>'" : "",
        ].filter(Boolean);
        return new Error(
          `${why}; still missing on its stderr: ${missing.join(" and ")}\n` +
            `server log (${this.options.binary}, last ${kLogTailLines} lines):\n` +
            this.log.slice(-kLogTailLines).map((l) => `  ${l}`).join("\n"),
        );
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        settle(failure(`the server exited (${signal ?? `exit code ${code}`}) before serving`));
      const onError = (error: Error) => settle(failure(`cannot run the server: ${error.message}`));
      const timer = setTimeout(
        () => settle(failure(`the server did not serve within ${this.options.startTimeoutMs} ms`)),
        this.options.startTimeoutMs,
      );
      child.once("exit", onExit);
      child.once("error", onError);

      // Read stderr for the server's whole life: a pipe nobody drains would block its logging.
      createInterface({ input: child.stderr! }).on("line", (line) => {
        this.log.push(line);
        const grpc = kGrpcServing.exec(line);
        if (grpc) this.grpcPort = Number(grpc[1]);
        const http = kHttpServing.exec(line);
        if (http) this.httpPort = Number(http[1]);
        if (this.grpcPort !== 0 && this.httpPort !== 0) settle();
      });
    });
  }

  // The first ADMIN token's secret, which the server writes beside the database on first start.
  adminToken(): string {
    return readFileSync(join(this.dir, "admin.token"), "utf8").trim();
  }

  // Sends SIGTERM and waits for the server to exit, then removes the temporary directory.
  // Resolves with the exit code (null when a signal ended it). After exitTimeoutMs without an
  // exit, kills it with SIGKILL and rejects.
  async stop(exitTimeoutMs: number): Promise<number | null> {
    try {
      const child = this.child;
      if (child === undefined || child.pid === undefined) return null; // never started
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), exitTimeoutMs);
      });
      const result = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (result === "timeout") {
        child.kill("SIGKILL");
        await exited;
        throw new Error(`the server did not exit within ${exitTimeoutMs} ms of SIGTERM; killed`);
      }
      return result;
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private kill(signal: NodeJS.Signals): void {
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
    }
  }
}
