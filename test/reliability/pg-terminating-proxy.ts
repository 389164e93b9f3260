import { once } from "node:events";
import { createServer, Socket, type Server } from "node:net";

/**
 * A TCP proxy in front of PostgreSQL that plays `pg_terminate_backend`
 * landing right after a statement: once armed, when the server's answer to an
 * INSERT (CommandComplete "INSERT ...", then ReadyForQuery) passes, it sends
 * the client that answer and, in the same write, the FATAL 57P01 a terminated
 * backend sends, then closes both sides (the server session ends, and its
 * advisory locks with it). A real termination can arrive that way, in one
 * TCP read with the statement's result; only a proxy can make it do so on cue.
 */
export class TerminatingPgProxy {
  readonly port: number;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #armed = false;
  /** How many connections it terminated. */
  terminated = 0;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  static async start(targetPort: number): Promise<TerminatingPgProxy> {
    let proxy: TerminatingPgProxy | undefined;
    const server = createServer((client) => proxy!.#accept(client, targetPort));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (typeof address !== "object" || address === null) throw new Error("no port");
    proxy = new TerminatingPgProxy(server, address.port);
    return proxy;
  }

  /** Terminates the next connection on which an INSERT completes. */
  armAfterNextInsert(): void {
    this.#armed = true;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#server.close();
    await once(this.#server, "close");
  }

  #accept(client: Socket, targetPort: number): void {
    const upstream = new Socket();
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
      socket.on("error", () => undefined);
    }
    upstream.connect(targetPort, "127.0.0.1");
    client.on("data", (chunk: Buffer) => upstream.write(chunk));
    const messages = new MessageSplitter();
    let insertDone = false;
    upstream.on("data", (chunk: Buffer) => {
      const out: Buffer[] = [];
      for (const message of messages.push(chunk)) {
        out.push(message);
        const type = String.fromCharCode(message[0]!);
        if (type === "C" && message.subarray(5).toString("utf8").startsWith("INSERT")) insertDone = true;
        if (type === "Z" && insertDone && this.#armed) {
          this.#armed = false;
          this.terminated += 1;
          client.end(Buffer.concat([...out, fatalTermination()]));
          upstream.destroy();
          return;
        }
      }
      client.write(Buffer.concat(out));
    });
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", closeBoth);
    upstream.on("close", () => client.end());
  }
}

/** Splits the server's byte stream into protocol messages (type byte, int32 length, body). */
class MessageSplitter {
  #buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const messages: Buffer[] = [];
    while (this.#buffer.length >= 5) {
      const length = this.#buffer.readInt32BE(1);
      if (this.#buffer.length < 1 + length) break;
      messages.push(this.#buffer.subarray(0, 1 + length));
      this.#buffer = this.#buffer.subarray(1 + length);
    }
    return messages;
  }
}

/** ErrorResponse as PostgreSQL sends it to a backend ended by pg_terminate_backend. */
function fatalTermination(): Buffer {
  const fields = [
    ["S", "FATAL"],
    ["V", "FATAL"],
    ["C", "57P01"],
    ["M", "terminating connection due to administrator command"],
  ];
  const body = Buffer.concat([...fields.map(([code, value]) => Buffer.from(`${code}${value}\0`, "utf8")), Buffer.from([0])]);
  const header = Buffer.alloc(5);
  header.write("E", 0, "latin1");
  header.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([header, body]);
}
